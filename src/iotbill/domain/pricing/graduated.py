"""``graduated``: each tier's units at that tier's price, plus each entered tier's flat fee.

Tier *n* is entered when the quantity exceeds tier *n-1*'s ``up_to``; the first
tier is always entered, so its flat fee applies even at zero usage. A negative
quantity (net metering) falls entirely in the first tier.

>>> from iotbill.domain.pricing.tiers import Tier
>>> model = Graduated((Tier(Decimal(100), Decimal("0.50")), Tier(None, Decimal("0.30"))))
>>> model.price(Usage(Decimal(150))).amount
Decimal('65.00')
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar, Self

from iotbill.domain.fields import FieldReader
from iotbill.domain.pricing.base import Detail, Rating, Usage
from iotbill.domain.pricing.tiers import Tier, graduated_parts, parse_tiers


@dataclass(frozen=True, slots=True)
class Graduated:
    tiers: tuple[Tier, ...]
    name: ClassVar[str] = "graduated"
    fields: ClassVar[tuple[str, ...]] = ("tiers",)
    reads_events: ClassVar[bool] = False

    @property
    def amount_property(self) -> str | None:
        return None

    def price(self, usage: Usage) -> Rating:
        details = [
            Detail(
                "tier",
                units * tier.unit_price + tier.flat_fee,
                units=units,
                unit_price=tier.unit_price,
                tier=number,
                lower=lower,
                up_to=tier.up_to,
                flat_fee=tier.flat_fee,
            )
            for number, tier, lower, units in graduated_parts(self.tiers, usage.quantity)
        ]
        total = sum((detail.amount for detail in details), Decimal(0))
        return Rating(total, None, tuple(details))

    @classmethod
    def parse(cls, reader: FieldReader) -> Self | None:
        tiers = parse_tiers(reader)
        return None if tiers is None else cls(tiers)
