"""What new events add to the daily roll-up of usage (``rollups``), computed as a batch is
prepared, a column at a time, before its transaction begins."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from itertools import repeat

import numpy as np
import numpy.typing as npt

DAY = 86_400_000_000
"""A day in microseconds (the unit of ``occurred_at``): the roll-up's bucket."""
HOUR = 3_600_000_000
"""An hour in microseconds: the bucket of the hourly roll-up of recent events."""
RECENT = 2 * DAY
"""An event is recent when stored at most this long after its timestamp: rolled up by the
hour too (``received_at - occurred_at <= RECENT``)."""
COUNTED = ""
"""The ``property`` of the rows that count events. A property of that name is not summed:
no meter can sum it (a plan's ``property`` is never empty)."""
HALF = 0xFFFFFFFF
"""The low half of a sum: each row keeps ``high × 2³² + low``."""
Increment = tuple[str, str, int, str, int, int, int]
"""A row's customer, event type, day and property, and what to add: events, high, low."""
Added = tuple[tuple[Increment, ...], tuple[Increment, ...]]
"""What a batch adds to the daily roll-up and to the hourly one."""
Numbers = dict[str, tuple[npt.NDArray[np.intp], npt.NDArray[np.int64]]]
"""Per property, the positions of the events whose value is a number, and those values in
nano-units (as ``measures`` holds them)."""


@dataclass(frozen=True, slots=True)
class Sums:
    """A batch's new events (naming no other), a column at a time, as the roll-up reads
    them: event ``i`` has id ``ids[i]``, customer ``customers[customer_of[i]]``, type
    ``kinds[kind_of[i]]``, instant ``occurred_at[i]`` (microseconds), and its numbers in
    ``numbers``."""

    ids: Sequence[str]
    customers: Sequence[str]
    customer_of: npt.NDArray[np.intp]
    kinds: Sequence[str]
    kind_of: npt.NDArray[np.intp]
    occurred_at: npt.NDArray[np.int64]
    numbers: Numbers
    received_at: int = 0
    """When the batch is stored (microseconds): which events are recent."""
    fresh: Added = ((), ())
    """What they all add: computed by :meth:`of` as the batch is prepared, so that a write
    of new events only (the usual one) does no more of this work in its transaction."""

    @classmethod
    def of(
        cls,
        ids: Sequence[str],
        customers: Sequence[str],
        customer_of: npt.NDArray[np.intp],
        kinds: Sequence[str],
        kind_of: npt.NDArray[np.intp],
        occurred_at: npt.NDArray[np.int64],
        numbers: Numbers,
        received_at: int,
    ) -> Sums:
        """The columns, with what they all add."""
        sums = cls(ids, customers, customer_of, kinds, kind_of, occurred_at, numbers, received_at)
        return replace(sums, fresh=sums._added(np.ones(len(ids), np.bool_)))

    def increments(self, skipped: Collection[str] = ()) -> Added:
        """What the events add to the daily roll-up and to the hourly one (the recent
        events), but those whose ids are ``skipped`` (stored already): per customer, type,
        day or hour and property, the events and the halves of the numbers' sum; counts
        first (``property`` ``''``), then each property by name."""
        if not skipped:
            return self.fresh
        left_out = set(skipped)
        dropped = np.array(list(map(left_out.__contains__, self.ids)), np.bool_)
        if not dropped.any():
            return self.fresh
        # What the few skipped events add, taken off what all of them add: the rows
        # that all of them computed again (as before) took longer than the write.
        days, hours = self._added(dropped)
        return _less(self.fresh[0], days), _less(self.fresh[1], hours)

    def _added(self, kept: npt.NDArray[np.bool_]) -> Added:
        recent = kept & (self.occurred_at >= self.received_at - RECENT)
        return _increments(self, kept, DAY), _increments(self, recent, HOUR)


def _less(added: tuple[Increment, ...], taken: tuple[Increment, ...]) -> tuple[Increment, ...]:
    """The rows of ``added`` less those of ``taken`` (what some of the same events add),
    key by key; a row left with no events goes. Each half is a plain sum, so taking
    one off is exact: the rows are those the events not taken add, in the same order.

    >>> day_1, day_2 = ("c", "t", 1, "m3", 3, 0, 9), ("c", "t", 2, "m3", 1, 0, 4)
    >>> _less((day_1, day_2), (("c", "t", 1, "m3", 1, 0, 2), day_2))
    (('c', 't', 1, 'm3', 2, 0, 7),)
    """
    if not taken:
        return added
    off = {row[:4]: row[4:] for row in taken}
    kept: list[Increment] = []
    for row in added:
        less = off.get(row[:4])
        if less is None:
            kept.append(row)
        elif row[4] > less[0]:
            kept.append((*row[:4], row[4] - less[0], row[5] - less[1], row[6] - less[2]))
    return tuple(kept)


def _increments(sums: Sums, kept: npt.NDArray[np.bool_], bucket: int) -> tuple[Increment, ...]:
    customer_of, kind_of, occurred_at = sums.customer_of, sums.kind_of, sums.occurred_at
    numbers = sums.numbers
    if not kept.all():
        index = np.cumsum(kept) - 1  # each kept event's position among those kept
        customer_of, kind_of, occurred_at = customer_of[kept], kind_of[kept], occurred_at[kept]
        numbers = {
            name: (index[at[kept[at]]], values[kept[at]]) for name, (at, values) in numbers.items()
        }
    if not len(occurred_at):
        return ()
    customers, kinds = sums.customers, sums.kinds
    days = occurred_at // bucket
    first = int(days.min())
    span = int(days.max()) - first + 1
    series = customer_of.astype(np.int64) * len(kinds) + kind_of
    keys, row_of = np.unique(series * span + (days - first), return_inverse=True)
    row_of = row_of.reshape(-1)
    key_series, key_days = np.divmod(keys, span)
    key_customers = [customers[index] for index in (key_series // len(kinds)).tolist()]
    key_kinds = [kinds[index] for index in (key_series % len(kinds)).tolist()]
    found: list[Increment] = []

    def rows(name: str, chosen: npt.NDArray[np.intp], values: npt.NDArray[np.int64]) -> None:
        events_in = np.bincount(chosen, minlength=len(keys))
        high = np.zeros(len(keys), np.int64)
        low = np.zeros(len(keys), np.int64)
        np.add.at(high, chosen, values >> 32)
        np.add.at(low, chosen, values & HALF)
        present = np.flatnonzero(events_in)
        indexes = present.tolist()
        found.extend(  # the columns as lists first: a numpy scalar at a time costs many times more
            zip(
                [key_customers[index] for index in indexes],
                [key_kinds[index] for index in indexes],
                (first + key_days[present]).tolist(),
                repeat(name),
                events_in[present].tolist(),
                high[present].tolist(),
                low[present].tolist(),
                strict=False,  # the repeat is endless; the other columns have one length
            )
        )

    rows(COUNTED, row_of, np.ones(len(row_of), np.int64))
    for name, (positions, values) in sorted(numbers.items()):
        if name != COUNTED:
            rows(name, row_of[positions], values)
    return tuple(found)
