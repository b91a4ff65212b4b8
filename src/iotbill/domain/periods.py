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

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MICROSECOND = timedelta(microseconds=1)


def require_aware(instant: datetime, location: str = "timestamp") -> datetime:
    """``instant`` converted to UTC; :class:`InvalidInput` if it has no offset."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise InvalidInput.at(location, "must include a UTC offset (naive times are ambiguous)")
    return instant.astimezone(UTC)


def to_micros(instant: datetime) -> int:
    """Microseconds since the Unix epoch of an aware instant, exactly."""
    return (instant - EPOCH) // ONE_MICROSECOND


def from_micros(micros: int) -> datetime:
    """The aware UTC instant ``micros`` microseconds after the Unix epoch."""
    return EPOCH + timedelta(microseconds=micros)


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
    naive = datetime(day.year, day.month, day.day)
    local = naive.replace(tzinfo=in_zone)
    # A skipped local time does not round-trip through UTC: step forward to the
    # first existing instant of that day.
    as_utc = local.astimezone(UTC)
    if as_utc.astimezone(in_zone).replace(tzinfo=None) != naive:
        as_utc = local.replace(fold=1).astimezone(UTC)
    return as_utc


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """A half-open interval of time ``[start, end)`` between aware UTC instants."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        require_aware(self.start, "period.start")
        require_aware(self.end, "period.end")
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
