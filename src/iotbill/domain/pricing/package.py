"""``package``: ``price`` per started block of ``package_size`` units, after ``free_units``.

>>> Package(Decimal(100), Decimal(5), Decimal(0)).price(Usage(Decimal(250))).amount
Decimal('15')
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import ClassVar, Self

from iotbill.domain.fields import FieldReader
from iotbill.domain.pricing.base import Detail, Rating, Usage


@dataclass(frozen=True, slots=True)
class Package:
    package_size: Decimal
    price_per_package: Decimal
    free_units: Decimal = Decimal(0)
    name: ClassVar[str] = "package"
    fields: ClassVar[tuple[str, ...]] = ("package_size", "price", "free_units")

    @property
    def amount_property(self) -> str | None:
        return None

    def price(self, usage: Usage) -> Rating:
        billable = max(usage.quantity - self.free_units, Decimal(0))
        packages = (billable / self.package_size).to_integral_value(rounding=ROUND_CEILING)
        amount = packages * self.price_per_package
        details = [
            Detail(
                "packages",
                amount,
                units=packages,
                unit_price=self.price_per_package,
                note=f"{packages} started package(s) of {self.package_size} units",
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
        if size is None or price is None or free_units is None:
            return None
        return cls(size, price, free_units)
