"""Time: aware UTC instants and half-open periods ``[start, end)``.

Every instant iotbill handles is timezone-aware; a naive ``datetime`` is a bug
and is refused. A customer's time zone is used only to find period boundaries
(local midnight); the boundaries themselves are UTC instants.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from iotbill.domain.errors import InvalidInput
from iotbill.domain.input_rules import EARLIEST, LATEST, instant_problem

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MICROSECOND = timedelta(microseconds=1)


def require_aware(instant: datetime, location: str = "timestamp") -> datetime:
    """``instant`` converted to UTC; :class:`InvalidInput` if it has no offset."""
    if instant.tzinfo is UTC:  # UTC already, as every instant read from the store is
        return instant
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise InvalidInput.at(location, "must include a UTC offset (naive times are ambiguous)")
    return instant.astimezone(UTC)


def require_input_instant(instant: datetime, location: str) -> datetime:
    """An instant given as input, converted to UTC: :func:`require_aware`, and in the
    range of :func:`~iotbill.domain.input_rules.instant_problem` (1970 to 9000)."""
    if instant.tzinfo is not None and instant.utcoffset() is not None:
        wrong = instant_problem(instant)
        if wrong is not None:
            raise InvalidInput.at(location, wrong)
    return require_aware(instant, location)


def require_in_range(day: date, location: str) -> date:
    """``day`` if its midnight lies in the range of instants in every zone (from
    1970-01-02 to 8999-12-30); :class:`InvalidInput` at ``location`` otherwise."""
    first, last = EARLIEST.date() + timedelta(days=1), LATEST.date() - timedelta(days=2)
    if not first <= day <= last:
        raise InvalidInput.at(location, f"{day.isoformat()} is outside {first} to {last}")
    return day


def to_micros(instant: datetime) -> int:
    """Microseconds since the Unix epoch of an aware instant, exactly."""
    return (instant - EPOCH) // ONE_MICROSECOND


def from_micros(micros: int) -> datetime:
    """The aware UTC instant ``micros`` microseconds after the Unix epoch."""
    return EPOCH + timedelta(0, 0, micros)  # positional: a third faster, for millions of events


def zone(name: str, location: str = "timezone") -> ZoneInfo:
    """The IANA time zone ``name``; :class:`InvalidInput` if unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput.at(location, f"unknown IANA time zone {name!r}") from None


def local_midnight(day: date, in_zone: ZoneInfo) -> datetime:
    """The UTC instant at which ``day`` begins in ``in_zone``.

    Where a zone skips midnight (a DST change at 00:00), the day begins at the
    first local time that exists.
    """
    return local_instant(datetime(day.year, day.month, day.day), in_zone)


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """A half-open interval of time ``[start, end)`` between aware UTC instants."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        start, end = self.start, self.end
        if start.utcoffset() is None or end.utcoffset() is None:  # (None for a naive one)
            require_aware(start, "period.start")
            require_aware(end, "period.end")
        if self.end <= self.start:
            raise InvalidInput.at("period", f"end {self.end} must be after start {self.start}")

    def __contains__(self, instant: datetime) -> bool:
        return self.start <= instant < self.end

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    @property
    def start_micros(self) -> int:
        return to_micros(self.start)

    @property
    def end_micros(self) -> int:
        return to_micros(self.end)

    def __str__(self) -> str:
        return f"[{self.start.isoformat()}, {self.end.isoformat()})"


def local_instant(wall: datetime, in_zone: ZoneInfo, *, later: bool = False) -> datetime:
    """The UTC instant at which the clocks of ``in_zone`` show the wall time ``wall``.

    ``wall`` is read as a local date and time (any ``tzinfo`` it carries is
    ignored). A wall time that a DST change repeats is taken at its first
    occurrence, or its second if ``later``. A wall time that a DST change skips
    is moved later by the length of the gap (02:30 on a night that jumps from
    02:00 to 03:00 becomes 03:30), as ``java.time`` does: where clocks jump
    from 00:00 to 01:00, that day begins at 01:00, its first instant.

    >>> berlin = ZoneInfo("Europe/Berlin")
    >>> local_instant(datetime(2026, 3, 29, 2, 30), berlin).isoformat()
    '2026-03-29T01:30:00+00:00'
    >>> local_instant(datetime(2026, 10, 25, 2, 30), berlin, later=True).isoformat()
    '2026-10-25T01:30:00+00:00'
    """
    naive = wall.replace(tzinfo=None)
    first = naive.replace(tzinfo=in_zone, fold=0).astimezone(UTC)
    second = naive.replace(tzinfo=in_zone, fold=1).astimezone(UTC)
    if first == second:
        return first
    repeated = first.astimezone(in_zone).replace(tzinfo=None, fold=0) == naive
    if repeated and later:
        return second
    # Repeated: fold 0 is the first occurrence. Skipped: fold 0 reads the wall
    # time with the offset in force before the gap, which lands after it.
    return first
