"""``latest``: the value of the last event in the period by ``(timestamp, id)`` (0 without);
with the meter's ``recurring: true``, the last value ever reported (0 before the first)."""

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


@dataclass(frozen=True)
class RecurringLatest:
    """``latest`` with the meter's ``recurring: true``: the last value ever reported, the
    period's last if it has one, else the last before it, else 0 (a count of sensors a
    gateway reports now and then, billed every month on the last count)."""

    name: ClassVar[str] = "latest"
    property_kind: ClassVar[PropertyKind] = PropertyKind.NUMBER
    carried: ClassVar[Carried] = Carried.LAST

    def aggregate(self, window: Window) -> Decimal:
        if window.values.size == 0:
            return from_scaled(window.prior_value or 0)
        return from_scaled(int(window.values[-1]))
