"""``sum``: the exact sum of a numeric property over the period's events."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from iotbill.domain.metering.base import PropertyKind, Window
from iotbill.domain.quantities import exact_sum, from_scaled


@dataclass(frozen=True)
class Sum:
    name: ClassVar[str] = "sum"
    property_kind: ClassVar[PropertyKind] = PropertyKind.NUMBER
    carries_prior_reading: ClassVar[bool] = False
    carries_total: ClassVar[bool] = False

    def aggregate(self, window: Window) -> Decimal:
        return from_scaled(exact_sum(window.values))
