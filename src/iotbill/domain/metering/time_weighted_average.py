"""``time_weighted_average``: the mean level of a gauge over the whole period.

A reading sets the level from its timestamp until the next reading; the last
reading before the period carries its level into the period; before the first
reading ever, the level is 0. The average is the integral of the level over
``[start, end)`` divided by the period's length, computed exactly as a fraction
and rounded half-even to nine fractional digits.

Example: a period of 10 hours, a reading of 4 two hours before it and a
reading of 10 at hour 6 give (4 x 6 + 10 x 4) / 10 = 6.4.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import ClassVar

import numpy as np

from iotbill.domain.metering.base import Carried, PropertyKind, Window
from iotbill.domain.quantities import exact_dot, from_scaled


@dataclass(frozen=True)
class TimeWeightedAverage:
    name: ClassVar[str] = "time_weighted_average"
    property_kind: ClassVar[PropertyKind] = PropertyKind.NUMBER
    carried: ClassVar[Carried] = Carried.LAST

    def aggregate(self, window: Window) -> Decimal:
        length = window.end - window.start
        carried = window.prior_value or 0
        if window.count == 0:
            return from_scaled(carried)
        edges = np.append(window.timestamps, np.int64(window.end))
        durations = np.diff(edges)
        first_gap = int(window.timestamps[0]) - window.start
        # Products of nano-units and microseconds can exceed int64: exact_dot sums them
        # exactly, vectorised, in 21-bit limbs.
        integral = carried * first_gap + exact_dot(window.values, durations)
        return from_scaled(round(Fraction(integral, length)))  # exact, then half-even
