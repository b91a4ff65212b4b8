"""``average``: the mean of a numeric property over the period's events (0 without events).

Each event counts once, whenever it came: the sum of the values divided by their number,
computed exactly as a fraction and rounded half-even to nine fractional digits. (For a
level that holds between readings, weighted by how long it held, use
``time_weighted_average``.)

Example: readings of 1, 2 and 2 give 5 / 3 = 1.666666667.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import ClassVar

from iotbill.domain.metering.base import Carried, PropertyKind, Window
from iotbill.domain.quantities import exact_sum, from_scaled


@dataclass(frozen=True)
class Average:
    name: ClassVar[str] = "average"
    property_kind: ClassVar[PropertyKind] = PropertyKind.NUMBER
    carried: ClassVar[Carried] = Carried.NOTHING

    def aggregate(self, window: Window) -> Decimal:
        if window.values.size == 0:
            return Decimal(0)
        mean = Fraction(exact_sum(window.values), int(window.values.size))
        return from_scaled(round(mean))  # exact, then half-even
