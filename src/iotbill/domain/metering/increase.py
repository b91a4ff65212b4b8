"""``increase``: the rise of a cumulative counter (odometer, flow totaliser) over the period.

The rise is measured from the last reading before the period (or, without
one, from the first reading in it) through every reading in the period. A
reading below the one before it means the counter restarted from zero, so that
step contributes the new reading itself.

Example: readings 100 (before the period), 130, 20 (a restart), 50 give
30 + 20 + 30 = 80.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

import numpy as np

from iotbill.domain.metering.base import Carried, PropertyKind, Window
from iotbill.domain.quantities import exact_sum, from_scaled


@dataclass(frozen=True)
class Increase:
    name: ClassVar[str] = "increase"
    property_kind: ClassVar[PropertyKind] = PropertyKind.NUMBER
    carried: ClassVar[Carried] = Carried.LAST

    def aggregate(self, window: Window) -> Decimal:
        readings = window.values
        if window.prior_value is not None:
            readings = np.concatenate((np.array([window.prior_value], dtype=np.int64), readings))
        if readings.size < 2:
            return Decimal(0)
        if int(readings.min()) < 0:
            # Differences of values of both signs can exceed int64: use Python ints.
            values = readings.tolist()
            pairs = itertools.pairwise(values)
            return from_scaled(sum(now - then if now >= then else now for then, now in pairs))
        later = readings[1:]
        steps = later - readings[:-1]
        rises = np.where(steps >= 0, steps, later)
        return from_scaled(exact_sum(rises))
