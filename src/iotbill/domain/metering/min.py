"""``min``: the smallest value of a numeric property in the period (0 without events)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from iotbill.domain.metering.base import Carried, PropertyKind, Window
from iotbill.domain.quantities import from_scaled


@dataclass(frozen=True)
class Min:
    name: ClassVar[str] = "min"
    property_kind: ClassVar[PropertyKind] = PropertyKind.NUMBER
    carried: ClassVar[Carried] = Carried.NOTHING

    def aggregate(self, window: Window) -> Decimal:
        if window.values.size == 0:
            return Decimal(0)
        return from_scaled(int(window.values.min()))
