"""Peaks per window (a ``max`` meter with ``per``): by hand, then the numpy twin against
the event-by-event reference, then through a plan."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iotbill.domain.errors import InvalidInput
from iotbill.domain.metering import Window
from iotbill.domain.metering.window_peaks import peak_quantity, peak_quantity_reference
from iotbill.domain.periods import Period
from iotbill.domain.preview import preview
from tests.unit.conftest import event, plan, problems_of, table
from tests.unit.test_window_cap import spans, utc, window

CHICAGO = ZoneInfo("America/Chicago")


def both(peaked: Window, per: str, zone: ZoneInfo) -> Decimal:
    """The quantity, after checking that the twin and the reference agree."""
    fast = peak_quantity(peaked, per, zone)  # type: ignore[arg-type]
    assert fast == peak_quantity_reference(peaked, per, zone)  # type: ignore[arg-type]
    return fast


def test_each_days_peak_counts_once_and_a_day_without_readings_adds_nothing() -> None:
    # 1 March peaks at 7 (5 later), 2 March at 9, 3 March has none, 4 March at 4: 20.
    kw = window(
        utc(1),
        utc(5),
        [(utc(1, 8), "7"), (utc(1, 17), "5"), (utc(2, 9), "9"), (utc(4, 23, 59), "4")],
    )
    assert both(kw, "day", ZoneInfo("UTC")) == Decimal(20)
    assert both(kw, "hour", ZoneInfo("UTC")) == Decimal(25)  # every reading its own hour


def test_days_are_the_customers_local_days() -> None:
    # 05:00 and 07:00 UTC on 2 March are 23:00 on 1 March and 01:00 on 2 March in Chicago.
    kw = window(utc(1), utc(4), [(utc(2, 5), "6"), (utc(2, 7), "8")])
    assert both(kw, "day", ZoneInfo("UTC")) == Decimal(8)
    assert both(kw, "day", CHICAGO) == Decimal(14)


def test_the_hour_that_autumn_repeats_is_one_hour_and_a_short_day_one_day() -> None:
    # 1 November 2026, Chicago: 01:00-02:00 happens twice (06:00 and 07:00 UTC).
    autumn = window(
        datetime(2026, 11, 1, 5, tzinfo=UTC),
        datetime(2026, 11, 1, 9, tzinfo=UTC),
        [
            (datetime(2026, 11, 1, 6, 30, tzinfo=UTC), "3"),
            (datetime(2026, 11, 1, 7, 30, tzinfo=UTC), "5"),
        ],
    )
    assert both(autumn, "hour", CHICAGO) == Decimal(5)
    # 8 March 2026, Chicago, has 23 hours: still one day.
    spring = window(
        datetime(2026, 3, 8, 6, tzinfo=UTC),
        datetime(2026, 3, 9, 5, tzinfo=UTC),
        [(datetime(2026, 3, 8, 7, tzinfo=UTC), "2"), (datetime(2026, 3, 9, 4, tzinfo=UTC), "3")],
    )
    assert both(spring, "day", CHICAGO) == Decimal(3)


def test_negative_and_the_largest_peaks_sum_exactly() -> None:
    largest = Decimal(2**63 - 1).scaleb(-9)
    kw = window(utc(1), utc(3), [(utc(1, 1), str(largest)), (utc(2, 1), str(largest))])
    assert both(kw, "day", ZoneInfo("UTC")) == 2 * largest  # beyond one int64 of nano-units
    cold = window(utc(1), utc(3), [(utc(1, 1), "-2"), (utc(1, 2), "-5"), (utc(2, 1), "-1.5")])
    assert both(cold, "day", ZoneInfo("UTC")) == Decimal("-3.5")


@settings(max_examples=150, deadline=None)
@given(span=spans(), per=st.sampled_from(["day", "hour"]))
def test_the_numpy_twin_equals_the_reference(span: tuple[Window, ZoneInfo], per: str) -> None:
    """Random spans and events (those of the caps' twin): the twin gives the reference's
    quantity."""
    events, zone = span
    assert peak_quantity(events, per, zone) == peak_quantity_reference(events, per, zone)  # type: ignore[arg-type]


DEMAND = """
code: demand
currency: USD
interval: month
meters:
  - {code: peak, event_type: power, aggregation: max, property: kw, per: day, group_by: site}
charges:
  - {code: demand, meter: peak, model: per_unit, unit_price: "0.50"}
"""


def test_a_plan_prices_the_sum_of_daily_peaks_per_group() -> None:
    readings = [
        event("a", 1, "power", kw=7, site="north"),
        event("b", 5, "power", kw=5, site="north"),
        event("c", 25, "power", kw=9, site="north"),
        event("d", 2, "power", kw=3, site="south"),
    ]
    january = Period(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC))
    priced = preview(plan(DEMAND), table(*readings), january)
    # north: 7 on 1 January, 9 on 2 January: 16 kW, 8.00; south: 3 kW, 1.50.
    assert [(line.group, str(line.quantity), str(line.amount)) for line in priced.lines] == [
        ("north", "16", "8.00"),
        ("south", "3", "1.50"),
    ]


def test_per_is_a_max_option_of_day_or_hour() -> None:
    with pytest.raises(InvalidInput) as caught:
        plan(
            """
code: bad
currency: USD
interval: month
meters:
  - {code: a, event_type: power, aggregation: sum, property: kw, per: day}
  - {code: b, event_type: power, aggregation: max, property: kw, per: week}
  - {code: c, event_type: power, aggregation: max, property: kw, per: hour}
charges:
  - {code: spot, meter: c, model: dynamic, amount_property: usd}
"""
        )
    assert problems_of(caught.value) == [
        "plan.yaml: meters[0].per: sums the maximum of each local day: max only, not sum",
        "plan.yaml: meters[1].per: must be one of day, hour, not 'week'",
        "plan.yaml: charges[0].meter: dynamic prices each event, so its meter cannot have per",
    ]
