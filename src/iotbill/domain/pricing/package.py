"""``package``: ``price`` per started block of ``package_size`` units, after ``free_units``.

With ``round: down``, per whole block only (a quantity divided by a size and rounded
down, as some catalogs write it). Blocks are counted exactly, however many.

>>> Package(Decimal(100), Decimal(5), Decimal(0)).price(Usage(Decimal(250))).amount
Decimal('15')
>>> Package(Decimal(100), Decimal(5), Decimal(0), "down").price(Usage(Decimal(250))).amount
Decimal('10')
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import ClassVar, Literal, Self

from iotbill.domain.fields import FieldReader
from iotbill.domain.pricing.base import Detail, Rating, Usage

Rounding = Literal["up", "down"]
ROUNDINGS: tuple[Rounding, ...] = ("up", "down")


@dataclass(frozen=True, slots=True)
class Package:
    package_size: Decimal
    price_per_package: Decimal
    free_units: Decimal = Decimal(0)
    round: Rounding = "up"
    name: ClassVar[str] = "package"
    fields: ClassVar[tuple[str, ...]] = ("package_size", "price", "free_units", "round")
    reads_events: ClassVar[bool] = False

    @property
    def amount_property(self) -> str | None:
        return None

    def price(self, usage: Usage) -> Rating:
        billable = max(usage.quantity - self.free_units, Decimal(0))
        blocks = Fraction(billable) / Fraction(self.package_size)  # exact, however many
        packages = Decimal(math.ceil(blocks) if self.round == "up" else math.floor(blocks))
        amount = packages * self.price_per_package
        counted = "started" if self.round == "up" else "whole"
        details = [
            Detail(
                "packages",
                amount,
                units=packages,
                unit_price=self.price_per_package,
                note=f"{packages} {counted} package(s) of {self.package_size} units",
            )
        ]
        if self.free_units:
            free = min(usage.quantity, self.free_units) if usage.quantity > 0 else Decimal(0)
            details.insert(0, Detail("free_units", Decimal(0), units=free))
        return Rating(amount, self.price_per_package, tuple(details))

    @classmethod
    def parse(cls, reader: FieldReader) -> Self | None:
        size = reader.decimal("package_size", positive=True)
        price = reader.decimal("price")
        free_units = reader.decimal("free_units", required=False, default=Decimal(0))
        rounding = reader.choice("round", ROUNDINGS, default="up")
        if size is None or price is None or free_units is None or rounding is None:
            return None
        return cls(size, price, free_units, "down" if rounding == "down" else "up")
