"""Billing periods in the customer's zone: calendar and anniversary, across DST and date lines."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from iotbill.domain.billing_cycles import BillingCycle
from iotbill.domain.catalog import Interval
from iotbill.domain.errors import InvalidInput
from iotbill.domain.periods import Period, local_instant, local_midnight

from .builders import local, utc

HOUR = timedelta(hours=1)


def starts(periods: list[Period]) -> list[datetime]:
    return [period.start for period in periods]


def test_calendar_month_in_utc_starts_on_the_first_at_midnight() -> None:
    cycle = BillingCycle.calendar("month", "UTC")

    february = cycle.period_containing(utc(2026, 2, 14, 9, 30))

    assert february == Period(utc(2026, 2, 1), utc(2026, 3, 1))
    assert cycle.period_containing(utc(2026, 3, 1)) == Period(utc(2026, 3, 1), utc(2026, 4, 1))
    assert cycle.next_period(february) == Period(utc(2026, 3, 1), utc(2026, 4, 1))


@pytest.mark.parametrize(
    ("interval", "instant", "expected"),
    [
        ("quarter", utc(2026, 5, 20), Period(utc(2026, 4, 1), utc(2026, 7, 1))),
        ("quarter", utc(2026, 12, 31, 23), Period(utc(2026, 10, 1), utc(2027, 1, 1))),
        ("year", utc(2026, 7, 1), Period(utc(2026, 1, 1), utc(2027, 1, 1))),
        # 2026-01-01 is a Thursday: its week began on Monday 2025-12-29.
        ("week", utc(2026, 1, 1, 12), Period(utc(2025, 12, 29), utc(2026, 1, 5))),
        ("week", utc(2026, 1, 5), Period(utc(2026, 1, 5), utc(2026, 1, 12))),
        ("day", utc(2026, 2, 28, 23, 59, 59), Period(utc(2026, 2, 28), utc(2026, 3, 1))),
    ],
)
def test_calendar_intervals(interval: Interval, instant: datetime, expected: Period) -> None:
    cycle = BillingCycle.calendar(interval, "UTC")

    assert cycle.period_containing(instant) == expected


def test_a_berlin_month_with_the_spring_change_is_one_hour_short() -> None:
    cycle = BillingCycle.calendar("month", "Europe/Berlin")

    march = cycle.period_containing(utc(2026, 3, 15))
    october = cycle.period_containing(utc(2026, 10, 15))

    # Local midnight: 1 March at +01:00, 1 April at +02:00 (clocks went forward on 29 March).
    assert march == Period(utc(2026, 2, 28, 23), utc(2026, 3, 31, 22))
    assert march.duration == timedelta(days=31) - HOUR
    assert march.duration // timedelta(seconds=1) == 2_674_800
    # 1 October at +02:00, 1 November at +01:00 (clocks went back on 25 October).
    assert october == Period(utc(2026, 9, 30, 22), utc(2026, 10, 31, 23))
    assert october.duration // timedelta(seconds=1) == 2_682_000


def test_a_berlin_day_of_the_spring_change_lasts_23_hours() -> None:
    cycle = BillingCycle.calendar("day", "Europe/Berlin")

    day = cycle.period_containing(utc(2026, 3, 29, 12))

    assert day == Period(utc(2026, 3, 28, 23), utc(2026, 3, 29, 22))
    assert day.duration == 23 * HOUR


def test_utc_plus_13_and_utc_minus_10_customers_have_different_utc_boundaries() -> None:
    tonga = BillingCycle.calendar("month", "Pacific/Tongatapu")
    apia = BillingCycle.calendar("month", "Pacific/Apia")
    honolulu = BillingCycle.calendar("month", "Pacific/Honolulu")
    instant = utc(2026, 1, 31, 12)  # 1 February 01:00 in Tonga, 31 January 02:00 in Honolulu

    assert tonga.period_containing(utc(2026, 1, 15)) == Period(
        utc(2025, 12, 31, 11), utc(2026, 1, 31, 11)
    )
    assert apia.period_containing(utc(2026, 1, 15)) == Period(
        utc(2025, 12, 31, 11), utc(2026, 1, 31, 11)
    )
    assert honolulu.period_containing(utc(2026, 1, 15)) == Period(
        utc(2026, 1, 1, 10), utc(2026, 2, 1, 10)
    )
    assert tonga.period_containing(instant).start == utc(2026, 1, 31, 11)
    assert honolulu.period_containing(instant).start == utc(2026, 1, 1, 10)


def test_anniversary_keeps_a_31st_anchor_through_short_months() -> None:
    cycle = BillingCycle.anniversary("month", "UTC", utc(2026, 1, 31))

    periods = cycle.periods_overlapping(Period(utc(2026, 1, 31), utc(2026, 6, 1)))

    assert starts(periods) == [
        utc(2026, 1, 31),
        utc(2026, 2, 28),
        utc(2026, 3, 31),
        utc(2026, 4, 30),
        utc(2026, 5, 31),
    ]
    assert periods[-1].end == utc(2026, 6, 30)


def test_anniversary_in_a_leap_year_bills_on_february_29() -> None:
    cycle = BillingCycle.anniversary("month", "UTC", utc(2024, 1, 31))

    february = cycle.next_period(cycle.period_containing(utc(2024, 2, 1)))

    assert february == Period(utc(2024, 2, 29), utc(2024, 3, 31))


def test_anniversary_quarter_and_year_keep_the_anchor_day() -> None:
    quarterly = BillingCycle.anniversary("quarter", "UTC", utc(2025, 11, 30))
    yearly = BillingCycle.anniversary("year", "UTC", utc(2024, 2, 29))

    assert starts(quarterly.periods_overlapping(Period(utc(2025, 11, 30), utc(2026, 9, 1)))) == [
        utc(2025, 11, 30),
        utc(2026, 2, 28),
        utc(2026, 5, 30),
        utc(2026, 8, 30),
    ]
    assert starts(yearly.periods_overlapping(Period(utc(2024, 3, 1), utc(2028, 3, 1)))) == [
        utc(2024, 2, 29),
        utc(2025, 2, 28),
        utc(2026, 2, 28),
        utc(2027, 2, 28),
        utc(2028, 2, 29),
    ]


def test_anniversary_repeats_the_local_wall_time_across_dst() -> None:
    anchor = local("Europe/Berlin", 2026, 3, 15, 14, 30)  # 13:30Z (CET)
    cycle = BillingCycle.anniversary("month", "Europe/Berlin", anchor)

    first = cycle.period_containing(anchor)

    assert first == Period(utc(2026, 3, 15, 13, 30), utc(2026, 4, 15, 12, 30))  # 14:30 CEST
    assert first.duration == timedelta(days=31) - HOUR


def test_anniversary_wall_time_skipped_by_dst_moves_later_by_the_gap() -> None:
    anchor = local("Europe/Berlin", 2026, 3, 27, 2, 30)
    cycle = BillingCycle.anniversary("day", "Europe/Berlin", anchor)

    periods = cycle.periods_overlapping(Period(anchor, utc(2026, 3, 30)))

    # 29 March 02:30 does not exist in Berlin: that day's period starts at 03:30 CEST (01:30Z).
    assert starts(periods) == [
        utc(2026, 3, 27, 1, 30),
        utc(2026, 3, 28, 1, 30),
        utc(2026, 3, 29, 1, 30),
    ]
    assert periods[1].duration == 24 * HOUR
    assert periods[2] == Period(utc(2026, 3, 29, 1, 30), utc(2026, 3, 30, 0, 30))


@pytest.mark.parametrize("first_fold", [0, 1])
def test_anniversaries_at_either_occurrence_of_a_repeated_time_are_kept_apart(
    first_fold: int,
) -> None:
    # 02:30 on 25 October 2026 happens twice in Berlin: 00:30Z (CEST), then 01:30Z (CET).
    # The two anchors compare equal as datetimes; each cycle keeps its own occurrence,
    # whichever is asked first.
    berlin = ZoneInfo("Europe/Berlin")
    wall = datetime(2026, 10, 25, 2, 30, tzinfo=berlin)
    first, second = (
        BillingCycle.anniversary("day", "Europe/Berlin", wall.replace(fold=fold))
        for fold in (first_fold, 1 - first_fold)
    )
    expected = {0: utc(2026, 10, 25, 0, 30), 1: utc(2026, 10, 25, 1, 30)}

    assert first.period_containing(expected[first_fold]).start == expected[first_fold]
    assert second.period_containing(expected[1 - first_fold]).start == expected[1 - first_fold]


def test_weekly_anniversary_starts_on_the_anchor_weekday() -> None:
    cycle = BillingCycle.anniversary("week", "UTC", utc(2026, 1, 7, 8))  # a Wednesday

    assert cycle.period_containing(utc(2026, 1, 20)) == Period(
        utc(2026, 1, 14, 8), utc(2026, 1, 21, 8)
    )


def test_a_day_whose_midnight_is_skipped_begins_at_the_first_instant_that_exists() -> None:
    cycle = BillingCycle.calendar("day", "America/Havana")

    # Havana skips from 00:00 to 01:00 on 8 March 2026; 01:00 CDT is 05:00Z.
    day = cycle.period_containing(utc(2026, 3, 8, 12))

    assert day == Period(utc(2026, 3, 8, 5), utc(2026, 3, 9, 4))
    assert cycle.period_containing(utc(2026, 3, 8, 4, 59)).end == utc(2026, 3, 8, 5)


@pytest.mark.parametrize("zone_name", ["Europe/Berlin", "Pacific/Tongatapu", "Pacific/Honolulu"])
def test_local_instant_agrees_with_local_midnight_where_midnight_exists(zone_name: str) -> None:
    zone = ZoneInfo(zone_name)
    for day in (date(2026, 1, 1), date(2026, 3, 29), date(2026, 10, 25), date(2026, 12, 31)):
        assert local_instant(datetime(day.year, day.month, day.day), zone) == local_midnight(
            day, zone
        )


def test_local_instant_takes_a_repeated_wall_time_at_the_chosen_occurrence() -> None:
    berlin = ZoneInfo("Europe/Berlin")

    assert local_instant(datetime(2026, 10, 25, 2, 30), berlin) == utc(2026, 10, 25, 0, 30)
    assert local_instant(datetime(2026, 10, 25, 2, 30), berlin, later=True) == utc(
        2026, 10, 25, 1, 30
    )


def test_periods_overlapping_a_span_end_exclusive() -> None:
    cycle = BillingCycle.calendar("month", "UTC")

    assert starts(cycle.periods_overlapping(Period(utc(2026, 1, 15), utc(2026, 3, 1)))) == [
        utc(2026, 1, 1),
        utc(2026, 2, 1),
    ]
    assert starts(
        cycle.periods_overlapping(Period(utc(2026, 1, 15), utc(2026, 3, 1, 0, 0, 1)))
    ) == [utc(2026, 1, 1), utc(2026, 2, 1), utc(2026, 3, 1)]


def test_next_period_refuses_a_span_that_is_not_a_period_of_the_cycle() -> None:
    cycle = BillingCycle.calendar("month", "UTC")

    with pytest.raises(InvalidInput, match="not a billing period"):
        cycle.next_period(Period(utc(2026, 1, 15), utc(2026, 2, 1)))


def test_an_unknown_zone_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="unknown IANA time zone 'Mars/Olympus'"):
        BillingCycle.calendar("month", "Mars/Olympus")
