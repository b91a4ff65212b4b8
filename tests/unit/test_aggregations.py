"""Every aggregation, by hand: what a meter's quantity is over a half-open period.

Unless a test says otherwise the period is ``[0 h, 10 h)`` after T0, events are ``reading``
events, and the meter aggregates their property ``v``.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from iotbill.domain.errors import InvalidInput
from iotbill.domain.metering import AGGREGATIONS, Window
from iotbill.domain.quantities import INT64_MAX, MAX_QUANTITY, decimal_text
from tests.unit.conftest import event, hours, quantities, quantity

PERIOD = hours(0, 10)
HOUR = 3_600_000_000  # microseconds


def test_every_aggregation_of_the_issue_is_registered() -> None:
    assert sorted(AGGREGATIONS) == sorted(
        [
            "count",
            "sum",
            "max",
            "min",
            "unique_count",
            "latest",
            "average",
            "time_weighted_average",
            "weighted_sum",
            "increase",
        ]
    )


# count


def test_count_takes_the_half_open_period() -> None:
    events = [
        event("before", -1),
        event("at-start", 0),
        event("inside", 5),
        event("other-type", 5, event_type="other"),
        event("at-end", 10),
    ]
    assert quantity("count", events, PERIOD, property_name=None) == Decimal(2)


def test_count_of_nothing_is_zero() -> None:
    assert quantity("count", [], PERIOD, property_name=None) == Decimal(0)


# sum


def test_ten_tenths_sum_to_exactly_one() -> None:
    tenths = [event(f"e{i}", i, v=Decimal("0.1")) for i in range(10)]
    total = quantity("sum", tenths, PERIOD)
    assert decimal_text(total) == "1"


def test_sum_keeps_nine_fractional_digits() -> None:
    events = [
        event("a", 1, v=Decimal("0.000000001")),
        event("b", 2, v=Decimal("2.5")),
        event("c", 3, v=3),
    ]
    assert decimal_text(quantity("sum", events, PERIOD)) == "5.500000001"


def test_sum_of_the_largest_quantities_does_not_overflow() -> None:
    events = [event(f"e{i}", i, v=MAX_QUANTITY) for i in range(3)]
    # 3 x 9223372036.854775807, well past what an int64 count of nano-units holds.
    assert decimal_text(quantity("sum", events, PERIOD)) == "27670116110.564327421"


def test_sum_of_nothing_is_zero() -> None:
    assert quantity("sum", [event("out", 11, v=5)], PERIOD) == Decimal(0)


def test_sum_with_negative_corrections_when_allowed() -> None:
    events = [event("a", 1, v=5), event("b", 2, v=Decimal("-2.25"))]
    assert quantity("sum", events, PERIOD, allow_negative=True) == Decimal("2.75")


# max and min


def test_max_and_min_of_fractional_values() -> None:
    events = [
        event("a", 1, v=3),
        event("b", 2, v=Decimal("7.5")),
        event("c", 3, v=Decimal("0.25")),
        event("outside", 12, v=100),
    ]
    assert quantity("max", events, PERIOD) == Decimal("7.5")
    assert quantity("min", events, PERIOD) == Decimal("0.25")


def test_max_and_min_of_nothing_are_zero() -> None:
    assert quantity("max", [], PERIOD) == Decimal(0)
    assert quantity("min", [], PERIOD) == Decimal(0)


def test_min_of_negative_values_when_allowed() -> None:
    events = [event("a", 1, v=-4), event("b", 2, v=Decimal("-0.5"))]
    assert quantity("min", events, PERIOD, allow_negative=True) == Decimal(-4)
    assert quantity("max", events, PERIOD, allow_negative=True) == Decimal("-0.5")


# unique_count


def test_unique_count_compares_json_values() -> None:
    values = ["a", "b", "a", 1, Decimal("1.0"), "1", True, False, Decimal("2.50"), Decimal("2.5")]
    events = [event(f"e{i}", 1, k=value) for i, value in enumerate(values)]
    # "a", "b", the number 1 (= 1.0), the string "1", true, false, 2.5 (= 2.50): seven.
    assert quantity("unique_count", events, PERIOD, property_name="k") == Decimal(7)


def test_unique_count_of_nothing_is_zero() -> None:
    assert quantity("unique_count", [], PERIOD, property_name="k") == Decimal(0)


# latest


def test_latest_is_the_last_reading_in_the_period() -> None:
    events = [
        event("a", 1, v=5),
        event("c", 8, v=Decimal("6.5")),
        event("b", 8, v=9),  # same time as "c": "c" is later by id
        event("after", 10, v=100),
    ]
    assert quantity("latest", events, PERIOD) == Decimal("6.5")


def test_latest_does_not_carry_a_reading_from_before_the_period() -> None:
    assert quantity("latest", [event("before", -1, v=5)], PERIOD) == Decimal(0)


# time_weighted_average


def test_average_of_the_documented_example_and_of_nothing() -> None:
    readings = [event("a", 1, v=1), event("b", 2, v=2), event("c", 9, v=2), event("x", 10, v=9)]
    assert quantity("average", readings, PERIOD) == Decimal("1.666666667")  # 5 / 3
    assert quantity("average", [event("x", -1, v=9)], PERIOD) == Decimal(0)  # none inside


def test_average_counts_each_event_once_whenever_it_came() -> None:
    """Unlike time_weighted_average: a reading held nine hours weighs as one held one."""
    readings = [event("a", 0, v=10), event("b", 9, v=20)]
    assert quantity("average", readings, PERIOD) == Decimal(15)
    assert quantity("time_weighted_average", readings, PERIOD) == Decimal(11)


def test_average_rounds_half_even_to_nine_digits_and_takes_the_largest_values() -> None:
    # Exactly half a nano-unit: 0.0000000015 goes to the even 2, 0.0000000005 to the even 0.
    three = [event("a", 1, v=Decimal("0.000000003")), event("b", 2, v=0)]
    assert quantity("average", three, PERIOD) == Decimal("0.000000002")
    one = [event("a", 1, v=Decimal("0.000000001")), event("b", 2, v=0)]
    assert quantity("average", one, PERIOD) == Decimal(0)
    largest = [event(f"e{i}", i, v=MAX_QUANTITY) for i in range(3)]
    assert quantity("average", largest, PERIOD) == MAX_QUANTITY
    negative = [event("a", 1, v=-1), event("b", 2, v=-2)]
    assert quantity("average", negative, PERIOD, allow_negative=True) == Decimal("-1.5")


def test_time_weighted_average_of_the_documented_example() -> None:
    # 4 from two hours before the period until hour 6, then 10: (4 x 6 + 10 x 4) / 10 = 6.4
    readings = [event("a", -2, v=4), event("b", 6, v=10)]
    assert quantity("time_weighted_average", readings, PERIOD) == Decimal("6.4")


def test_time_weighted_average_with_a_carried_level_and_several_readings() -> None:
    readings = [
        event("old", -5, v=99),  # superseded before the period starts
        event("carried", -3, v=5),  # the level carried in: 5 from 0 h to 1 h
        event("r1", 1, v=2),  # 2 from 1 h to 4 h
        event("r2", 4, v=8),  # 8 from 4 h to 9 h
        event("r3", 9, v=Decimal("3.5")),  # 3.5 from 9 h to the end, 10 h
        event("after", 11, v=1000),  # after the period: ignored
    ]
    # (5 x 1 + 2 x 3 + 8 x 5 + 3.5 x 1) / 10 = (5 + 6 + 40 + 3.5) / 10 = 54.5 / 10 = 5.45
    assert quantity("time_weighted_average", readings, PERIOD) == Decimal("5.45")


def test_time_weighted_average_is_zero_before_the_first_reading_ever() -> None:
    # 0 for 2 hours, then 10 for 8 hours: 80 / 10 = 8
    assert quantity("time_weighted_average", [event("a", 2, v=10)], PERIOD) == Decimal(8)


def test_time_weighted_average_of_a_period_without_readings() -> None:
    assert quantity("time_weighted_average", [event("a", -1, v=7)], PERIOD) == Decimal(7)
    assert quantity("time_weighted_average", [], PERIOD) == Decimal(0)


def test_time_weighted_average_counts_a_reading_at_the_start() -> None:
    readings = [event("carried", -1, v=100), event("start", 0, v=3), event("end", 10, v=50)]
    assert quantity("time_weighted_average", readings, PERIOD) == Decimal(3)


def test_time_weighted_average_rounds_half_even_to_nine_digits() -> None:
    thirds = [event("a", 0, v=1), event("b", 1, v=0)]
    assert quantity("time_weighted_average", thirds, hours(0, 3)) == Decimal("0.333333333")
    two_thirds = [event("a", 0, v=1), event("b", 2, v=0)]
    assert quantity("time_weighted_average", two_thirds, hours(0, 3)) == Decimal("0.666666667")
    # Exactly half a nano-unit: 0.0000000015 goes to the even 2, 0.0000000005 to the even 0.
    three = [event("a", 0, v=Decimal("0.000000003")), event("b", 5, v=0)]
    assert quantity("time_weighted_average", three, PERIOD) == Decimal("0.000000002")
    one = [event("a", 0, v=Decimal("0.000000001")), event("b", 5, v=0)]
    assert quantity("time_weighted_average", one, PERIOD) == Decimal(0)


def test_time_weighted_average_of_the_largest_level_does_not_overflow() -> None:
    readings = [event("a", -1, v=MAX_QUANTITY), event("b", 5, v=MAX_QUANTITY)]
    assert quantity("time_weighted_average", readings, PERIOD) == MAX_QUANTITY


def test_time_weighted_average_of_many_large_readings_matches_python_integers() -> None:
    # 50,000 readings of up to +-9.2 billion units over a year: the vectorised integral
    # equals the one summed with Python's integers, product by product.
    rng = np.random.default_rng(13)
    year = 365 * 24 * HOUR
    timestamps = np.sort(rng.choice(year, size=50_000, replace=False)).astype(np.int64)
    values = rng.integers(-INT64_MAX, INT64_MAX, size=timestamps.size, dtype=np.int64)
    window = Window(0, year, timestamps, values=values, prior_value=INT64_MAX)
    durations = np.diff(np.append(timestamps, year)).tolist()
    integral = INT64_MAX * int(timestamps[0]) + sum(
        v * d for v, d in zip(values.tolist(), durations, strict=True)
    )
    expected = round(Fraction(integral, year))  # half-even, in nano-units
    average = AGGREGATIONS["time_weighted_average"].aggregate(window)
    assert average == Decimal(expected).scaleb(-9)


# weighted_sum


def test_weighted_sum_of_the_documented_example() -> None:
    # A 31-day period: 20 added at the start of day 15, 10 more at the start of day 16.
    # 20 for 1 day, then 30 for 15 days: (20 x 1 + 30 x 15) / 31 = 470 / 31 = 15.1612903225...
    added = [event("a", 15 * 24, v=20), event("b", 16 * 24, v=10)]
    assert quantity("weighted_sum", added, hours(0, 31 * 24)) == Decimal("15.161290323")


def test_weighted_sum_is_each_value_weighted_by_the_time_left() -> None:
    # 6 from hour 4 (6 x 6 / 10 = 3.6), 3 from hour 0 (3 x 10 / 10 = 3), -2 from hour 9
    # (-2 x 1 / 10 = -0.2): the running total 3, 9, 7 held 4, 5 and 1 hours is the same 6.4.
    changes = [event("a", 4, v=6), event("b", 0, v=3), event("c", 9, v=-2)]
    assert quantity("weighted_sum", changes, PERIOD, allow_negative=True) == Decimal("6.4")


def test_weighted_sum_starts_each_period_at_zero() -> None:
    """Nothing carries in: the 100 added before the period counts in its own period only."""
    changes = [event("before", -1, v=100), event("a", 5, v=4), event("after", 10, v=7)]
    assert quantity("weighted_sum", changes, PERIOD) == Decimal(2)  # 4 for half the period
    assert quantity("weighted_sum", changes, hours(-2, 0)) == Decimal(50)
    assert quantity("weighted_sum", [], PERIOD) == Decimal(0)


def test_weighted_sum_counts_a_value_at_the_start_whole_and_one_at_the_end_not() -> None:
    changes = [event("start", 0, v=3), event("end", 10, v=50)]
    assert quantity("weighted_sum", changes, PERIOD) == Decimal(3)


def test_weighted_sum_rounds_half_even_to_nine_digits() -> None:
    assert quantity("weighted_sum", [event("a", 2, v=1)], hours(0, 3)) == Decimal("0.333333333")
    assert quantity("weighted_sum", [event("a", 1, v=1)], hours(0, 3)) == Decimal("0.666666667")
    # Exactly half a nano-unit: 0.0000000015 goes to the even 2, 0.0000000005 to the even 0.
    three = [event("a", 5, v=Decimal("0.000000003"))]
    assert quantity("weighted_sum", three, PERIOD) == Decimal("0.000000002")
    one = [event("a", 5, v=Decimal("0.000000001"))]
    assert quantity("weighted_sum", one, PERIOD) == Decimal(0)


def test_weighted_sum_of_many_large_values_matches_python_integers() -> None:
    # 50,000 values of up to +-9.2 billion units over a year: the vectorised integral equals
    # the running total's, held step by step, in Python's integers.
    rng = np.random.default_rng(17)
    year = 365 * 24 * HOUR
    timestamps = np.sort(rng.choice(year, size=50_000, replace=False)).astype(np.int64)
    values = rng.integers(-INT64_MAX, INT64_MAX, size=timestamps.size, dtype=np.int64)
    window = Window(0, year, timestamps, values=values)
    total = integral = 0
    edges = [*timestamps.tolist(), year]
    for value, since, until in zip(values.tolist(), edges, edges[1:], strict=False):
        total += value
        integral += total * (until - since)
    expected = round(Fraction(integral, year))  # half-even, in nano-units
    assert AGGREGATIONS["weighted_sum"].aggregate(window) == Decimal(expected).scaleb(-9)


def test_a_recurring_sum_is_the_total_since_the_first_event() -> None:
    # Devices activated (+1) and retired (-1): 3 before the period, one more and one retired
    # in it: 3 at its end. Not recurring, the period's own changes sum to 0.
    changes = [
        event("a", -30, v=1),
        event("b", -20, v=1),
        event("c", -2, v=1),
        event("d", 3, v=1),
        event("e", 7, v=-1),
        event("end", 10, v=1),  # the next period's
    ]
    found = quantity("sum", changes, PERIOD, allow_negative=True, recurring=True)
    assert found == Decimal(3)
    assert quantity("sum", changes, PERIOD, allow_negative=True) == Decimal(0)
    assert quantity("sum", changes[:3], PERIOD, recurring=True) == Decimal(3)  # none inside
    assert quantity("sum", [], PERIOD, recurring=True) == Decimal(0)


def test_a_recurring_sum_carries_each_groups_own_total_exactly() -> None:
    changes = [
        event("a", -5, v=Decimal("0.000000001"), g="north"),
        event("b", -4, v=MAX_QUANTITY, g="north"),
        event("c", 5, v=MAX_QUANTITY, g="north"),  # beyond one int64 of nano-units: exact
        event("d", -3, v=2, g="south"),
    ]
    found = quantities("sum", changes, PERIOD, group_by="g", recurring=True)
    assert found == {"north": 2 * MAX_QUANTITY + Decimal("0.000000001"), "south": Decimal(2)}


def test_a_recurring_weighted_sum_starts_from_every_change_before_the_period() -> None:
    # 30 - 5 before the period (the one before that too, not only the last); then -5 at
    # hour 6 held 4 hours: 25 - 5 x 4 / 10 = 23. An event at the end belongs to the next.
    changes = [
        event("a", -9, v=30),
        event("b", -2, v=-5),
        event("c", 6, v=-5),
        event("end", 10, v=100),
    ]
    found = quantity("weighted_sum", changes, PERIOD, allow_negative=True, recurring=True)
    assert found == Decimal(23)
    assert quantity("weighted_sum", changes, PERIOD, allow_negative=True) == Decimal(-2)


def test_a_recurring_weighted_sum_of_the_documented_example() -> None:
    # The 31-day period ends at 30; its next, of 30 days, loses 5 at the start of day 10.
    changes = [event("a", 15 * 24, v=20), event("b", 16 * 24, v=10), event("c", 41 * 24, v=-5)]
    month = quantity(
        "weighted_sum", changes, hours(31 * 24, 61 * 24), allow_negative=True, recurring=True
    )
    assert month == Decimal("26.666666667")  # (30 x 10 + 25 x 20) / 30


def test_a_recurring_weighted_sum_without_changes_is_the_carried_total_or_zero() -> None:
    before = [event("a", -3, v=7), event("b", -1, v=Decimal("0.5"))]
    assert quantity("weighted_sum", before, PERIOD, recurring=True) == Decimal("7.5")
    assert quantity("weighted_sum", [], PERIOD, recurring=True) == Decimal(0)


def test_a_recurring_weighted_sum_carries_each_groups_own_total() -> None:
    changes = [
        event("a", -5, v=4, g="north"),
        event("b", -4, v=6, g="south"),
        event("c", -3, v=1, g="north"),
        event("d", 5, v=10, g="south"),  # held half the period
    ]
    found = quantities("weighted_sum", changes, PERIOD, group_by="g", recurring=True)
    assert found == {"north": Decimal(5), "south": Decimal(11)}


def test_a_recurring_weighted_sum_refuses_a_bad_change_before_the_period() -> None:
    """Every earlier change counts, so each is checked: a negative one without
    allow_negative is refused at its line, as one inside the period would be."""
    changes = [event("a", -3, v=-1), event("b", -2, v=5), event("c", 1, v=2)]
    with pytest.raises(InvalidInput) as caught:
        quantity("weighted_sum", changes, PERIOD, recurring=True)
    assert "negative value -1 is not allowed" in str(caught.value)


def test_a_recurring_latest_is_the_last_value_ever_reported() -> None:
    # A gateway reports how many sensors it serves: 40, then 42, before the period; in it,
    # nothing at first. Recurring, the period counts 42; not recurring, 0. A report in the
    # period replaces it, the last by (timestamp, id); the next period's does not count.
    before = [event("a", -30, v=40), event("b", -2, v=42)]
    assert quantity("latest", before, PERIOD, recurring=True) == Decimal(42)
    assert quantity("latest", before, PERIOD) == Decimal(0)
    inside = [*before, event("d", 6, v=45), event("c", 6, v=44), event("end", 10, v=50)]
    assert quantity("latest", inside, PERIOD, recurring=True) == Decimal(45)
    assert quantity("latest", [], PERIOD, recurring=True) == Decimal(0)  # none ever
    # The last reading is the quantity, even one of zero: it is not skipped for an older one.
    zero = [*before, event("e", 1, v=0)]
    assert quantity("latest", zero, PERIOD, recurring=True) == Decimal(0)


def test_a_recurring_latest_carries_each_groups_own_last_value() -> None:
    changes = [
        event("a", -5, v=4, g="north"),
        event("b", -4, v=6, g="south"),
        event("c", -3, v=MAX_QUANTITY, g="north"),  # the largest value, carried exactly
        event("d", 5, v=Decimal("10.5"), g="south"),
    ]
    found = quantities("latest", changes, PERIOD, group_by="g", recurring=True)
    assert found == {"north": MAX_QUANTITY, "south": Decimal("10.5")}


def test_a_recurring_latest_refuses_a_bad_reading_carried_into_the_period() -> None:
    """The reading carried in is checked as one inside the period would be."""
    readings = [event("a", -3, v=5), event("b", -2, v=-1)]
    with pytest.raises(InvalidInput) as caught:
        quantity("latest", readings, PERIOD, recurring=True)
    assert "negative value -1 is not allowed" in str(caught.value)


# increase


def test_increase_of_the_documented_example_with_a_restart() -> None:
    # 100 before the period; 130 (+30), 20 (a restart: +20), 50 (+30) = 80
    readings = [
        event("a", -1, v=100),
        event("b", 1, v=130),
        event("c", 2, v=20),
        event("d", 3, v=50),
    ]
    assert quantity("increase", readings, PERIOD) == Decimal(80)


def test_increase_from_the_prior_reading() -> None:
    readings = [
        event("old", -5, v=1),
        event("prior", -1, v=Decimal("1000.25")),
        event("a", 4, v=Decimal("1010.5")),
        event("after", 12, v=5000),
    ]
    assert quantity("increase", readings, PERIOD) == Decimal("10.25")


def test_increase_without_a_prior_reading_starts_at_the_first_reading() -> None:
    readings = [event("a", 1, v=10), event("b", 2, v=15), event("c", 3, v=Decimal("27.5"))]
    assert quantity("increase", readings, PERIOD) == Decimal("17.5")


def test_increase_of_a_restart_to_zero() -> None:
    readings = [event("a", -1, v=100), event("b", 1, v=0), event("c", 2, v=5)]
    assert quantity("increase", readings, PERIOD) == Decimal(5)


def test_increase_of_too_few_readings_is_zero() -> None:
    assert quantity("increase", [event("prior", -1, v=100)], PERIOD) == Decimal(0)
    assert quantity("increase", [event("only", 1, v=100)], PERIOD) == Decimal(0)
    assert quantity("increase", [], PERIOD) == Decimal(0)
    flat = [event("a", -1, v=7), event("b", 1, v=7)]
    assert quantity("increase", flat, PERIOD) == Decimal(0)


def test_increase_across_the_whole_int64_range_is_exact() -> None:
    window = Window(
        0,
        10 * HOUR,
        np.array([HOUR, 2 * HOUR], dtype=np.int64),
        np.array([INT64_MAX, -INT64_MAX], dtype=np.int64),
        prior_value=-INT64_MAX,
    )
    # -MAX to MAX rises by 2 x MAX, then the drop to -MAX is a restart that adds -MAX.
    assert AGGREGATIONS["increase"].aggregate(window) == MAX_QUANTITY


# group_by


def test_group_by_gives_one_quantity_per_group_in_label_order() -> None:
    events = [
        event("a", 1, v=1, pump="p2"),
        event("b", 2, v=Decimal("2.5"), pump="p1"),
        event("c", 3, v=4, pump="p2"),
        event("d", 11, v=100, pump="p3"),  # after the period: no group p3
    ]
    assert quantities("sum", events, PERIOD, group_by="pump") == {
        "p1": Decimal("2.5"),
        "p2": Decimal(5),
    }


def test_group_by_carries_each_groups_own_prior_reading() -> None:
    events = [
        event("a", -2, v=100, car="x"),
        event("b", -1, v=500, car="y"),
        event("c", 5, v=130, car="x"),
        event("d", 5, v=520, car="y"),
        event("e", -1, v=9, car="z"),  # z has no reading in the period: no rise
    ]
    assert quantities("increase", events, PERIOD, group_by="car") == {
        "x": Decimal(30),
        "y": Decimal(20),
        "z": Decimal(0),
    }
    # Each group's level holds from its own prior reading: x = (100 x 5 + 130 x 5) / 10,
    # y = (500 x 5 + 520 x 5) / 10, z = 9 throughout.
    assert quantities("time_weighted_average", events, PERIOD, group_by="car") == {
        "x": Decimal(115),
        "y": Decimal(510),
        "z": Decimal(9),
    }


def test_group_values_meet_as_json_values() -> None:
    events = [
        event("a", 1, v=1, g=1),
        event("b", 2, v=2, g=Decimal("1.0")),
        event("c", 3, v=4, g=True),
    ]
    assert quantities("sum", events, PERIOD, group_by="g") == {"1": Decimal(3), "true": Decimal(4)}


# filters


def test_filters_keep_events_equal_to_a_value_or_one_of_a_list() -> None:
    events = [
        event("a", 1, v=1, vehicle="truck", region="north"),
        event("b", 2, v=2, vehicle="van", region="north"),
        event("c", 3, v=4, vehicle="car", region="north"),
        event("d", 4, v=8, vehicle="truck", region="south"),
        event("e", 5, v=16, region="north"),  # no vehicle: never matches
    ]
    assert quantity("sum", events, PERIOD, filters=(("vehicle", ("truck",)),)) == Decimal(9)
    assert quantity("sum", events, PERIOD, filters=(("vehicle", ("truck", "van")),)) == Decimal(11)
    both = (("vehicle", ("truck", "van")), ("region", ("north",)))
    assert quantity("sum", events, PERIOD, filters=both) == Decimal(3)
    assert quantity("sum", events, PERIOD, filters=(("vehicle", ("bike",)),)) == Decimal(0)


def test_a_filter_on_true_does_not_match_one_and_one_matches_one_point_zero() -> None:
    events = [
        event("a", 1, v=1, flag=True),
        event("b", 2, v=2, flag=1),
        event("c", 3, v=4, flag=Decimal("1.0")),
        event("d", 4, v=8, flag="1"),
        event("e", 5, v=16, flag="true"),
    ]
    assert quantity("sum", events, PERIOD, filters=(("flag", (True,)),)) == Decimal(1)
    assert quantity("sum", events, PERIOD, filters=(("flag", (1,)),)) == Decimal(6)
    assert quantity("sum", events, PERIOD, filters=(("flag", ("1",)),)) == Decimal(8)
    # Without any boolean in the column, true still matches nothing.
    numbers = [event("b", 2, v=2, flag=1)]
    assert quantity("sum", numbers, PERIOD, filters=(("flag", (True,)),)) == Decimal(0)


def test_filtered_out_events_are_not_carried_into_the_period() -> None:
    events = [
        event("kept", -2, v=10, tank="t1"),
        event("other", -1, v=50, tank="t2"),
        event("in", 5, v=20, tank="t1"),
    ]
    # Level 10 for 5 h, then 20 for 5 h: 15 (the other tank's 50 never counts).
    twa = quantity("time_weighted_average", events, PERIOD, filters=(("tank", ("t1",)),))
    assert twa == Decimal(15)
