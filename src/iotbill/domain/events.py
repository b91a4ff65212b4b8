"""Usage events: what a device reports, and how a batch of them is deduplicated.

A usage event is ``{"id", "type", "device", "timestamp", "properties"}``. The
``id`` is the idempotency key: a repeat with the same content is a *duplicate*
(counted once, reported), a repeat with different content is a *conflict*
(reported; the first one stands). Timestamps carry a UTC offset; naive ones
are refused when decoded. An event may name an earlier one with ``corrects``
(its properties replace the earlier event's) or ``voids`` (the earlier event
no longer counts); see :func:`counting`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Annotated, Any

import msgspec

from iotbill.domain.errors import Problem
from iotbill.domain.input_rules import (
    EARLIEST,
    LATEST,
    instant_problem,
    nesting_problem,
    text_problem,
)

NonEmpty = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
MAX_PROPERTY_NAME = 256
"""The longest name of a property (a key of ``properties``): the stores keep each
property's daily sums under its name, in a column of 256 characters."""
AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]
_CORRECTS = attrgetter("corrects")
_VOIDS = attrgetter("voids")


class UsageEvent(msgspec.Struct, frozen=True, forbid_unknown_fields=True, gc=False):
    """One report from a device.

    ``properties`` holds JSON values; numbers are exact (``int`` or
    ``Decimal``), never binary floats.
    """

    id: NonEmpty
    type: NonEmpty
    device: NonEmpty
    timestamp: AwareDatetime
    properties: dict[str, Any] = msgspec.field(default_factory=dict)
    corrects: NonEmpty | None = None
    """The id of an earlier event whose properties this one replaces (same device, type
    and timestamp): from then on this event counts instead of it."""
    voids: NonEmpty | None = None
    """The id of an earlier event that no longer counts. A void has no properties and
    counts for nothing itself."""

    def replacement_problem(self) -> Problem | None:
        """What is wrong with how this event names another (checked where events are
        decoded, only for those that name one: a check per event would cost every event)."""
        if self.corrects is not None and self.voids is not None:
            return Problem("voids", "an event either corrects or voids another, not both")
        if self.replaces == self.id:
            field = "corrects" if self.voids is None else "voids"
            return Problem(field, f"event {self.id!r} cannot correct or void itself")
        if self.voids is not None and self.properties:
            return Problem("properties", "a void has none: it only says an event does not count")
        return None

    @property
    def replaces(self) -> str | None:
        """The id of the event this one corrects or voids, if any."""
        return self.corrects if self.voids is None else self.voids


def naming_another(events: Sequence[UsageEvent]) -> list[int]:
    """The positions of the events that correct or void another: usually none, told
    without a Python call per event.

    >>> from datetime import UTC
    >>> at = datetime(2026, 1, 1, tzinfo=UTC)
    >>> plain = UsageEvent("a", "t", "d", at)
    >>> naming_another([plain, UsageEvent("b", "t", "d", at, corrects="a"), plain])
    [1]
    """
    corrects = list(map(_CORRECTS, events))
    voids = list(map(_VOIDS, events))
    if corrects.count(None) == len(events) and voids.count(None) == len(events):
        return []
    return [
        position
        for position, (corrected, voided) in enumerate(zip(corrects, voids, strict=True))
        if corrected is not None or voided is not None
    ]


def counting(events: Sequence[UsageEvent]) -> list[int] | None:
    """The positions of the events that count, or ``None`` when they all do.

    Events that name earlier ones form chains: an event counts if it is not a
    void, nothing names it, and every link from it back to the first event of
    its chain stands. A correction keeps the device, type and timestamp of the
    event it replaces, so a whole chain lies in every window that holds any of
    it; what counts then depends only on which of its events are known.
    Voiding a correction voids the reading. An event is named once (ingest and
    the store see to it); should two name the same event all the same, only
    the one whose id sorts last stands, with what follows it, never both.

    >>> from datetime import UTC
    >>> from datetime import UTC
    >>> at = datetime(2026, 1, 1, tzinfo=UTC)
    >>> def event(id: str, **naming: str) -> UsageEvent:
    ...     properties = {} if "voids" in naming else {"m3": 1}
    ...     return UsageEvent(id, "flow", "p1", at, properties, **naming)
    >>> a, b = event("a"), event("b", corrects="a")
    >>> counting([a]) is None, counting([a, b]), counting([a, b, event("c", voids="b")])
    (True, [1], [])
    >>> counting([a, b, event("c", corrects="b"), event("d", corrects="a")])  # c follows b, lost
    [3]
    >>> counting([event("x", corrects="y"), event("y", corrects="x"), event("z", corrects="x")])
    []
    """
    winner: dict[str, str] = {}
    for event in events:
        if event.replaces is not None:
            winner[event.replaces] = max(winner.get(event.replaces, ""), event.id)
    if not winner:
        return None
    by_id = {event.id: event for event in events}
    standing: dict[str, bool] = {}

    def stands(event: UsageEvent) -> bool:
        """Whether every link from ``event`` back to the first of its chain stands."""
        chain: list[UsageEvent] = []
        while event.id not in standing and event.replaces is not None:
            if any(link.id == event.id for link in chain):  # a loop: no first event
                standing[event.id] = False
                break
            chain.append(event)
            if winner[event.replaces] != event.id or event.replaces not in by_id:
                standing[event.id] = winner[event.replaces] == event.id
                chain.pop()
                break
            event = by_id[event.replaces]
        verdict = standing.setdefault(event.id, True)
        for link in reversed(chain):
            verdict = standing[link.id] = verdict
        return verdict

    return [
        index
        for index, event in enumerate(events)
        if event.voids is None and event.id not in winner and stands(event)
    ]


_TEXT_FIELDS = ("id", "type", "device", "corrects", "voids")


def event_problem(event: UsageEvent) -> Problem | None:
    """What breaks a rule of :mod:`~iotbill.domain.input_rules` in ``event``, if anything:
    a timestamp outside 1970-01-01..9000-01-01 UTC, a NUL in any text, a property name
    longer than 256 characters, properties nested deeper than 32 levels. (Other lengths
    are bounded by the type: 256 characters; fractional digits and keys named twice only
    the text shows: the decoder checks them.)

    >>> from datetime import UTC
    >>> late = UsageEvent("e1", "flow", "p1", datetime(9999, 12, 31, tzinfo=UTC))
    >>> str(event_problem(late))
    'timestamp: 9999-12-31T00:00:00+00:00 is not before 9000-01-01T00:00:00+00:00 (UTC)'
    """
    if not EARLIEST <= event.timestamp < LATEST:
        return Problem("timestamp", str(instant_problem(event.timestamp)))
    for name in _TEXT_FIELDS:
        text = getattr(event, name)
        if text is not None and "\x00" in text:
            return Problem(name, str(text_problem(text)))
    for name in event.properties:
        if len(name) > MAX_PROPERTY_NAME:
            return Problem(
                "properties",
                f"a property name is {len(name):,} characters long; at most"
                f" {MAX_PROPERTY_NAME} are allowed ({name[:20]!r}...)",
            )
    wrong = nesting_problem(event.properties)
    return Problem("properties", wrong) if wrong is not None else None


def naming_problem(
    event: UsageEvent,
    earlier: UsageEvent | None,
    *,
    stored: UsageEvent | None,
    named_by: str | None,
    rejected_line: int | None,
) -> Problem | None:
    """Why ``event`` may not correct or void the event it names, or ``None`` if it may.

    The named event must come first: on an earlier line of the same input
    (``earlier``) or in the store (``stored``). It must count for something (not
    be a void), have the same device, type and timestamp, and not be named
    already by another event (``named_by``, its id): an event is named once, and
    a correction may itself be corrected. ``rejected_line`` is the line of the
    named event when that line was refused.

    >>> from datetime import UTC
    >>> from datetime import UTC
    >>> at = datetime(2026, 1, 1, tzinfo=UTC)
    >>> reading = UsageEvent("a", "flow", "p1", at, {"m3": 5})
    >>> fix = UsageEvent("b", "flow", "p1", at, {"m3": 4}, corrects="a")
    >>> naming_problem(fix, None, stored=reading, named_by=None, rejected_line=None) is None
    True
    >>> print(naming_problem(fix, None, stored=reading, named_by="c", rejected_line=None))
    corrects: event 'a' is already corrected or voided by 'c' (name that one)
    >>> print(naming_problem(fix, None, stored=None, named_by=None, rejected_line=3))
    corrects: names the event of line 3, which was rejected
    """
    problem = event.replacement_problem()
    if problem is not None:
        return problem
    named = event.replaces
    if named is None:
        return None
    field = "corrects" if event.voids is None else "voids"
    target = earlier or stored
    if rejected_line is not None and target is None:
        reason = f"names the event of line {rejected_line}, which was rejected"
    elif target is None:
        reason = f"no earlier event has the id {named!r} (name an event stored before)"
    elif named_by is not None and named_by != event.id:
        reason = f"event {named!r} is already corrected or voided by {named_by!r} (name that one)"
    elif target.voids is not None:
        reason = f"event {named!r} is a void, which counts for nothing"
    elif (target.device, target.type, target.timestamp) != (
        event.device,
        event.type,
        event.timestamp,
    ):
        reason = (
            f"event {named!r} is of device {target.device!r}, type {target.type!r}, at"
            f" {target.timestamp.isoformat()}: a correction or void keeps all three"
            " (void it and send a new event instead)"
        )
    else:
        return None
    return Problem(field, reason)


@dataclass(frozen=True, slots=True)
class EventConflict:
    """A repeated event id whose content differs from the first event with that id."""

    id: str
    first_line: int
    line: int


class SourcedEvent(msgspec.Struct, gc=False):
    """One line of input: an event and where it came from (file line or batch position).

    Ingest makes it the line's record: it sets ``customer``, the device's owner
    at the event's timestamp, or refuses the line with a reason
    (:meth:`refuse`), which becomes the line's :class:`Rejection`. A struct
    rather than a dataclass: an import makes one per line, millions at a time,
    and a struct is made four times faster.
    """

    event: UsageEvent
    line: int
    customer: str | None = None
    """Whom ingest bills the event to (``None`` until it knows)."""
    refusal: str | None = None
    """Why ingest refused the line (``field: reason``), or ``None`` while it stands."""

    def refuse(self, reason: str) -> None:
        """Refuse this line for ``reason``; the first reason given stands."""
        if self.refusal is None:
            self.refusal = reason

    def rejection(self) -> Rejection:
        """The line as refused: :meth:`refuse` was called."""
        assert self.refusal is not None
        return Rejection(self.line, self.refusal)


@dataclass(frozen=True, slots=True)
class Rejection:
    """A line of input that was not stored, and why (``field: reason``)."""

    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class Lines:
    """A stretch of the input, in line order: its readable events and its unreadable lines.

    What a reader of events (a file, a request body) hands to ingest.
    """

    events: Sequence[SourcedEvent]
    rejected: Sequence[Rejection] = ()
