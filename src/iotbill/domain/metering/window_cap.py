"""Per-window caps: a meter's quantity counted up to a maximum in each local day or hour.

``cap: {per: day, max: 250}`` on a meter of miles makes the miles above 250 in
any one day free: a day of 400 miles counts 250, a day of 180 counts 180, and
the period's quantity is the sum of the capped days. Windows are the
customer's local days (or hours), labelled by the wall clock: a 23- or 25-hour
DST day is one day, and the autumn hour that the clocks repeat is one hour
(both of its passes), as a 25-hour day is one day. Windows are cut at the edges
of the span being rated, so a day that a billing period or a plan change splits
is capped in each part.

Only aggregations whose windows add up to the period's quantity can be capped
(:data:`CAPPABLE`: ``count`` and ``sum``); each group of a ``group_by`` meter is
capped on its own.

Two implementations of one rule, tested against each other on generated
events and zones: :func:`capped_quantity_reference` walks the events one by one
(the specification); :func:`capped_quantity` finds the window boundaries once
and sums each window's values with numpy, exactly, in nano-units.

>>> from datetime import UTC
>>> import numpy as np
>>> from iotbill.domain.metering.sum import Sum
>>> from iotbill.domain.quantities import UNIT
>>> day = 86_400_000_000
>>> window = Window(0, 2 * day, np.array([0, 3600_000_000, day]),
...                 np.array([300 * UNIT, 100 * UNIT, 180 * UNIT]))
>>> cap = WindowCap("day", Decimal(250))
>>> capped_quantity(window, Sum(), cap, ZoneInfo("UTC"))
CappedQuantity(quantity=Decimal('430'), uncapped=Decimal('580'), windows_capped=1, unrounded=None)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from iotbill.domain.metering.base import Aggregation, PropertyKind, Window
from iotbill.domain.periods import from_micros, local_instant, to_micros
from iotbill.domain.quantities import UNIT, from_scaled

WindowLength = Literal["day", "hour"]
WINDOW_LENGTHS: tuple[WindowLength, ...] = ("day", "hour")
CAPPABLE = ("count", "sum")
"""The aggregations a cap may apply to: those whose windows add up to the whole."""


@dataclass(frozen=True, slots=True)
class WindowCap:
    """At most ``max`` of a meter's quantity counts in each local ``per`` (day or hour)."""

    per: WindowLength
    max: Decimal


@dataclass(frozen=True, slots=True)
class CappedQuantity:
    """A capped quantity, what it was before the cap, and how many windows were capped;
    and, when the meter's rounding changed it, what it was before the rounding."""

    quantity: Decimal
    uncapped: Decimal
    windows_capped: int
    unrounded: Decimal | None = None

    @property
    def counted(self) -> Decimal:
        """The quantity after the cap, before any rounding."""
        return self.quantity if self.unrounded is None else self.unrounded


def capped_quantity_reference(
    window: Window, aggregation: Aggregation, cap: WindowCap, zone: ZoneInfo
) -> CappedQuantity:
    """The specification: each event's local day (or day and hour) read from its own
    timestamp, each window aggregated and capped, the capped windows summed."""
    members: dict[tuple[date, int], list[int]] = {}
    for position, micros in enumerate(window.timestamps.tolist()):
        members.setdefault(window_label(micros, cap.per, zone), []).append(position)
    quantities = [
        aggregation.aggregate(_part(window, np.array(positions, dtype=np.intp)))
        for positions in members.values()
    ]
    capped = [min(quantity, cap.max) for quantity in quantities]
    return CappedQuantity(
        sum(capped, Decimal(0)),
        sum(quantities, Decimal(0)),
        sum(1 for quantity in quantities if quantity > cap.max),
    )


def capped_quantity(
    window: Window, aggregation: Aggregation, cap: WindowCap, zone: ZoneInfo
) -> CappedQuantity:
    """The fast twin of :func:`capped_quantity_reference`, equal to it on every window.

    The windows' first instants inside ``[window.start, window.end)`` are found
    once (a few dozen per month by day, a few hundred by hour); the events,
    already in time order, are cut there (a binary search per window, not per
    event), and each window's values are summed exactly (high and low 32 bits
    apart, as :func:`~iotbill.domain.quantities.exact_sum` does, so no sum overflows).
    """
    if window.count == 0:
        return CappedQuantity(Decimal(0), Decimal(0), 0)
    firsts = window_firsts(window, cap.per, zone)
    if aggregation.property_kind is PropertyKind.NONE:
        scaled = [count * UNIT for count in np.diff(np.r_[firsts, window.count]).tolist()]
    else:
        scaled = _window_sums(window.values, firsts)
    limit = int(cap.max * UNIT)  # exact: a plan number has at most 9 decimals
    return CappedQuantity(
        from_scaled(sum(min(total, limit) for total in scaled)),
        from_scaled(sum(scaled)),
        sum(1 for total in scaled if total > limit),
    )


def window_label(micros: int, per: WindowLength, zone: ZoneInfo) -> tuple[date, int]:
    """The local day (and hour, ``per`` hour) of ``zone`` that the instant ``micros`` falls
    in, as the wall clock labels it: the window of a reference implementation."""
    local = from_micros(micros).astimezone(zone)
    return local.date(), local.hour if per == "hour" else 0


def window_firsts(window: Window, per: WindowLength, zone: ZoneInfo) -> npt.NDArray[np.intp]:
    """The position of each non-empty local window's first event in ``window`` (its events
    in time order, at least one): the events cut at the windows' first instants, found once
    (a binary search per window, not per event)."""
    edges = window_starts(window.start, window.end, per, zone)
    cuts = np.searchsorted(window.timestamps, edges, side="left")
    return np.unique(np.r_[0, cuts[cuts < window.count]])


def window_starts(start: int, end: int, per: WindowLength, zone: ZoneInfo) -> npt.NDArray[np.int64]:
    """The instants (microseconds) strictly inside ``(start, end)`` at which a local day
    (or hour) of ``zone`` begins, ascending, each once."""
    first = from_micros(start).astimezone(zone).date() - timedelta(days=1)
    days = (from_micros(end).astimezone(zone).date() - first).days + 2
    found: set[int] = set()
    for offset in range(days):
        day = first + timedelta(days=offset)
        for hour in range(24) if per == "hour" else range(1):
            begins = to_micros(local_instant(datetime(day.year, day.month, day.day, hour), zone))
            if start < begins < end:
                found.add(begins)
    return np.array(sorted(found), dtype=np.int64)


def _window_sums(values: npt.NDArray[np.int64], firsts: npt.NDArray[np.intp]) -> list[int]:
    high = np.add.reduceat(values >> 32, firsts).tolist()
    low = np.add.reduceat(values & 0xFFFFFFFF, firsts).tolist()
    return [(h << 32) + lo for h, lo in zip(high, low, strict=True)]


def _part(window: Window, positions: npt.NDArray[np.intp]) -> Window:
    values = window.values[positions] if window.values.size else window.values
    return Window(window.start, window.end, window.timestamps[positions], values)
