"""``per_unit``: every unit at ``unit_price``."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar, Self

from iotbill.domain.fields import FieldReader
from iotbill.domain.pricing.base import Detail, Rating, Usage


@dataclass(frozen=True, slots=True)
class PerUnit:
    """``quantity x unit_price``.

    >>> PerUnit(Decimal("0.25")).price(Usage(Decimal("12.5"))).amount
    Decimal('3.125')
    """

    unit_price: Decimal
    name: ClassVar[str] = "per_unit"
    fields: ClassVar[tuple[str, ...]] = ("unit_price",)
    reads_events: ClassVar[bool] = False

    @property
    def amount_property(self) -> str | None:
        return None

    def price(self, usage: Usage) -> Rating:
        amount = usage.quantity * self.unit_price
        detail = Detail("units", amount, units=usage.quantity, unit_price=self.unit_price)
        return Rating(amount, self.unit_price, (detail,))

    @classmethod
    def parse(cls, reader: FieldReader) -> Self | None:
        unit_price = reader.decimal("unit_price")
        return None if unit_price is None else cls(unit_price)
