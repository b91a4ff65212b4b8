"""Parsing of option values shared by commands: instants, dates and zones."""

from __future__ import annotations

from datetime import UTC, date, datetime

from iotbill.domain.errors import InvalidInput
from iotbill.domain.input_rules import fraction_problem
from iotbill.domain.periods import local_midnight, require_in_range, require_input_instant, zone

AT_HELP = "When (default: now): a date (UTC midnight) or a time with an offset."
"""The help of an ``--at`` option read by :meth:`Session.instant_or_now`."""


def parse_date_or_instant(text: str, flag: str) -> date | datetime:
    """A date (``2026-01-31``), kept as a date, or an aware UTC instant.

    The caller decides whose midnight a date is (the customer's, for the
    billing commands). A date and time must carry a UTC offset
    (``2026-01-01T00:00:00+01:00`` or ``...Z``); a naive one is refused.
    """
    try:
        return require_in_range(date.fromisoformat(text), flag)
    except ValueError:
        pass
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput.at(
            flag, f"{text!r} is neither a date (2026-01-31) nor a date and time with an offset"
        ) from None
    if (wrong := fraction_problem(text)) is not None:
        raise InvalidInput.at(flag, wrong)
    if instant.tzinfo is None:
        raise InvalidInput.at(
            flag, f"{text!r} has no UTC offset: add one (e.g. Z or +01:00) or give a date"
        )
    return require_input_instant(instant, flag)


def parse_instant(text: str, flag: str, timezone: str | None = None) -> datetime:
    """An aware UTC instant from a date (local midnight in ``timezone``, else UTC) or a time.

    A date and time must carry a UTC offset (``2026-01-01T00:00:00+01:00``).
    """
    in_zone = zone(timezone, "--timezone") if timezone else None
    moment = parse_date_or_instant(text, flag)
    if isinstance(moment, datetime):
        return moment
    if in_zone:
        return local_midnight(moment, in_zone)
    return datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
