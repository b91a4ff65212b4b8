"""``graduated_percentage``: each tier's part of a summed amount at that tier's rate, plus
each entered tier's flat fee.

For fees on money that grow less steep, or steeper, as the period's volume grows (a
payment provider's share of a till's takings). The meter sums an amount; its total is
cut into the tiers as ``graduated`` cuts a quantity: tier *n* takes the part above
tier *n-1*'s ``up_to`` up to its own (inclusive), at its ``rate`` percent, and adds its
``flat_fee`` once entered. A total of zero enters no tier and costs nothing (a
percentage of nothing is nothing, flat fees included); a negative total (refunds
beyond the sales) is a credit at the first tier's rate, with no flat fee.

Worked example (docs/plans.md): 1 % up to 1,000 with a flat fee of 200, 2 % up to
10,000 with 300, 3 % above with 400. A total of 5,050: 1 % of 1,000 + 200, then 2 % of
4,050 + 300: 10 + 200 + 81 + 300 = 591.

>>> from iotbill.domain.pricing.tiers import Tier
>>> model = GraduatedPercentage((Tier(Decimal(1000), Decimal(1), Decimal(200)),
...     Tier(Decimal(10000), Decimal(2), Decimal(300)), Tier(None, Decimal(3), Decimal(400))))
>>> model.price(Usage(Decimal(5050))).amount
Decimal('591')
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar, Self

from iotbill.domain.fields import FieldReader
from iotbill.domain.pricing.base import HUNDRED, Detail, Rating, Usage
from iotbill.domain.pricing.tiers import Tier, graduated_parts, parse_tiers


@dataclass(frozen=True, slots=True)
class GraduatedPercentage:
    tiers: tuple[Tier, ...]
    """Each tier's ``unit_price`` is its rate, in percent of the amount."""
    name: ClassVar[str] = "graduated_percentage"
    fields: ClassVar[tuple[str, ...]] = ("tiers",)
    reads_events: ClassVar[bool] = False

    @property
    def amount_property(self) -> str | None:
        return None

    def price(self, usage: Usage) -> Rating:
        total = usage.quantity
        details: list[Detail] = []
        for number, tier, lower, units in graduated_parts(self.tiers, total) if total else []:
            flat_fee = Decimal(0) if total < 0 else tier.flat_fee  # none on refunds
            details.append(
                Detail(
                    "tier",
                    units * tier.unit_price / HUNDRED + flat_fee,
                    units=units,
                    rate=tier.unit_price,
                    tier=number,
                    lower=lower,
                    up_to=tier.up_to,
                    flat_fee=flat_fee,
                )
            )
        amount = sum((detail.amount for detail in details), Decimal(0))
        return Rating(amount, None, tuple(details))

    @classmethod
    def parse(cls, reader: FieldReader) -> Self | None:
        tiers = parse_tiers(reader, price="rate")
        return None if tiers is None else cls(tiers)
