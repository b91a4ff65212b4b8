"""``weighted_sum``: a running total of increments, weighted by how long it held.

Each event adds its value to a running total that starts at 0 with the period;
the quantity is the integral of that total over ``[start, end)`` divided by the
period's length: the total's mean level over the period, in the property's unit
(storage allocated in GB gives GB). It equals the sum of each value weighted by
the share of the period left from its event on, ``sum(v x (end - t)) / (end - start)``,
computed exactly as a fraction and rounded half-even to nine fractional digits.
Nothing carries from one period into the next: an allocation that outlives its
period is counted again only if it is sent again; for a level sent as the level
itself, whose last reading carries into the next period, use
``time_weighted_average``.

Example: a period of 31 days, 20 added on day 15 (at its start) and 10 more on day
16: 20 for 1 day, then 30 for 15 days, (20 x 1 + 30 x 15) / 31 = 15.161290323.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import ClassVar

import numpy as np

from iotbill.domain.metering.base import PropertyKind, Window
from iotbill.domain.quantities import exact_dot, from_scaled


@dataclass(frozen=True)
class WeightedSum:
    name: ClassVar[str] = "weighted_sum"
    property_kind: ClassVar[PropertyKind] = PropertyKind.NUMBER
    carries_prior_reading: ClassVar[bool] = False

    def aggregate(self, window: Window) -> Decimal:
        if window.count == 0:
            return Decimal(0)
        remaining = np.int64(window.end) - window.timestamps  # each value's time to the end
        # Products of nano-units and microseconds can exceed int64: exact_dot sums them
        # exactly, vectorised, in 21-bit limbs.
        integral = exact_dot(window.values, remaining)
        return from_scaled(round(Fraction(integral, window.end - window.start)))
