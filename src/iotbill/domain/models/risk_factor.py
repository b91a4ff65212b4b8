"""A risk factor: a charge's price multiplied by a factor read from a table by a ratio.

Pay-per-mile insurance prices a mile by how the car is driven: the ratio of
two meters over the same period, say harsh-braking events per 100 miles, picks
a row of a table, and the row's factor multiplies the charge's price.

    ratio = events x per / exposure

A row covers the ratios above the previous row's ``up_to`` up to its own
(inclusive), as a price tier does; the first row starts at 0 and the last has
``up_to: None`` (unlimited). Bounds ascend strictly. A period without exposure
(no miles) has a ratio of 0. The comparison is exact: ``events x per <=
up_to x exposure``, so a ratio that never ends (2 events in 3 miles) is never
rounded into the wrong row.

>>> table = (RiskBand(Decimal(1), Decimal("0.90")), RiskBand(Decimal(4), Decimal("1.00")),
...          RiskBand(None, Decimal("1.30")))
>>> risk = RiskFactor("harsh_brakes", "miles", Decimal(100), table)
>>> risk.band(Decimal(6), Decimal(500))  # 1.2 per 100 miles: the second row
(2, RiskBand(up_to=Decimal('4'), factor=Decimal('1.00')))
>>> risk.band(Decimal(30), Decimal(500))[1].factor  # 6 per 100 miles
Decimal('1.30')
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class RiskBand:
    """The ratios up to ``up_to`` (inclusive; ``None``: unlimited) are priced at ``factor``."""

    up_to: Decimal | None
    factor: Decimal


@dataclass(frozen=True, slots=True)
class RiskFactor:
    """``events`` per ``per`` of ``exposure`` (two meters' codes) looked up in ``table``."""

    events: str
    exposure: str
    per: Decimal
    table: tuple[RiskBand, ...]

    def band(self, events: Decimal, exposure: Decimal) -> tuple[int, RiskBand]:
        """The row (numbered from 1) whose ratios include ``events`` per ``per`` ``exposure``."""
        scaled = events * self.per if exposure > 0 else Decimal(0)
        base = exposure if exposure > 0 else Decimal(1)
        for number, row in enumerate(self.table, start=1):
            if row.up_to is None or scaled <= row.up_to * base:
                return number, row
        raise AssertionError("a parsed table ends with an unlimited row")

    def ratio_text(self, events: Decimal, exposure: Decimal) -> str:
        """The ratio as shown on an invoice, to four decimals (it may not end)."""
        if exposure <= 0:
            return "0"
        return f"{(events * self.per / exposure).quantize(Decimal('0.0001')).normalize():f}"
