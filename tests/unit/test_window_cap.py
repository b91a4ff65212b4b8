"""Per-window caps: by hand, then the numpy twin against the event-by-event reference."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from iotbill.domain.metering import AGGREGATIONS, Window
from iotbill.domain.metering.window_cap import (
    CappedQuantity,
    WindowCap,
    capped_quantity,
    capped_quantity_reference,
    window_starts,
)
from iotbill.domain.periods import to_micros
from iotbill.domain.quantities import UNIT

SUM, COUNT = AGGREGATIONS["sum"], AGGREGATIONS["count"]
UTC_ZONE = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")
PER_DAY = WindowCap("day", Decimal(250))


def window(start: datetime, end: datetime, readings: list[tuple[datetime, str]]) -> Window:
    """The window ``[start, end)`` holding ``readings`` (instant, value), sorted by time."""
    readings = sorted(readings)
    return Window(
        to_micros(start),
        to_micros(end),
        np.array([to_micros(at) for at, _ in readings], dtype=np.int64),
        np.array([int(Decimal(value) * UNIT) for _, value in readings], dtype=np.int64),
    )


def both(
    capped: Window, cap: WindowCap, zone: ZoneInfo, aggregation: object = SUM
) -> CappedQuantity:
    """The capped quantity, after checking that the twin and the reference agree."""
    fast = capped_quantity(capped, aggregation, cap, zone)  # type: ignore[arg-type]
    assert fast == capped_quantity_reference(capped, aggregation, cap, zone)  # type: ignore[arg-type]
    return fast


def utc(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def test_a_day_of_400_miles_counts_250_and_a_day_under_the_cap_counts_whole() -> None:
    miles = window(
        utc(1),
        utc(4),
        [(utc(1, 8), "300"), (utc(1, 17), "100"), (utc(2, 9), "180"), (utc(3, 23, 59), "250")],
    )
    # 1 March: 300 + 100 = 400 -> 250; 2 March: 180; 3 March: exactly 250.
    assert both(miles, PER_DAY, UTC_ZONE) == CappedQuantity(Decimal(680), Decimal(830), 1)


def test_days_are_the_customers_local_days() -> None:
    # 23:30 UTC on 1 March is 00:30 on 2 March in Berlin (UTC+1): two Berlin days of 200,
    # but one UTC day of 400.
    miles = window(utc(1), utc(3), [(utc(1, 12), "200"), (utc(1, 23, 30), "200")])
    assert both(miles, PER_DAY, BERLIN).quantity == Decimal(400)
    assert both(miles, PER_DAY, UTC_ZONE).quantity == Decimal(250)


def test_a_day_split_by_the_span_is_capped_in_each_part() -> None:
    # A plan change at noon: each half of the day is rated as a span of its own.
    morning = window(utc(1), utc(1, 12), [(utc(1, 9), "200")])
    afternoon = window(utc(1, 12), utc(2), [(utc(1, 15), "200")])
    assert both(morning, PER_DAY, UTC_ZONE).quantity == Decimal(200)
    assert both(afternoon, PER_DAY, UTC_ZONE).quantity == Decimal(200)


def test_an_hourly_cap_on_a_count() -> None:
    # 5 events in the 08:00 hour and 2 in the 09:00 hour, at most 3 per hour: 3 + 2.
    times = [utc(1, 8, m) for m in (0, 10, 20, 30, 59)] + [utc(1, 9, 0), utc(1, 9, 30)]
    events = window(utc(1), utc(2), [(t, "0") for t in times])
    capped = both(events, WindowCap("hour", Decimal(3)), UTC_ZONE, COUNT)
    assert capped == CappedQuantity(Decimal(5), Decimal(7), 1)


def test_the_repeated_autumn_hour_is_one_hour_and_a_25_hour_day_is_one_day() -> None:
    # Berlin, 25 October 2026: 02:00-03:00 local happens twice (00:00Z-01:00Z and 01:00Z-02:00Z).
    first_pass = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    second_pass = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    span = (datetime(2026, 10, 24, 22, tzinfo=UTC), datetime(2026, 10, 25, 23, tzinfo=UTC))
    events = window(*span, [(first_pass, "2"), (second_pass, "2")])
    assert both(events, WindowCap("hour", Decimal(3)), BERLIN).quantity == Decimal(3)
    assert both(events, WindowCap("day", Decimal(3)), BERLIN).quantity == Decimal(3)
    starts = window_starts(to_micros(span[0]), to_micros(span[1]), "hour", BERLIN)
    assert len(starts) == 23  # 24 local hours on a 25-hour day: 23 starts after the first


def test_no_events_count_nothing() -> None:
    assert both(window(utc(1), utc(2), []), PER_DAY, BERLIN) == CappedQuantity(
        Decimal(0), Decimal(0), 0
    )


ZONES = st.sampled_from(
    ["UTC", "Europe/Berlin", "America/Havana", "Asia/Kolkata", "Australia/Lord_Howe",
     "Pacific/Chatham", "America/St_Johns"]
)  # fmt: skip


@st.composite
def spans(draw: st.DrawFn) -> tuple[Window, ZoneInfo]:
    """A random span of up to 40 days in 2026 and 2027 (DST changes included, in zones with
    half- and quarter-hour offsets), and up to 60 events in it, in time order."""
    zone = ZoneInfo(draw(ZONES))
    begin = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(
        seconds=draw(st.integers(min_value=0, max_value=400 * 24 * 3600))
    )
    length = draw(st.integers(min_value=1, max_value=40 * 24 * 3600)) * 10**6
    offsets = draw(st.lists(st.integers(min_value=0, max_value=10**9), max_size=60))
    values = draw(
        st.lists(
            st.integers(min_value=-(10**12), max_value=10**13),
            min_size=len(offsets),
            max_size=len(offsets),
        )
    )
    stamps = sorted(to_micros(begin) + offset % length for offset in offsets)
    start = to_micros(begin)
    span = Window(
        start, start + length, np.array(stamps, dtype=np.int64), np.array(values, dtype=np.int64)
    )
    return span, zone


@settings(max_examples=150, deadline=None)
@given(
    span=spans(),
    per=st.sampled_from(["day", "hour"]),
    most=st.integers(min_value=1, max_value=10**15 - 1),  # up to a plan's largest number
    counting=st.booleans(),
)
def test_the_numpy_twin_equals_the_reference(
    span: tuple[Window, ZoneInfo], per: str, most: int, counting: bool
) -> None:
    """Random spans and events: the twin gives the reference's quantity, uncapped quantity
    and windows capped."""
    events, zone = span
    cap = WindowCap(per, Decimal(most).scaleb(-3))  # type: ignore[arg-type]
    aggregation = COUNT if counting else SUM
    fast = capped_quantity(events, aggregation, cap, zone)
    assert fast == capped_quantity_reference(events, aggregation, cap, zone)
    assert all(events.start <= s < events.end for s in events.timestamps.tolist())
