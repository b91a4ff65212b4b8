"""A deduplicated, ordered, columnar view of a batch of usage events.

The table is what meters aggregate. Rows are unique by event id and sorted by
``(timestamp, id)``, so no result depends on the order events arrived in.
Timestamps are an int64 column of microseconds since the Unix epoch and event
types an int32 column of codes, so selecting a meter's events is one
vectorised comparison.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from iotbill.domain.events import EventConflict, UsageEvent
from iotbill.domain.periods import to_micros

Rows = npt.NDArray[np.intp]


@dataclass(frozen=True, eq=False)
class EventTable:
    """Unique events in ``(timestamp, id)`` order, with columns for fast selection."""

    events: list[UsageEvent]
    lines: list[int]
    timestamps: npt.NDArray[np.int64]
    type_codes: npt.NDArray[np.int32]
    type_names: dict[str, int]
    source: str = "events"
    duplicates: int = 0
    conflicts: tuple[EventConflict, ...] = ()
    _cache: dict[Any, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def build(
        cls,
        events: Sequence[UsageEvent],
        lines: Sequence[int] | None = None,
        source: str = "events",
    ) -> EventTable:
        """Deduplicate ``events`` by id and order them by ``(timestamp, id)``.

        ``lines`` gives each event's source line (1-based positions if omitted).
        """
        if lines is None:
            lines = range(1, len(events) + 1)
        first_index: dict[str, int] = {}
        kept: list[int] = []
        duplicates = 0
        conflicts: list[EventConflict] = []
        type_names: dict[str, int] = {}
        micros: list[int] = []
        codes: list[int] = []
        for index, event in enumerate(events):
            first = first_index.setdefault(event.id, index)
            if first != index:
                if events[first] == event:
                    duplicates += 1
                else:
                    conflicts.append(EventConflict(event.id, lines[first], lines[index]))
                continue
            kept.append(index)
            micros.append(to_micros(event.timestamp))
            codes.append(type_names.setdefault(event.type, len(type_names)))
        timestamps = np.array(micros, dtype=np.int64)
        order = _order_by_time_then_id(timestamps, [events[i].id for i in kept])
        kept_array = np.array(kept, dtype=np.intp)[order]
        return cls(
            events=[events[i] for i in kept_array.tolist()],
            lines=[lines[i] for i in kept_array.tolist()],
            timestamps=timestamps[order],
            type_codes=np.array(codes, dtype=np.int32)[order],
            type_names=type_names,
            source=source,
            duplicates=duplicates,
            conflicts=tuple(conflicts),
        )

    def __len__(self) -> int:
        return len(self.events)

    def rows_of_type(self, event_type: str) -> Rows:
        """Row numbers of the events of ``event_type``, in table order."""
        code = self.type_names.get(event_type)
        if code is None:
            return np.empty(0, dtype=np.intp)
        return np.flatnonzero(self.type_codes == code)

    def values(self, name: str, rows: Rows) -> list[Any]:
        """The property ``name`` of each row (``MISSING`` where absent)."""
        events = self.events
        return [events[row].properties.get(name, MISSING) for row in rows.tolist()]

    def location(self, row: int) -> str:
        """Where row ``row`` came from, for error messages: ``events.jsonl:12``."""
        return f"{self.source}:{self.lines[row]}"

    def cached(self, key: Any) -> Any:
        return self._cache.get(key)

    def remember(self, key: Any, value: Any) -> None:
        self._cache[key] = value


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


def _order_by_time_then_id(timestamps: npt.NDArray[np.int64], ids: list[str]) -> Rows:
    """The permutation sorting rows by timestamp, ties broken by id."""
    order = np.argsort(timestamps, kind="stable")
    ordered = timestamps[order]
    if ordered.size < 2:
        return order
    tied = np.flatnonzero(ordered[1:] == ordered[:-1])
    if tied.size == 0:
        return order
    # Runs of equal timestamps: starts are tied positions not preceded by a tie.
    run_starts = tied[np.concatenate(([True], tied[1:] != tied[:-1] + 1))]
    run_ends = tied[np.concatenate((tied[1:] != tied[:-1] + 1, [True]))] + 2
    for start, end in zip(run_starts.tolist(), run_ends.tolist(), strict=True):
        segment = order[start:end]
        order[start:end] = sorted(segment.tolist(), key=ids.__getitem__)
    return order
