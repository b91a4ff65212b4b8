"""``weighted_sum``: a running total of changes, weighted by how long it held.

Each event adds its value to a running total; the quantity is the integral of that
total over ``[start, end)`` divided by the period's length: the total's mean level
over the period, in the property's unit (capacity reserved in kWh gives kWh). It
equals the total at the start, plus each value weighted by the share of the period
left from its event on, ``carried + sum(v x (end - t)) / (end - start)``, computed
exactly as a fraction and rounded half-even to nine fractional digits.

By default the total starts at 0 with each period (:class:`WeightedSum`): only the
period's own changes count. With the meter's ``recurring: true``
(:class:`RecurringWeightedSum`) the total carries from period to period: it starts
at the sum of every value before the period.

Example: a period of 31 days, 20 added at the start of day 15 and 10 more at the
start of day 16: 20 for 1 day, then 30 for 15 days, (20 x 1 + 30 x 15) / 31 =
15.161290323. Recurring, the next period (of 30 days) starts at 30; 5 taken off
at the start of its day 10 leaves (30 x 10 + 25 x 20) / 30 = 26.666666667.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import ClassVar

import numpy as np

from iotbill.domain.metering.base import Carried, PropertyKind, Window
from iotbill.domain.quantities import exact_dot, from_scaled


def _mean_total(window: Window, carried: int) -> Decimal:
    length = window.end - window.start
    remaining = np.int64(window.end) - window.timestamps  # each value's time to the end
    # Products of nano-units and microseconds can exceed int64: exact_dot sums them
    # exactly, vectorised, in 21-bit limbs.
    integral = carried * length + exact_dot(window.values, remaining)
    return from_scaled(round(Fraction(integral, length)))  # exact, then half-even


@dataclass(frozen=True)
class WeightedSum:
    """The period's own changes: the total starts at 0 with the period."""

    name: ClassVar[str] = "weighted_sum"
    property_kind: ClassVar[PropertyKind] = PropertyKind.NUMBER
    carried: ClassVar[Carried] = Carried.NOTHING

    def aggregate(self, window: Window) -> Decimal:
        if window.count == 0:
            return Decimal(0)
        return _mean_total(window, 0)


@dataclass(frozen=True)
class RecurringWeightedSum:
    """The total carried from period to period: it starts at the sum of every value
    before the period (0 before the first event ever)."""

    name: ClassVar[str] = "weighted_sum"
    property_kind: ClassVar[PropertyKind] = PropertyKind.NUMBER
    carried: ClassVar[Carried] = Carried.TOTAL

    def aggregate(self, window: Window) -> Decimal:
        return _mean_total(window, window.prior_value or 0)
