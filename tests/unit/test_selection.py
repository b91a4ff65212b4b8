"""What a meter refuses: every bad event is reported with its file, line and property."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pytest

from iotbill.domain.catalog import Meter
from iotbill.domain.errors import InvalidInput
from iotbill.domain.events import UsageEvent
from iotbill.domain.metering import AGGREGATIONS
from iotbill.domain.metering.selection import MAX_REPORTED, select, select_general
from tests.unit.conftest import event, hours, meter, problems_of, quantity, table

PERIOD = hours(0, 10)
ALLOW = "(set allow_negative: true on the meter to accept it)"


def refused(*events: UsageEvent, **options: Any) -> list[str]:
    aggregation = options.pop("aggregation", "sum")
    with pytest.raises(InvalidInput) as caught:
        select(table(*events), meter(aggregation, **options), PERIOD)
    return problems_of(caught.value)


def test_a_negative_value_is_refused_unless_the_meter_allows_it() -> None:
    events = [event("a", 1, v=5), event("b", 2, v=Decimal("-1.5"))]
    assert refused(*events) == [
        f"events.jsonl:2: properties.v: negative value -1.5 is not allowed {ALLOW} (meter 'm')"
    ]
    assert quantity("sum", events, PERIOD, allow_negative=True) == Decimal("3.5")


def test_a_negative_carried_reading_is_refused_too() -> None:
    events = [event("prior", -1, v=-3), event("a", 1, v=5)]
    assert refused(*events, aggregation="time_weighted_average") == [
        f"events.jsonl:1: properties.v: negative value -3 is not allowed {ALLOW} (meter 'm')"
    ]


def test_every_bad_event_is_reported_at_once() -> None:
    events = [
        event("ok", 1, v=1),
        event("missing", 2),
        event("digits", 3, v=Decimal("0.0000000001")),
        event("text", 4, v="lots"),
        event("large", 5, v=Decimal("9223372036.854775808")),
        event("int-large", 6, v=2**64),
        event("bool", 7, v=True),
        event("negative", 8, v=-2),
        event("outside", 12, v=-2),  # after the period: not this meter's business
    ]
    assert refused(*events) == [
        "events.jsonl:2: properties.v: is required (meter 'm')",
        "events.jsonl:3: properties.v: 0.0000000001 has more than 9 fractional digits (meter 'm')",
        "events.jsonl:4: properties.v: 'lots' is not a plain decimal number (like -12.50)"
        " (meter 'm')",
        "events.jsonl:5: properties.v: 9223372036.854775808 is beyond the largest supported "
        "magnitude 9223372036.854775807 (meter 'm')",
        "events.jsonl:6: properties.v: 18446744073709551616 is beyond the largest supported "
        "magnitude 9223372036.854775807 (meter 'm')",
        "events.jsonl:7: properties.v: must be a number, not a boolean (meter 'm')",
        f"events.jsonl:8: properties.v: negative value -2 is not allowed {ALLOW} (meter 'm')",
    ]


@pytest.mark.parametrize(
    "value",
    [
        Decimal("-9223372036.854775808"),  # -2^63 nano-units: an int64, but beyond the range
        Decimal("9223372036.854775808"),
        Decimal("1E+1000000"),
    ],
)
def test_a_column_of_plain_decimals_refuses_values_beyond_the_range(value: Decimal) -> None:
    events = [event("a", 1, v=Decimal(1)), event("b", 2, v=value)]
    (problem,) = refused(*events, allow_negative=True)
    assert problem.startswith("events.jsonl:2: properties.v: ")
    assert "is beyond the largest supported magnitude 9223372036.854775807" in problem


def test_a_value_too_small_to_represent_is_refused_not_rounded_to_zero() -> None:
    (problem,) = refused(event("a", 1, v=Decimal("1E-1000040")))
    assert (
        problem
        == "events.jsonl:1: properties.v: 1E-1000040 has more than 9 fractional digits (meter 'm')"
    )


def test_the_largest_quantities_are_accepted() -> None:
    largest = Decimal("9223372036.854775807")
    events = [event("a", 1, v=largest), event("b", 2, v=-largest)]
    assert quantity("max", events, PERIOD, allow_negative=True) == largest
    assert quantity("min", events, PERIOD, allow_negative=True) == -largest


def test_numbers_as_strings_are_exact_but_words_are_not_numbers() -> None:
    events = [event("a", 1, v="0.1"), event("b", 2, v="0.2")]
    assert quantity("sum", events, PERIOD) == Decimal("0.3")


def test_group_by_requires_the_property_on_every_selected_event() -> None:
    events = [event("a", 1, v=1, pump="p1"), event("b", 2, v=1), event("c", 3, v=1, pump=[1])]
    assert refused(*events, group_by="pump") == [
        "events.jsonl:2: properties.pump: is required as a scalar by group_by (meter 'm')",
        "events.jsonl:3: properties.pump: is required as a scalar by group_by (meter 'm')",
    ]


def test_unique_count_requires_a_scalar() -> None:
    events = [event("a", 1, k="x"), event("b", 2, k={"nested": 1}), event("c", 3)]
    assert refused(*events, aggregation="unique_count", property_name="k") == [
        "events.jsonl:2: properties.k: is required as a string, number or boolean (meter 'm')",
        "events.jsonl:3: properties.k: is required as a string, number or boolean (meter 'm')",
    ]


def test_an_event_that_a_filter_drops_is_not_checked() -> None:
    events = [event("a", 1, v=2, kind="water"), event("b", 2, v="junk", kind="air")]
    assert quantity("sum", events, PERIOD, filters=(("kind", ("water",)),)) == Decimal(2)


def test_count_needs_no_property() -> None:
    events = [event("a", 1), event("b", 2, v="anything")]
    assert quantity("count", events, PERIOD, property_name=None) == Decimal(2)


def test_the_amounts_of_a_dynamic_model_are_checked_like_values() -> None:
    events = [event("a", 1, cost=Decimal("0.25")), event("b", 2), event("c", 3, cost=-1)]
    with pytest.raises(InvalidInput) as caught:
        select(table(*events), meter("count", None), PERIOD, amount_property="cost")
    assert problems_of(caught.value) == [
        "events.jsonl:2: properties.cost: is required (meter 'm')",
        f"events.jsonl:3: properties.cost: negative value -1 is not allowed {ALLOW} (meter 'm')",
    ]


def test_only_the_first_problems_are_listed_then_a_count_of_the_rest() -> None:
    events = [event(f"e{i:03}", 1) for i in range(MAX_REPORTED + 7)]
    problems = refused(*events)
    assert len(problems) == MAX_REPORTED + 1
    assert problems[0] == "events.jsonl:1: properties.v: is required (meter 'm')"
    assert problems[-1] == "... and 7 more problems like these"


@pytest.mark.parametrize("seed", range(40))
def test_a_plain_numeric_meter_selects_as_the_general_path(seed: int) -> None:
    """:func:`select`'s shortcut for a numeric meter with no filters, groups or carried
    reading finds the window and the problems that :func:`select_general` does: on
    generated events at tied and untied hours, inside and outside the period, of two
    types, with bad, missing and negative values among them."""
    rng = random.Random(seed)
    bad: list[Any] = [None, "lots", True, Decimal("0.0000000001"), -2, Decimal("-0.5")]
    events = []
    for index in range(rng.randint(0, 30)):
        properties = {"v": Decimal(rng.randint(0, 10**6)).scaleb(-rng.randint(0, 9))}
        if rng.random() < 0.1:
            properties = {} if (value := rng.choice(bad)) is None else {"v": value}
        kind = rng.choice(("reading", "reading", "other"))
        events.append(event(f"e{index}", rng.randint(-3, 13) / 2, kind, **properties))
    for aggregation in sorted(AGGREGATIONS):
        for allow_negative in (False, True):
            found = meter(aggregation, allow_negative=allow_negative)
            assert _selected(select, events, found) == _selected(select_general, events, found)


def _selected(how: Any, events: list[UsageEvent], found: Meter) -> Any:
    try:
        (usage,) = how(table(*events), found, PERIOD)
    except InvalidInput as error:
        return problems_of(error)
    window = usage.window
    return (
        usage.group,
        window.start,
        window.end,
        window.timestamps.tolist(),
        window.values.tolist(),
        window.keys.tolist(),
        window.prior_value,
        usage.amounts.tolist(),
    )
