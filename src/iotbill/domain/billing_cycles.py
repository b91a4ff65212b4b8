"""Billing cycles: the sequence of billing periods in a customer's time zone.

Every period is a half-open interval ``[start, end)`` of UTC instants; the
customer's zone only decides where the boundaries fall. Two modes:

**Calendar** periods begin at local midnight (00:00 in the customer's zone) on
the 1st of each month (``month``), on January 1, April 1, July 1 and October 1
(``quarter``), on January 1 (``year``), on each Monday (``week``) or on each day
(``day``). A customer in Pacific/Tongatapu (UTC+13) and one in Pacific/Honolulu
(UTC-10) on the same monthly plan therefore have different UTC boundaries:
January begins at 2025-12-31T11:00Z for the first and at 2026-01-01T10:00Z for
the second.

**Anniversary** periods repeat the local date and wall-clock time of an anchor
instant (a subscription's start): a subscription starting on 15 January at
14:30 Berlin time bills monthly from 14:30 on the 15th. The anchor day is kept
across short months: a 31st anchor gives January 31, February 28 (29 in a leap
year), March 31, April 30, May 31. Weekly anniversary periods start on the
anchor's weekday, daily ones at the anchor's time of day.

Because boundaries are local wall times, a period containing a DST change is
shorter or longer in UTC: March 2026 in Europe/Berlin lasts 743 hours, October
745. A wall time that the change skips is moved later by the length of the gap;
one that it repeats is taken at the same occurrence (first or second) as the
anchor's (see :func:`~iotbill.domain.periods.local_instant`).

>>> from datetime import UTC, datetime
>>> cycle = BillingCycle.calendar("month", "Europe/Berlin")
>>> march = cycle.period_containing(datetime(2026, 3, 15, tzinfo=UTC))
>>> march.start.isoformat(), march.end.isoformat()
('2026-02-28T23:00:00+00:00', '2026-03-31T22:00:00+00:00')
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from iotbill.domain.catalog import INTERVALS, Interval
from iotbill.domain.errors import InvalidInput
from iotbill.domain.periods import Period, local_instant, require_aware, zone

BillingMode = Literal["calendar", "anniversary"]
BILLING_MODES: tuple[BillingMode, ...] = ("calendar", "anniversary")

_MONTHS_IN: dict[Interval, int] = {"month": 1, "quarter": 3, "year": 12}
_DAYS_IN: dict[Interval, int] = {"day": 1, "week": 7}


@dataclass(frozen=True, slots=True)
class BillingCycle:
    """Billing periods every ``interval`` in the zone ``timezone``.

    ``anchor`` is ``None`` for calendar billing, or the instant whose local date
    and time anniversary periods repeat. Build one with :meth:`calendar` or
    :meth:`anniversary`.
    """

    interval: Interval
    timezone: str
    anchor: datetime | None = None

    def __post_init__(self) -> None:
        if self.interval not in INTERVALS:
            raise InvalidInput.at("interval", f"must be one of {', '.join(INTERVALS)}")
        zone(self.timezone)
        if self.anchor is not None:
            require_aware(self.anchor, "anchor")

    @classmethod
    def calendar(cls, interval: Interval, timezone: str) -> BillingCycle:
        """Periods starting at local midnight on calendar boundaries."""
        return _calendar(interval, timezone)

    @classmethod
    def anniversary(cls, interval: Interval, timezone: str, anchor: datetime) -> BillingCycle:
        """Periods repeating the local date and time of ``anchor``."""
        return cls(interval, timezone, anchor)

    @property
    def mode(self) -> BillingMode:
        return "calendar" if self.anchor is None else "anniversary"

    def period_containing(self, instant: datetime) -> Period:
        """The billing period ``[start, end)`` that contains ``instant``."""
        instant = require_aware(instant, "instant")
        if self.anchor is not None:  # (an anchor at a repeated local time equals the other)
            return self._find_period(instant)
        return _calendar_period(self, instant.astimezone(UTC))  # (nor does a local instant)

    def _find_period(self, instant: datetime) -> Period:
        index = self._estimate(instant)
        while self._boundary(index) > instant:
            index -= 1
        while self._boundary(index + 1) <= instant:
            index += 1
        return Period(self._boundary(index), self._boundary(index + 1))

    def next_period(self, period: Period) -> Period:
        """The period that follows ``period`` (which must be one of this cycle's)."""
        following = self.period_containing(period.end)
        if following.start != period.end or self.period_containing(period.start) != period:
            raise InvalidInput.at("period", f"{period} is not a billing period of this cycle")
        return following

    def end_of_nth(self, instant: datetime, count: int) -> datetime:
        """The end of the ``count``-th period from the one containing ``instant`` (the 1st):
        where a term of ``count`` periods from ``instant`` ends."""
        index = self._estimate(instant)
        while self._boundary(index) > instant:
            index -= 1
        while self._boundary(index + 1) <= instant:
            index += 1
        return self._boundary(index + count)

    def periods_overlapping(self, span: Period) -> list[Period]:
        """Every period that shares at least one instant with ``span``, in order."""
        periods = [self.period_containing(span.start)]
        while periods[-1].end < span.end:
            periods.append(self.period_containing(periods[-1].end))
        return periods

    def _zone(self) -> ZoneInfo:
        return zone(self.timezone)

    def _estimate(self, instant: datetime) -> int:
        """An index close to that of the period containing ``instant`` (adjusted by the caller)."""
        local = instant.astimezone(self._zone())
        if self.anchor is None:
            if self.interval in _DAYS_IN:
                return (local.toordinal() - 1) // _DAYS_IN[self.interval]
            return (local.year * 12 + local.month - 1) // _MONTHS_IN[self.interval]
        anchor = self.anchor.astimezone(self._zone())
        if self.interval in _DAYS_IN:
            return (local.toordinal() - anchor.toordinal()) // _DAYS_IN[self.interval]
        months = (local.year - anchor.year) * 12 + local.month - anchor.month
        return months // _MONTHS_IN[self.interval]

    def _boundary(self, index: int) -> datetime:
        """The UTC instant at which period number ``index`` starts."""
        if self.anchor is None:
            return _boundary(self.interval, self.timezone, None, 0, index)
        anchor = self.anchor.astimezone(self._zone())
        return _boundary(
            self.interval, self.timezone, anchor.replace(tzinfo=None), anchor.fold, index
        )


@lru_cache(maxsize=1024)
def _calendar(interval: Interval, timezone: str) -> BillingCycle:
    """A calendar cycle, made (and checked) once: a bill run asks for the same few of each
    of thousands of subscriptions several times."""
    return BillingCycle(interval, timezone)


@lru_cache(maxsize=65536)
def _calendar_period(cycle: BillingCycle, instant: datetime) -> Period:
    """:meth:`BillingCycle.period_containing` of a calendar cycle, remembered: a bill run
    asks thousands of subscriptions on the same cycles for the periods of the same few
    instants. Keyed by UTC instants: two local instants that differ only by ``fold`` (a
    repeated local time) compare equal, and would share an entry."""
    return cycle._find_period(instant)


@lru_cache(maxsize=4096)
def _boundary(
    interval: Interval, timezone: str, anchor: datetime | None, fold: int, index: int
) -> datetime:
    """The UTC instant at which period ``index`` of a cycle starts.

    ``anchor`` is the local wall time of an anniversary cycle's anchor in its
    zone, and ``fold`` its occurrence: a key of its own, because two times that
    differ only by their fold (the two 02:30 of a night the clocks go back)
    compare equal. Remembered: a pure function of immutable values, which a
    bill run asks for again for every subscription on the same cycle.
    """
    in_zone = zone(timezone)
    if anchor is None:
        if interval in _DAYS_IN:
            day = date.fromordinal(index * _DAYS_IN[interval] + 1)
        else:
            day = _first_of_month(index * _MONTHS_IN[interval])
        return local_instant(datetime(day.year, day.month, day.day), in_zone)
    wall = anchor.replace(fold=0)
    if interval in _DAYS_IN:
        wall += timedelta(days=index * _DAYS_IN[interval])
    else:
        wall = _add_months_keeping_day(wall, index * _MONTHS_IN[interval])
    return local_instant(wall, in_zone, later=fold == 1)


def _first_of_month(month_index: int) -> date:
    year, month = divmod(month_index, 12)
    return date(year, month + 1, 1)


def _add_months_keeping_day(wall: datetime, months: int) -> datetime:
    """``wall`` moved by ``months``, its day clamped to the target month's length."""
    year, month = divmod(wall.year * 12 + wall.month - 1 + months, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return wall.replace(year=year, month=month + 1, day=min(wall.day, last_day))
