"""``count``: the number of events in the period."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from iotbill.domain.metering.base import Carried, PropertyKind, Window


@dataclass(frozen=True)
class Count:
    name: ClassVar[str] = "count"
    property_kind: ClassVar[PropertyKind] = PropertyKind.NONE
    carried: ClassVar[Carried] = Carried.NOTHING

    def aggregate(self, window: Window) -> Decimal:
        return Decimal(window.count)
