"""Where an ingest's screened events go (:mod:`iotbill.services.ingest`): all into one
transaction (:class:`Atomic`), or in batches of their own, several at once, each in its
own unit of work (:class:`Batches`).

The store skips the ids it holds already (its unique index decides, at write time,
even beside another ingest of the same ids); the events it holds under them, read
back in the same transaction, tell each skipped line a duplicate or a conflict.
"""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from types import TracebackType
from typing import Protocol, Self

from iotbill.domain.events import Rejection, UsageEvent
from iotbill.services.ingest_screen import Conflicts, EventConflict, Named, Screen
from iotbill.services.ports import PreparedEvents, UnitOfWork, UnitOfWorkFactory

_ID = attrgetter("id")


class Writer(Protocol):
    """Where screened events go: all into one transaction (:class:`Atomic`), or in
    batches of their own, several at once (:class:`Batches`).

    Entered for the whole ingest; ``written`` counts the events handed to the
    store so far (for progress), :meth:`finish` returns how many were new.
    """

    written: int
    stored: int
    """How many of the events handed to the store were new, in transactions committed."""
    conflicting: int
    """How many of the events handed to the store were conflicts with stored ones."""
    duplicate_lines: array[int]
    """The lines of the events handed to the store that it held already, the same."""

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

    def add(
        self,
        events: list[UsageEvent],
        customers: list[str],
        lines: list[int],
        progress: Callable[[], None],
    ) -> None:
        """Store ``events`` (of input ``lines``), each billed to the customer at its
        position in ``customers``; note those whose id is stored with other content."""
        ...

    def lookup(self, ids: list[str], progress: Callable[[], None]) -> Named:
        """What the store holds of ``ids``, this ingest's events so far included."""
        ...

    def finish(self, progress: Callable[[], None]) -> int:
        """Store what is left; how many events were new."""
        ...


class Atomic:
    """All batches in one transaction, on this thread: committed only if nothing was refused.

    ``refused`` is the ingest's list of rejections, which grows as it goes: once
    it holds one, nothing is committed. The events after it are still written
    into the transaction, rolled back at the end, so that an event naming an
    earlier one is checked against it as it would be in a clean input: the
    report then lists exactly the lines to mend.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        tenant: str,
        received_at: datetime,
        batch_size: int,
        refused: Sequence[Rejection],
        screen: Screen,
        conflicts: Conflicts,
    ) -> None:
        self._uow = uow_factory(tenant)
        self._received_at = received_at
        self._batch_size = batch_size
        self._refused = refused
        self._screen = screen
        self._conflicts = conflicts
        self._named: set[str] = set()
        self.stored = self.written = self.conflicting = 0
        self.duplicate_lines = array("q")

    def __enter__(self) -> Self:
        self._uow.__enter__()
        try:
            self._uow.devices.hold()  # for the whole ingest: a device move waits for it
        except BaseException as error:
            self._uow.__exit__(type(error), error, error.__traceback__)
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._uow.__exit__(kind, error, traceback)

    def add(
        self,
        events: list[UsageEvent],
        customers: list[str],
        lines: list[int],
        progress: Callable[[], None],
    ) -> None:
        self._named.update([event.device for event in events])
        for start in range(0, len(events), self._batch_size):
            chunk = slice(start, start + self._batch_size)
            store = self._uow.events
            appended = store.append_prepared(
                store.prepare(events[chunk], customers[chunk], self._received_at)
            )
            done = _Held.read(self._uow, appended.skipped).stored(
                appended.stored, events[chunk], lines[chunk]
            )
            self._conflicts.extend(done.conflicts)
            self.conflicting += len(done.conflicts)
            self.duplicate_lines.extend(done.duplicate_lines)
            self._screen.stored(map(_ID, events[chunk]))
            self.stored += done.stored
            self.written += len(events[chunk])
            progress()

    def lookup(self, ids: list[str], progress: Callable[[], None]) -> Named:
        """What the store holds of ``ids``, this ingest's events so far included."""
        return self._uow.events.find(ids), self._uow.events.replaced(ids)

    def finish(self, progress: Callable[[], None]) -> int:
        if not self._refused:
            _follow_moves(self._uow, self._screen, self._named)
            self._uow.commit()
        return self.stored


class Batches:
    """Batches of up to ``batch_size`` events, each in a transaction of its own, ``writers`` at
    a time. A batch is cut short rather than let a writer wait for events.

    No more batches wait than there are writers, so memory holds a few batches
    however long the input, and reading ahead never slows the batch being
    prepared for the store.

    The last batch, when no writer is busy, is stored on the calling thread: a
    writer would start on it only to be waited for. So an input that is one
    stretch of at most ``batch_size`` events (a request's batch, a device's
    message) is stored without a thread of its own, prepared in the transaction
    that writes it. An input that streams in (``streamed``) hands each batch
    over at once instead, since the next stretch may take a while to arrive.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        tenant: str,
        received_at: datetime,
        batch_size: int,
        writers: int,
        screen: Screen,
        conflicts: Conflicts,
        *,
        streamed: bool = True,
    ) -> None:
        self._uow_factory = uow_factory
        self._screen = screen
        self._conflicts = conflicts
        self.conflicting = 0
        self.duplicate_lines = array("q")
        self._tenant = tenant
        self._received_at = received_at
        self._batch_size = batch_size
        self._limit = writers
        self._streamed = streamed
        self._pool: ThreadPoolExecutor | None = None  # started by the first batch handed over
        self._in_flight: deque[tuple[Future[_Stored], list[UsageEvent]]] = deque()
        self._events: list[UsageEvent] = []
        self._customers: list[str] = []
        self._lines: list[int] = []
        self.stored = self.written = 0

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._pool is not None:  # after a failure, batches not begun never are
            self._pool.shutdown(cancel_futures=True)
        for future, _ in self._in_flight:  # those begun have ended: count what they stored
            if future.done() and not future.cancelled() and future.exception() is None:
                self.stored += future.result().stored
        self._in_flight.clear()

    def add(
        self,
        events: list[UsageEvent],
        customers: list[str],
        lines: list[int],
        progress: Callable[[], None],
    ) -> None:
        self._events += events
        self._customers += customers
        self._lines += lines
        # The whole input at once: the last batch (full or not) waits for finish.
        last = 0 if self._streamed else 1
        while len(self._events) >= self._batch_size + last:
            self._submit(progress)
        if (
            self._streamed
            and self._events
            and sum(not future.done() for future, _ in self._in_flight) < self._limit
        ):
            self._submit(progress)  # a writer would wait: give it what there is

    def lookup(self, ids: list[str], progress: Callable[[], None]) -> Named:
        """What the store holds of ``ids``, once this ingest's events so far are stored
        (an event that names another is rare: waiting for the writers then costs little)."""
        self._drain(progress)
        with self._uow_factory(self._tenant, read_only=True) as uow:
            return uow.events.find(ids), uow.events.replaced(ids)

    def finish(self, progress: Callable[[], None]) -> int:
        self._drain(progress)
        return self.stored

    def _drain(self, progress: Callable[[], None]) -> None:
        while len(self._events) > self._batch_size:
            self._submit(progress)
        if self._events and self._in_flight:
            self._submit(progress)
        while self._in_flight:
            self._settle_oldest(progress)
        if self._events:  # the last batch, and no writer busy: stored here
            events, customers, lines = self._take()
            self._settle(self._store(events, customers, lines, None), events, progress)

    def _take(self) -> tuple[list[UsageEvent], list[str], list[int]]:
        """The next batch's events, their owners and lines, taken from those waiting."""
        size = min(self._batch_size, len(self._events))
        events, customers, lines = self._events[:size], self._customers[:size], self._lines[:size]
        del self._events[:size], self._customers[:size], self._lines[:size]
        return events, customers, lines

    def _submit(self, progress: Callable[[], None]) -> None:
        events, customers, lines = self._take()
        # Prepared here, so that the writers only write: all the Python work is
        # on this thread, and a store that writes without the interpreter lock
        # (the SQL stores) writes side by side with it.
        with self._uow_factory(self._tenant, read_only=True) as uow:
            prepared = uow.events.prepare(events, customers, self._received_at)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self._limit, thread_name_prefix="ingest")
        future = self._pool.submit(self._store, events, customers, lines, prepared)
        self._in_flight.append((future, events))
        while len(self._in_flight) > self._limit:
            self._settle_oldest(progress)

    def _settle_oldest(self, progress: Callable[[], None]) -> None:
        future, events = self._in_flight[0]
        done = future.result()
        self._in_flight.popleft()  # once settled: interrupted while waiting, it is counted on exit
        self._settle(done, events, progress)

    def _settle(
        self, done: _Stored, events: list[UsageEvent], progress: Callable[[], None]
    ) -> None:
        self._screen.stored(map(_ID, events))
        self.stored += done.stored
        self.conflicting += len(done.conflicts)
        self._conflicts.extend(done.conflicts)
        self.duplicate_lines.extend(done.duplicate_lines)
        self.written += len(events)
        progress()

    def _store(
        self,
        events: list[UsageEvent],
        customers: list[str],
        lines: list[int],
        prepared: PreparedEvents | None,
    ) -> _Stored:
        """Write a batch (prepared here first, if it was not). The store says which ids it
        skipped, holding them already (the unique index decides, at write time, even
        beside another ingest of the same ids); the events it holds under them, read
        back, tell each skipped event a duplicate or a conflict."""
        with self._uow_factory(self._tenant) as uow:
            if prepared is None:  # before the first statement, which on SQLite takes the lock
                prepared = uow.events.prepare(events, customers, self._received_at)
            # Held before writing: then it waits for nothing while it writes.
            history = uow.devices.hold_counted()
            appended = uow.events.append_prepared(prepared)
            held = _Held.read(uow, appended.skipped)
            _follow_moves(uow, self._screen, (event.device for event in events), history)
            uow.commit()
        return held.stored(appended.stored, events, lines)


@dataclass(frozen=True, slots=True)
class _Stored:
    """What writing a batch did: how many events were new, which were conflicts, and the
    lines of the duplicates."""

    stored: int
    conflicts: list[EventConflict]
    duplicate_lines: list[int]


@dataclass(frozen=True, slots=True)
class _Held:
    """What the store held of a batch's ids when it wrote the batch: the events under
    the ids it skipped, read back in the same transaction."""

    held: dict[str, UsageEvent]

    @classmethod
    def read(cls, uow: UnitOfWork, skipped: Sequence[str]) -> _Held:
        return cls(uow.events.find(list(skipped)) if skipped else {})

    def stored(self, new: int, events: list[UsageEvent], lines: list[int]) -> _Stored:
        """What writing ``events`` (of input ``lines``) did, ``new`` of them being new: the
        events whose id the store held with other content are conflicts, those it held
        the same are duplicates. Only the events under held ids are compared (comparing
        every event of a batch with itself took longer than reading the held ones)."""
        conflicts: list[EventConflict] = []
        duplicates: list[int] = []
        held = self.held
        if held:
            for index, id in enumerate(map(_ID, events)):
                if id in held:
                    if held[id] == events[index]:
                        duplicates.append(lines[index])
                    else:
                        conflicts.append(EventConflict(lines[index], id, None))
        return _Stored(new, conflicts, duplicates)


def _follow_moves(
    uow: UnitOfWork, screen: Screen, devices: Iterable[str], history: int | None = None
) -> None:
    """Give the events of ``devices`` moved since the screen read them to the new owner.

    A move recorded while an ingest runs passes the device's stored events to
    the new owner, but not those that the ingest attributed by the history it
    read before and stores after. So the transaction storing them holds the
    devices (a move waits for it, or it for the move), and once they are stored
    does that move's work too. The history length tells, in one read, whether
    any device moved at all; a device's history only ever grows, by moves at
    its end. ``history`` is that length as read once the devices were held
    (no move changes it while they are), else it is read now.
    """
    if history is None:
        history = uow.devices.history_length()
    if history == screen.history:
        return
    ids = sorted(set(devices))
    current = uow.devices.find(ids)
    for id in ids:
        before, now = screen.devices[id].ownership, current[id].ownership
        for previous, entry in zip(now[len(before) - 1 :], now[len(before) :], strict=False):
            uow.events.reassign(id, previous.customer_id, entry.start, entry.customer_id)
