"""``sum``: the exact sum of a numeric property over the period's events (with the meter's
``recurring: true``, over every event since the first)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from iotbill.domain.metering.base import Carried, PropertyKind, Window
from iotbill.domain.quantities import exact_sum, from_scaled


@dataclass(frozen=True)
class Sum:
    name: ClassVar[str] = "sum"
    property_kind: ClassVar[PropertyKind] = PropertyKind.NUMBER
    carried: ClassVar[Carried] = Carried.NOTHING

    def aggregate(self, window: Window) -> Decimal:
        return from_scaled(exact_sum(window.values))


@dataclass(frozen=True)
class RecurringSum:
    """``sum`` with the meter's ``recurring: true``: the total of every value since the first
    event, the period's and all before it (a count of active devices kept by ``+1`` and
    ``-1`` events, a balance): the total at the period's end."""

    name: ClassVar[str] = "sum"
    property_kind: ClassVar[PropertyKind] = PropertyKind.NUMBER
    carried: ClassVar[Carried] = Carried.TOTAL

    def aggregate(self, window: Window) -> Decimal:
        return from_scaled((window.prior_value or 0) + exact_sum(window.values))
