"""``latest``: the value of the last event in the period by ``(timestamp, id)`` (0 without)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from iotbill.domain.metering.base import Carried, PropertyKind, Window
from iotbill.domain.quantities import from_scaled


@dataclass(frozen=True)
class Latest:
    name: ClassVar[str] = "latest"
    property_kind: ClassVar[PropertyKind] = PropertyKind.NUMBER
    carried: ClassVar[Carried] = Carried.NOTHING

    def aggregate(self, window: Window) -> Decimal:
        if window.values.size == 0:
            return Decimal(0)
        return from_scaled(int(window.values[-1]))
