"""Peaks per window: the sum of each local day's (or hour's) maximum, a demand charge.

``per: day`` on a ``max`` meter of kW makes its quantity the sum of the highest
reading of each of the customer's local days in the span being rated: days of
peaks 7, 9 and 4 kW count 20 kW. A day without a reading adds nothing. Windows
are those of the per-window caps (:mod:`iotbill.domain.metering.window_cap`):
local days (or hours) labelled by the wall clock, cut at the edges of the span,
so a day that a billing period or a plan change splits has a peak in each part.
Each group of a ``group_by`` meter has its own peaks.

Two implementations of one rule, tested against each other on generated
events and zones: :func:`peak_quantity_reference` walks the events one by one
(the specification); :func:`peak_quantity` cuts the events, already in time
order, at the windows' first instants and takes each window's maximum with numpy.

>>> import numpy as np
>>> from zoneinfo import ZoneInfo
>>> from iotbill.domain.quantities import UNIT
>>> day = 86_400_000_000
>>> window = Window(0, 3 * day, np.array([0, 3600_000_000, day, 2 * day]),
...                 np.array([7 * UNIT, 5 * UNIT, 9 * UNIT, 4 * UNIT]))
>>> peak_quantity(window, "day", ZoneInfo("UTC"))
Decimal('20')
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np

from iotbill.domain.metering.base import Window
from iotbill.domain.metering.window_cap import WindowLength, window_firsts, window_label
from iotbill.domain.quantities import from_scaled

PEAKED = ("max",)
"""The aggregations a meter may take per window and sum: ``max``."""


def peak_quantity_reference(window: Window, per: WindowLength, zone: ZoneInfo) -> Decimal:
    """The specification: each event's local day (or day and hour) read from its own
    timestamp, each window's largest value, those summed."""
    peaks: dict[tuple[date, int], int] = {}
    for micros, value in zip(window.timestamps.tolist(), window.values.tolist(), strict=True):
        label = window_label(micros, per, zone)
        peaks[label] = max(peaks.get(label, value), value)
    return from_scaled(sum(peaks.values()))


def peak_quantity(window: Window, per: WindowLength, zone: ZoneInfo) -> Decimal:
    """The fast twin of :func:`peak_quantity_reference`, equal to it on every window: the
    events cut at their windows' first instants (:func:`window_firsts`), each part's
    maximum taken by ``np.maximum.reduceat`` and the maxima summed as Python integers
    (exact)."""
    if window.count == 0:
        return Decimal(0)
    firsts = window_firsts(window, per, zone)
    return from_scaled(sum(np.maximum.reduceat(window.values, firsts).tolist()))
