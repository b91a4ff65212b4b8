"""``flat``: a fixed amount for the period, whatever the usage."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar, Self

from iotbill.domain.fields import FieldReader
from iotbill.domain.pricing.base import Detail, Rating, Usage


@dataclass(frozen=True, slots=True)
class Flat:
    """``amount`` once per period.

    >>> Flat(Decimal("9.90")).price(Usage(Decimal(0))).amount
    Decimal('9.90')
    """

    amount: Decimal
    name: ClassVar[str] = "flat"
    fields: ClassVar[tuple[str, ...]] = ("amount",)
    reads_events: ClassVar[bool] = False

    @property
    def amount_property(self) -> str | None:
        return None

    def price(self, usage: Usage) -> Rating:
        return Rating(self.amount, self.amount, (Detail("flat", self.amount),))

    @classmethod
    def parse(cls, reader: FieldReader) -> Self | None:
        amount = reader.decimal("amount")
        return None if amount is None else cls(amount)
