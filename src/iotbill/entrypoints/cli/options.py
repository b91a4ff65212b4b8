"""Parsing of option values shared by commands: instants, dates and zones."""

from __future__ import annotations

from datetime import UTC, date, datetime

from iotbill.domain.errors import InvalidInput
from iotbill.domain.periods import local_midnight, zone


def parse_instant(text: str, flag: str, timezone: str | None = None) -> datetime:
    """An aware UTC instant from a date (local midnight in ``timezone``, else UTC) or a time.

    A date and time must carry a UTC offset (``2026-01-01T00:00:00+01:00``).
    """
    in_zone = zone(timezone, "--timezone") if timezone else None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass
    else:
        return (
            local_midnight(day, in_zone)
            if in_zone
            else datetime(day.year, day.month, day.day, tzinfo=UTC)
        )
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput.at(
            flag, f"{text!r} is neither a date (2026-01-31) nor a date and time with an offset"
        ) from None
    if instant.tzinfo is None:
        raise InvalidInput.at(
            flag, f"{text!r} has no UTC offset: add one (e.g. Z or +01:00) or give a date"
        )
    return instant.astimezone(UTC)
