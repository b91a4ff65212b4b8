"""``dynamic``: each event carries its own amount, in the property ``amount_property``.

The charge is the exact sum of those amounts over the period's events (a
spot-priced kWh, a parts bill for a work order); the quantity shown is the
meter's own aggregate.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar, Self

from iotbill.domain.fields import FieldReader
from iotbill.domain.pricing.base import Detail, Rating, Usage
from iotbill.domain.quantities import exact_sum, from_scaled


@dataclass(frozen=True, slots=True)
class Dynamic:
    property_name: str
    name: ClassVar[str] = "dynamic"
    fields: ClassVar[tuple[str, ...]] = ("amount_property",)
    reads_events: ClassVar[bool] = True

    @property
    def amount_property(self) -> str | None:
        return self.property_name

    def price(self, usage: Usage) -> Rating:
        amount = from_scaled(exact_sum(usage.event_amounts))
        events = Decimal(int(usage.event_amounts.size))
        detail = Detail("event_amounts", amount, units=events, note=f"sum of {self.property_name}")
        return Rating(amount, None, (detail,))

    @classmethod
    def parse(cls, reader: FieldReader) -> Self | None:
        name = reader.text("amount_property")
        return None if name is None else cls(name)
