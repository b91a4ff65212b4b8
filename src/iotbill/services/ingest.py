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

from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import repeat
from operator import attrgetter
from types import TracebackType
from typing import Any, Protocol, Self

from iotbill.domain.catalog import Plan
from iotbill.domain.customers import Device
from iotbill.domain.entitlements import MeteredFeature
from iotbill.domain.errors import InvalidInput
from iotbill.domain.events import (
    Lines,
    Rejection,
    SourcedEvent,
    UsageEvent,
    naming_another,
    naming_problem,
)
from iotbill.domain.input_rules import DEFAULT_CLOCK_SKEW, skew_problem
from iotbill.domain.metering.checks import MeterChecks
from iotbill.domain.subscriptions import PlanKey, Subscription
from iotbill.services.entitlements import record_alerts
from iotbill.services.ports import Clock, PreparedEvents, UnitOfWork, UnitOfWorkFactory

DEFAULT_BATCH_SIZE = 100_000
DEFAULT_WRITERS = 2
"""Two: PostgreSQL writes two batches side by side; on SQLite, which takes one
writer at a time, the second waits, prepared, for its turn."""
_ID = attrgetter("id")
_EVENT = attrgetter("event")

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
Named = tuple[dict[str, UsageEvent], dict[str, str]]
"""Stored events by id, and the ids of those that a stored event corrects or voids (each with
that event's id): what checking events that name earlier ones needs."""


@dataclass(frozen=True, slots=True)
class EventConflict:
    """A line whose id an earlier event has, with other content: the first event stands.

    ``first_line`` is the line of that event in this input, ``None`` if it was stored
    before (by another ingest, or by this one in a batch written already)."""

    line: int
    id: str
    first_line: int | None

    @property
    def reason(self) -> str:
        where = (
            "an event stored before"
            if self.first_line is None
            else f"the event of line {self.first_line}"
        )
        return f"id: {self.id!r} is the id of {where}, with other content; the first one stands"


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
    conflicts: tuple[EventConflict, ...] = ()
    duplicate_lines: tuple[int, ...] = ()

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
    screen = _Screen(received_at, clock_skew)
    refused: list[Rejection] = []
    conflicts: list[EventConflict] = []
    duplicates: list[int] = []  # the lines of the repeats within the input
    passed = set_apart = 0
    alerting: dict[str, datetime] = {}  # customers on plans with usage alerts: latest event
    store: _Writer = (
        _Atomic(uow_factory, tenant, received_at, batch_size, refused, screen, conflicts)
        if atomic
        else _Batches(
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
        with store:
            for stretch in stretches:
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
            stored = store.finish(progress)
    except KeyboardInterrupt:  # the store has committed, or rolled back, every batch begun
        raise IngestInterrupted(0 if atomic else store.stored) from None
    refused.sort(key=lambda rejection: rejection.line)
    conflicts.sort(key=lambda conflict: conflict.line)
    if atomic and refused:
        return IngestReport(0, 0, tuple(refused), tuple(conflicts))
    lines = tuple(sorted([*duplicates, *store.duplicate_lines]))
    if stored and alerting:
        with uow_factory(tenant) as uow:
            record_alerts(uow, alerting, at=received_at)
            uow.commit()
    from_store = passed - stored - store.conflicting
    return IngestReport(
        stored, len(duplicates) + from_store, tuple(refused), tuple(conflicts), lines
    )


@dataclass(frozen=True, slots=True)
class _Screened:
    """A stretch's events to store, each with its owner, and what was set aside."""

    events: list[UsageEvent]
    customers: list[str]
    lines: list[int]
    refused: list[Rejection]
    duplicates: list[int]
    """The lines of the repeats of a line that stands, with the same content."""
    conflicts: list[EventConflict]


class _Screen:
    """Decides each line's fate, a stretch at a time, remembering what earlier ones held.

    Each line is its own record (:class:`~iotbill.domain.events.SourcedEvent`):
    the screen gives it its owner, or refuses it with a reason, and keeps the
    lines that stand. Devices, and the meter checks of their owners, are read
    from the store the first time a stretch names them; ids are remembered so
    that a repeat is known whichever stretch it falls in.
    """

    def __init__(self, received_at: datetime, clock_skew: timedelta) -> None:
        self._received_at = received_at
        self._clock_skew = clock_skew
        self._latest = received_at + clock_skew
        """The latest timestamp an event received now may carry."""
        self.devices: dict[str, Device] = {}
        """Each device named so far, as first read: entries are added, never changed."""
        self.history: int | None = None
        """The tenant's device history length before the first device was read."""
        self._unknown: set[str] = set()
        self._customers: set[str] = set()
        self._subscriptions: list[Subscription] = []
        self._plans: dict[PlanKey, Plan] = {}
        self._checks = MeterChecks([], {})
        self.alerting: set[str] = set()
        """The customers read so far whose plans set usage alerts on a metered feature."""
        self._in_flight: dict[str, SourcedEvent] = {}
        """The lines that stand of the batches not yet stored, by id: a repeat of one is
        decided here, its first line known. A repeat of an id stored before is decided
        by the store, which skips it, and by the stored event, read back."""
        self._refused: dict[str, int] = {}  # id -> line of its first, rejected, event
        self._replaced: dict[str, str] = {}  # id -> the id of the event here that replaces it

    def screen(
        self, uow: UnitOfWork, stretch: Lines, lookup: Callable[[list[str]], Named]
    ) -> _Screened:
        lines = stretch.events
        self._attribute(uow, lines)
        owned = [line for line in lines if line.refusal is None]
        firsts, repeats = self._firsts(owned)
        # Taken now: a look at the store below lets the writers finish their batches.
        in_flight = self._in_flight
        earlier = {
            line.event.id: in_flight[line.event.id]
            for line in repeats
            if line.event.id in in_flight
        }
        self._check_clock(firsts)
        self._check_meters(uow, firsts)
        naming = [
            line
            for line in map(firsts.__getitem__, naming_another(list(map(_EVENT, firsts))))
            if not line.refusal
        ]
        if naming:
            self._check_naming(firsts, naming, lookup)
        chosen: list[SourcedEvent] = []
        for line in firsts:
            if line.refusal is None:
                chosen.append(line)
            else:
                self._refused[line.event.id] = line.line
        duplicates: list[int] = []
        conflicts: list[EventConflict] = []
        here = {line.event.id: line for line in chosen}
        for line in repeats:
            id = line.event.id
            first_line = self._refused.get(id)
            if first_line is not None:
                line.refuse(f"id: repeats the id of line {first_line}, which was rejected")
                continue
            first = here.get(id) or earlier[id]
            if first.event == line.event:
                duplicates.append(line.line)
            else:
                conflicts.append(EventConflict(line.line, id, first.line))
        self._in_flight.update(here)
        refused = [*stretch.rejected, *(line.rejection() for line in lines if line.refusal)]
        return _Screened(
            [line.event for line in chosen],
            [line.customer or "" for line in chosen],
            [line.line for line in chosen],
            refused,
            duplicates,
            conflicts,
        )

    def stored(self, ids: Iterable[str]) -> None:
        """The events of ``ids`` are stored (in a transaction committed, or in the one
        transaction of an atomic ingest): a repeat is now for the store to decide."""
        # Popped in C (a deque of no length keeps nothing): a Python loop over a
        # batch's ids cost as much as a tenth of the decoding.
        deque(map(self._in_flight.pop, ids, repeat(None)), maxlen=0)

    def _attribute(self, uow: UnitOfWork, lines: Sequence[SourcedEvent]) -> None:
        """Give each line the owner of its device at its timestamp, or refuse it."""
        events = [line.event for line in lines]
        named = {event.device for event in events}
        new = named - self.devices.keys() - self._unknown
        if new:
            if self.history is None:  # read first: a move after it is seen when storing
                self.history, found = uow.devices.find_counted(sorted(new))
            else:
                found = uow.devices.find(sorted(new))
            self.devices.update(found)
            self._unknown.update(new - found.keys())
        devices = {id: self.devices[id] for id in named if id in self.devices}
        owners = _owners(events, devices)
        retired = {id for id, device in devices.items() if device.retired_at is not None}
        if retired:  # a retired device reports no usage from its retirement on
            for index, event in enumerate(events):
                if event.device in retired and devices[event.device].retired_by(event.timestamp):
                    owners[index] = None
        for line, owner in zip(lines, owners, strict=True):
            line.customer = owner
            line.refusal = None if owner is not None else self._no_owner(line.event)

    def _firsts(self, lines: list[SourcedEvent]) -> tuple[list[SourcedEvent], list[SourcedEvent]]:
        """The lines whose id no line before had (in this stretch, in a batch not yet
        stored, or refused), and the repeats."""
        stored, refused = self._in_flight, self._refused
        ids = set(map(_ID, map(_EVENT, lines)))
        if (
            len(ids) == len(lines)
            and stored.keys().isdisjoint(ids)
            and refused.keys().isdisjoint(ids)
        ):
            return lines, []  # the usual case, decided by set operations in C
        firsts: list[SourcedEvent] = []
        repeats: list[SourcedEvent] = []
        seen: set[str] = set()
        for line in lines:
            id = line.event.id
            if id in seen or id in stored or id in refused:
                repeats.append(line)
            else:
                seen.add(id)
                firsts.append(line)
        return firsts, repeats

    def _check_clock(self, lines: list[SourcedEvent]) -> None:
        """Refuse the lines stamped more than the clock skew after they were received
        (:func:`~iotbill.domain.input_rules.skew_problem`)."""
        latest = self._latest
        for line in lines:
            if line.event.timestamp > latest:
                wrong = skew_problem(line.event.timestamp, self._received_at, self._clock_skew)
                line.refuse(f"timestamp: {wrong}")

    def _check_meters(self, uow: UnitOfWork, lines: list[SourcedEvent]) -> None:
        """Refuse the lines that a meter billing their owner refuses (a void has nothing
        to measure)."""
        checks = self._meter_checks(uow, {line.customer or "" for line in lines})
        measured = [line for line in lines if line.event.voids is None]
        found = checks.refused(
            [line.event for line in measured],
            [line.customer or "" for line in measured],
        )
        for position, reason in found.items():
            measured[position].refuse(reason)

    def _check_naming(
        self,
        firsts: list[SourcedEvent],
        naming: list[SourcedEvent],
        lookup: Callable[[list[str]], Named],
    ) -> None:
        """Refuse each line of ``naming`` that may not correct or void the event it names
        (:func:`~iotbill.domain.events.naming_problem`): the named event is looked for on
        earlier lines that stand, then in the store."""
        here = {line.event.id: line for line in firsts if line.refusal is None}
        rejected = {line.event.id: line.line for line in firsts if line.refusal is not None}
        names = sorted({line.event.replaces or "" for line in naming})
        stored, replaced = lookup(names)  # every name: a stored event may be sent again
        for line in naming:
            event = line.event
            named = event.replaces or ""
            earlier = here.get(named)
            problem = naming_problem(
                event,
                earlier.event if earlier is not None and earlier.line < line.line else None,
                stored=stored.get(named),
                named_by=self._replaced.get(named) or replaced.get(named),
                rejected_line=rejected.get(named, self._refused.get(named)),
            )
            if problem is None:
                self._replaced[named] = event.id
                continue
            line.refuse(str(problem))
            here.pop(event.id, None)  # what names it is refused in turn
            rejected[event.id] = line.line

    def _no_owner(self, event: UsageEvent) -> str:
        """Why ``event`` has no owner."""
        device = self.devices.get(event.device)
        if device is None:
            return f"device: unknown device {event.device!r} (add it first)"
        if device.retired_by(event.timestamp):
            assert device.retired_at is not None
            return (
                f"timestamp: device {event.device!r} is retired since"
                f" {device.retired_at.isoformat()}: it reports no usage from then on"
            )
        return (
            f"timestamp: device {event.device!r} had no owner at {event.timestamp.isoformat()} "
            f"(its first owner starts at {device.ownership[0].start.isoformat()})"
        )

    def _meter_checks(self, uow: UnitOfWork, customers: set[str]) -> MeterChecks:
        new = customers - self._customers
        if new:
            self._customers |= new
            subscriptions = uow.subscriptions.for_customers(sorted(new))
            keys = {phase.plan_key for s in subscriptions for phase in s.phases}
            for key in sorted(keys - self._plans.keys()):
                self._plans[key] = uow.plans.get(*key).plan
            self.alerting.update(
                subscription.customer_id
                for subscription in subscriptions
                if any(_alerts(self._plans[phase.plan_key]) for phase in subscription.phases)
            )
            if subscriptions:
                self._subscriptions.extend(subscriptions)
                self._checks = MeterChecks(self._subscriptions, self._plans)
        return self._checks


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


def _alerts(plan: Plan) -> bool:
    """Whether ``plan`` sets usage alerts on a metered feature."""
    return any(isinstance(f, MeteredFeature) and f.alerts for f in plan.features)


def _owners(events: Sequence[UsageEvent], devices: dict[str, Device]) -> list[str | None]:
    """Who owned each event's device at its timestamp (``None``: unknown, or nobody yet)."""
    device_ids = [event.device for event in events]
    first_owner = {id: device.ownership[0] for id, device in devices.items()}
    owners: list[str | None] = list(
        map({id: owner.customer_id for id, owner in first_owner.items()}.get, device_ids)
    )
    earliest = min((event.timestamp for event in events), default=None)
    # One look at each event only for the devices that changed hands, or whose first
    # owner starts after the earliest event; the others' events all have that owner.
    careful = {
        id
        for id, device in devices.items()
        if len(device.ownership) > 1 or (earliest is not None and first_owner[id].start > earliest)
    }
    if careful:
        for index in [index for index, id in enumerate(device_ids) if id in careful]:
            ownership = devices[device_ids[index]].ownership
            at = bisect_right([owner.start for owner in ownership], events[index].timestamp) - 1
            owners[index] = ownership[at].customer_id if at >= 0 else None
    return owners


class _Writer(Protocol):
    """Where screened events go: all into one transaction (:class:`_Atomic`), or in
    batches of their own, several at once (:class:`_Batches`).

    Entered for the whole ingest; ``written`` counts the events handed to the
    store so far (for progress), :meth:`finish` returns how many were new.
    """

    written: int
    stored: int
    """How many of the events handed to the store were new, in transactions committed."""
    conflicting: int
    """How many of the events handed to the store were conflicts with stored ones."""
    duplicate_lines: list[int]
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


class _Atomic:
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
        screen: _Screen,
        conflicts: list[EventConflict],
    ) -> None:
        self._uow = uow_factory(tenant)
        self._received_at = received_at
        self._batch_size = batch_size
        self._refused = refused
        self._screen = screen
        self._conflicts = conflicts
        self._named: set[str] = set()
        self.stored = self.written = self.conflicting = 0
        self.duplicate_lines: list[int] = []

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
            held = _Held.read(self._uow, appended.skipped)
            found = held.conflicts(events[chunk], lines[chunk])
            self._conflicts.extend(found)
            self.conflicting += len(found)
            self.duplicate_lines += held.duplicates(events[chunk], lines[chunk])
            self._screen.stored(map(_ID, events[chunk]))
            self.stored += appended.stored
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


class _Batches:
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
        screen: _Screen,
        conflicts: list[EventConflict],
        *,
        streamed: bool = True,
    ) -> None:
        self._uow_factory = uow_factory
        self._screen = screen
        self._conflicts = conflicts
        self.conflicting = 0
        self.duplicate_lines: list[int] = []
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
        self.duplicate_lines += done.duplicate_lines
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
        return _Stored(
            appended.stored, held.conflicts(events, lines), held.duplicates(events, lines)
        )


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

    def conflicts(self, events: list[UsageEvent], lines: list[int]) -> list[EventConflict]:
        """The events whose id the store held with other content."""
        return [
            EventConflict(line, event.id, None)
            for event, line in zip(events, lines, strict=True)
            if self.held.get(event.id, event) != event
        ]

    def duplicates(self, events: list[UsageEvent], lines: list[int]) -> list[int]:
        """The lines of the events the store held, the same."""
        return [
            line
            for event, line in zip(events, lines, strict=True)
            if self.held.get(event.id) == event
        ]


def _follow_moves(
    uow: UnitOfWork, screen: _Screen, devices: Iterable[str], history: int | None = None
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
