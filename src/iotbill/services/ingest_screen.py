"""The screen of an ingest (:mod:`iotbill.services.ingest`): each line's owner, or why
it is refused, and the fate of each repeated id.

A stretch of lines at a time, the screen reads the devices it names and the meter
checks of their owners, refuses what the input rules, the clock or a meter refuse,
and keeps the ids of the lines that stand in the batches not yet stored (and of
every line refused), so that a repeat is decided at once, its first line known.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import repeat
from operator import attrgetter
from typing import overload

from iotbill.domain.catalog import Plan
from iotbill.domain.customers import Device
from iotbill.domain.entitlements import MeteredFeature
from iotbill.domain.events import (
    Lines,
    Rejection,
    SourcedEvent,
    UsageEvent,
    naming_another,
    naming_problem,
)
from iotbill.domain.input_rules import skew_problem
from iotbill.domain.metering.checks import MeterChecks
from iotbill.domain.subscriptions import PlanKey, Subscription
from iotbill.services.ports import UnitOfWork

_ID = attrgetter("id")
_EVENT = attrgetter("event")

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


class Conflicts(Sequence[EventConflict]):
    """Conflicts kept in columns: each line, first line and id in a few bytes of arrays.

    An ingest lists every conflict in its report, so what it keeps of one grows with the
    input: an :class:`EventConflict` with its id took about 190 bytes, these columns take
    8 + 8 + the id's UTF-8 bytes + 8 (about 60 for a UUID). 300,000 conflicts with UUID ids
    take 18 MiB instead of 52 MiB. Items are made when read:

    >>> conflicts = Conflicts([EventConflict(4, "e1", 1), EventConflict(2, "é", None)])
    >>> list(conflicts.by_line())
    [EventConflict(line=2, id='é', first_line=None), EventConflict(line=4, id='e1', first_line=1)]
    >>> conflicts == (EventConflict(4, "e1", 1), EventConflict(2, "é", None))
    True
    """

    __slots__ = ("_ends", "_firsts", "_ids", "_lines")
    _NONE = -1  # the first line of a conflict with a stored event (lines count from 1)

    def __init__(self, conflicts: Iterable[EventConflict] = ()) -> None:
        self._lines = array("q")
        self._firsts = array("q")
        self._ids = bytearray()
        self._ends = array("q")
        self.extend(conflicts)

    def extend(self, conflicts: Iterable[EventConflict]) -> None:
        for conflict in conflicts:
            self._lines.append(conflict.line)
            self._firsts.append(self._NONE if conflict.first_line is None else conflict.first_line)
            self._ids += conflict.id.encode()
            self._ends.append(len(self._ids))

    def by_line(self) -> Conflicts:
        """The same conflicts in the order of their lines (as found, where lines tie)."""
        order = sorted(range(len(self)), key=self._lines.__getitem__)
        ordered = Conflicts()
        ordered._lines = array("q", map(self._lines.__getitem__, order))
        ordered._firsts = array("q", map(self._firsts.__getitem__, order))
        for index in order:
            ordered._ids += self._ids[self._ends[index - 1] if index else 0 : self._ends[index]]
            ordered._ends.append(len(ordered._ids))
        return ordered

    def __len__(self) -> int:
        return len(self._lines)

    @overload
    def __getitem__(self, index: int) -> EventConflict: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[EventConflict, ...]: ...

    def __getitem__(self, index: int | slice) -> EventConflict | tuple[EventConflict, ...]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self))))
        count = len(self)
        if not -count <= index < count:
            raise IndexError("conflict index out of range")
        index %= count
        start = self._ends[index - 1] if index else 0
        first = self._firsts[index]
        return EventConflict(
            self._lines[index],
            self._ids[start : self._ends[index]].decode(),
            None if first == self._NONE else first,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # mutable: appended to as an ingest goes

    def __repr__(self) -> str:
        return f"Conflicts({list(self)!r})"


@dataclass(frozen=True, slots=True)
class Screened:
    """A stretch's events to store, each with its owner, and what was set aside."""

    events: list[UsageEvent]
    customers: list[str]
    lines: list[int]
    refused: list[Rejection]
    duplicates: list[int]
    """The lines of the repeats of a line that stands, with the same content."""
    conflicts: list[EventConflict]


class Screen:
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
    ) -> Screened:
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
        return Screened(
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
