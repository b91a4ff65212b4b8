"""``volume``: all units at the price of the tier the total falls in, plus its flat fee.

Zero usage falls in the first tier. A quantity equal to a tier's ``up_to``
falls in that tier (bounds are inclusive).

>>> from decimal import Decimal
>>> from iotbill.domain.pricing.tiers import Tier
>>> model = Volume((Tier(Decimal(100), Decimal("0.50")), Tier(None, Decimal("0.30"))))
>>> model.price(Usage(Decimal(150))).amount
Decimal('45.00')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

from iotbill.domain.fields import FieldReader
from iotbill.domain.pricing.base import Detail, Rating, Usage
from iotbill.domain.pricing.tiers import Tier, lower_bounds, parse_tiers


@dataclass(frozen=True, slots=True)
class Volume:
    tiers: tuple[Tier, ...]
    name: ClassVar[str] = "volume"
    fields: ClassVar[tuple[str, ...]] = ("tiers",)
    reads_events: ClassVar[bool] = False

    @property
    def amount_property(self) -> str | None:
        return None

    def price(self, usage: Usage) -> Rating:
        quantity = usage.quantity
        bounds = lower_bounds(self.tiers)
        number = next(
            index
            for index, tier in enumerate(self.tiers, start=1)
            if tier.up_to is None or quantity <= tier.up_to
        )
        tier = self.tiers[number - 1]
        amount = quantity * tier.unit_price + tier.flat_fee
        detail = Detail(
            "tier",
            amount,
            units=quantity,
            unit_price=tier.unit_price,
            tier=number,
            lower=bounds[number - 1],
            up_to=tier.up_to,
            flat_fee=tier.flat_fee,
        )
        return Rating(amount, None, (detail,))

    @classmethod
    def parse(cls, reader: FieldReader) -> Self | None:
        tiers = parse_tiers(reader)
        return None if tiers is None else cls(tiers)
