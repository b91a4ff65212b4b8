"""``percentage``: ``rate`` percent of a summed amount, plus ``fixed_fee`` per event.

The meter sums an amount property (a transaction's value, energy sold to the
grid in money). The first ``free_events`` events by ``(timestamp, id)`` are
exempt from both the percentage and the per-event fee.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar, Self

from iotbill.domain.fields import FieldReader
from iotbill.domain.pricing.base import Detail, Rating, Usage
from iotbill.domain.quantities import exact_sum, from_scaled

HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class Percentage:
    rate: Decimal
    fixed_fee: Decimal = Decimal(0)
    free_events: int = 0
    name: ClassVar[str] = "percentage"
    fields: ClassVar[tuple[str, ...]] = ("rate", "fixed_fee", "free_events")

    @property
    def amount_property(self) -> str | None:
        return None

    def price(self, usage: Usage) -> Rating:
        values = usage.event_values
        charged = values[self.free_events :]
        base = from_scaled(exact_sum(charged))
        events = Decimal(int(charged.size))
        share = base * self.rate / HUNDRED
        details = []
        exempt = min(self.free_events, int(values.size))
        if exempt:
            details.append(
                Detail("free_events", Decimal(0), units=Decimal(exempt), note="exempt events")
            )
        details.append(Detail("percentage", share, units=base, rate=self.rate))
        if self.fixed_fee:
            fees = events * self.fixed_fee
            details.append(Detail("event_fees", fees, units=events, unit_price=self.fixed_fee))
        else:
            fees = Decimal(0)
        return Rating(share + fees, None, tuple(details))

    @classmethod
    def parse(cls, reader: FieldReader) -> Self | None:
        rate = reader.decimal("rate")
        if rate is not None and rate > HUNDRED:
            reader.problems.add(reader.path("rate"), f"is a percentage: at most 100, not {rate}")
            rate = None
        fixed_fee = reader.decimal("fixed_fee", required=False, default=Decimal(0))
        free_events = reader.integer("free_events")
        if rate is None or fixed_fee is None or free_events is None:
            return None
        return cls(rate, fixed_fee, free_events)
