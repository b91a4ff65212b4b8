"""Ingesting usage events: resolve each device's owner, check the meters, store in batches.

Every event is attributed to the customer who owned its device at the event's
timestamp; an event whose device is unknown (or had no owner yet) is rejected
with its line and the reason, never silently dropped. So is an event that a
meter billing it refuses, e.g. a negative quantity where the meter forbids it
(:mod:`~iotbill.domain.metering.checks`). Valid events are stored in batches,
one transaction per batch, so a long import makes steady progress and a crash
loses at most the batches in flight, which a re-run stores (the event store
skips ids it already has). With ``atomic``, one bad line rejects the whole
input and nothing is stored; otherwise bad lines never block the good ones.

An id repeated in the input is stored once: the first line stands and the
repeats count as duplicates, unless the first line was rejected, which rejects
its repeats too. A repeat with other content than the first (in this input,
or stored before) is a conflict (:class:`EventConflict`): reported with its
line, never stored, the first event standing. Memory holds the ids of the
batches not yet written, not of every line: a repeat of one of those is
decided at once, its first line known; a repeat of an id written already goes
to the store like any line, the store's unique index skips it, and the event
stored under its id, read back, tells a duplicate from a conflict. The ids of
refused lines are kept for the whole ingest, so that a refused line still
refuses its repeats.

Once the events are stored, the customers whose plans set usage alerts on a
metered allowance have them recorded, as of each one's latest event
(:func:`~iotbill.services.entitlements.record_alerts`), in one more
transaction.

The input streams in as :class:`Lines`, stretches of a file in line order.
While ``writers`` threads store earlier batches, the next stretch is checked
and its batches prepared on the calling thread: the work is done a column at a
time, and the event store writes a batch without holding Python's interpreter
lock (see the SQL adapter), so a million events take seconds, not minutes, and
memory holds a few decoded batches, not the whole input decoded.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from iotbill.domain.errors import InvalidInput
from iotbill.domain.events import Lines, Rejection, SourcedEvent, UsageEvent
from iotbill.domain.input_rules import DEFAULT_CLOCK_SKEW
from iotbill.services.cycles import collect, no_collection
from iotbill.services.entitlements import record_alerts
from iotbill.services.ingest_screen import Conflicts, EventConflict, Named, Screen
from iotbill.services.ingest_writers import Atomic, Batches, Writer
from iotbill.services.ports import Clock, UnitOfWorkFactory

DEFAULT_BATCH_SIZE = 100_000
COLLECT_EVERY = 16
"""Python's cycle collector is paused while an ingest runs (:mod:`~iotbill.services.cycles`)
and run in full after every this many stretches: the few hundred objects in cycles that
each stretch leaves (its units of work) never add up to more than these stretches'."""
DEFAULT_WRITERS = 2
"""Two: PostgreSQL writes two batches side by side; on SQLite, which takes one
writer at a time, the second waits, prepared, for its turn."""

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_WRITERS",
    "EventConflict",
    "IngestInterrupted",
    "IngestReport",
    "Lines",
    "Rejection",
    "ingest",
    "ingest_lines",
]

Progress = Callable[[int], None]


class IngestInterrupted(KeyboardInterrupt):
    """The ingest was interrupted (Ctrl-C): ``stored`` events were committed before it
    stopped, each batch whole; nothing of a batch begun after is (with ``atomic``: nothing
    at all). Ingesting the same input again stores the rest, the stored events being
    duplicates."""

    def __init__(self, stored: int) -> None:
        super().__init__(stored)
        self.stored = stored


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What an ingest did: events newly stored, repeats of stored ids (the same content),
    rejected lines, and conflicts (repeated ids with other content, not stored).

    ``duplicate_lines`` are the lines of the duplicates, in order: with the lines of
    the rejections and of the conflicts, they tell each line's fate (every other line
    was stored by this ingest), as the store found it when it wrote, not as a look
    before could guess it.
    """

    accepted: int
    duplicates: int
    rejected: tuple[Rejection, ...]
    conflicts: Sequence[EventConflict] = ()
    duplicate_lines: Sequence[int] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": [{"line": r.line, "reason": r.reason} for r in self.rejected],
            "conflicts": [
                {"line": c.line, "id": c.id, "first_line": c.first_line, "reason": c.reason}
                for c in self.conflicts
            ],
        }


def ingest(
    uow_factory: UnitOfWorkFactory,
    tenant: str,
    events: Sequence[SourcedEvent],
    *,
    clock: Clock,
    rejected: Sequence[Rejection] = (),
    atomic: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    writers: int = DEFAULT_WRITERS,
    on_progress: Progress | None = None,
    clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
) -> IngestReport:
    """Store ``events`` for ``tenant``; ``rejected`` are lines already refused (unreadable).

    The same as :func:`ingest_lines` with the whole input as one stretch.
    """
    return ingest_lines(
        uow_factory,
        tenant,
        [Lines(events, rejected)],
        clock=clock,
        atomic=atomic,
        batch_size=batch_size,
        writers=writers,
        on_progress=on_progress,
        clock_skew=clock_skew,
    )


def ingest_lines(
    uow_factory: UnitOfWorkFactory,
    tenant: str,
    stretches: Iterable[Lines],
    *,
    clock: Clock,
    atomic: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    writers: int = DEFAULT_WRITERS,
    on_progress: Progress | None = None,
    clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
) -> IngestReport:
    """Store the events of ``stretches`` for ``tenant``, a stretch at a time.

    At most ``batch_size`` events are stored per transaction, ``writers``
    batches at once, each in its own unit of work (with ``atomic``: all in
    one, on this thread). ``on_progress`` is told how many lines have been
    dealt with (stored, found to be duplicates, or rejected) as that number
    grows. An event stamped more than ``clock_skew`` after ``clock.now()`` is
    rejected (:func:`~iotbill.domain.input_rules.skew_problem`).
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if writers < 1:
        raise ValueError("writers must be at least 1")
    if clock_skew < timedelta(0):
        raise InvalidInput.at("clock_skew", "must not be negative")
    received_at = clock.now()
    screen = Screen(received_at, clock_skew)
    refused: list[Rejection] = []
    conflicts = Conflicts()
    duplicates = array("q")  # the lines of the repeats within the input
    passed = set_apart = 0
    alerting: dict[str, datetime] = {}  # customers on plans with usage alerts: latest event
    store: Writer = (
        Atomic(uow_factory, tenant, received_at, batch_size, refused, screen, conflicts)
        if atomic
        else Batches(
            uow_factory,
            tenant,
            received_at,
            batch_size,
            writers,
            screen,
            conflicts,
            streamed=not (isinstance(stretches, Sequence) and len(stretches) == 1),
        )
    )

    def progress() -> None:
        if on_progress is not None:
            on_progress(len(refused) + set_apart + len(duplicates) + store.written)

    def lookup(ids: list[str]) -> Named:
        return store.lookup(ids, progress)

    try:
        with store, no_collection():
            for count, stretch in enumerate(stretches, 1):
                with uow_factory(tenant, read_only=True) as uow:
                    found = screen.screen(uow, stretch, lookup)
                refused.extend(found.refused)
                conflicts.extend(found.conflicts)
                set_apart += len(found.conflicts)
                duplicates.extend(found.duplicates)
                passed += len(found.events)
                store.add(found.events, found.customers, found.lines, progress)
                if screen.alerting:
                    _latest(alerting, found.events, found.customers, screen.alerting)
                progress()
                if count % COLLECT_EVERY == 0:
                    collect()
            stored = store.finish(progress)
    except KeyboardInterrupt:  # the store has committed, or rolled back, every batch begun
        raise IngestInterrupted(0 if atomic else store.stored) from None
    refused.sort(key=lambda rejection: rejection.line)
    conflicts = conflicts.by_line()
    if atomic and refused:
        return IngestReport(0, 0, tuple(refused), conflicts)
    lines = _ordered(duplicates, store.duplicate_lines)
    if stored and alerting:
        with uow_factory(tenant) as uow:
            record_alerts(uow, alerting, at=received_at)
            uow.commit()
    from_store = passed - stored - store.conflicting
    return IngestReport(stored, len(duplicates) + from_store, tuple(refused), conflicts, lines)


def _ordered(*lines: array[int]) -> array[int]:
    """The line numbers of ``lines`` in one array, in order: sorted by numpy, so that the
    lines of a large re-ingest (millions of duplicates) never become Python integers."""
    import numpy as np

    merged = np.sort(np.concatenate([np.frombuffer(part, dtype=np.int64) for part in lines]))
    return array("q", merged.tobytes())


def _latest(
    latest: dict[str, datetime],
    events: Sequence[UsageEvent],
    customers: Sequence[str],
    alerting: set[str],
) -> None:
    """Keep in ``latest`` the latest timestamp of the events of each customer of ``alerting``:
    where the alerts of its usage are looked for (the period of its latest event)."""
    for event, customer in zip(events, customers, strict=True):
        if customer in alerting and (customer not in latest or event.timestamp > latest[customer]):
            latest[customer] = event.timestamp
