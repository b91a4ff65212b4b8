"""A meter's ``rounding``: the rule by hand, against Decimal's own rounding on generated
quantities, in plans (parsed, refused) and on invoice lines."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, localcontext
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iotbill.domain.errors import InvalidInput
from iotbill.domain.metering.rounding import Rounding
from iotbill.domain.quantities import INT64_MAX, MAX_QUANTITY, decimal_text, from_scaled
from iotbill.domain.rating import rate_period
from iotbill.services.usage import _rows
from tests.unit.conftest import event, hours, plan, problems_of, table
from tests.unit.test_usage_terms import INSURANCE

WATER = """
code: water
name: Water
currency: EUR
interval: month
meters:
  - {code: water, event_type: flow, aggregation: sum, property: m3,
     rounding: {function: floor}}
charges:
  - code: water
    meter: water
    model: graduated
    tiers: [{up_to: 10, unit_price: "1.00"}, {up_to: null, unit_price: "1.50"}]
"""


@pytest.mark.parametrize(
    ("function", "precision", "quantity", "rounded"),
    [
        ("round", 0, "2.5", "3"),  # a tie goes away from zero
        ("round", 0, "-2.5", "-3"),
        ("round", 0, "2.499999999", "2"),
        ("round", 1, "2.25", "2.3"),
        ("round", 2, "1.005", "1.01"),
        ("ceil", 0, "1.000000001", "2"),
        ("ceil", 0, "-1.9", "-1"),  # up is towards +infinity
        ("ceil", 0, "-0.5", "0"),  # never -0
        ("ceil", 2, "1.231", "1.24"),
        ("floor", 0, "1.999999999", "1"),
        ("floor", 0, "-1.1", "-2"),  # down is towards -infinity
        ("floor", 2, "-1.231", "-1.24"),
        ("ceil", -3, "1001", "2000"),  # to a multiple of 1,000
        ("round", -3, "1500", "2000"),
        ("round", -3, "1499.999999999", "1000"),
        ("floor", -2, "99", "0"),
        ("round", 9, "0.000000001", "0.000000001"),  # nine decimals: nothing to round
        ("ceil", 0, "7", "7"),
        ("ceil", 0, "0", "0"),
    ],
)
def test_each_function_rounds_to_its_precision(
    function: str, precision: int, quantity: str, rounded: str
) -> None:
    found = Rounding(function, precision).apply(Decimal(quantity))  # type: ignore[arg-type]
    assert found == Decimal(rounded)
    assert decimal_text(found) == rounded  # plain, without trailing zeros


def test_the_largest_quantities_round_exactly() -> None:
    assert Rounding("ceil").apply(MAX_QUANTITY) == Decimal("9223372037")
    assert Rounding("floor").apply(-MAX_QUANTITY) == Decimal("-9223372037")
    beyond = MAX_QUANTITY * 3  # a recurring total may exceed one int64 of nano-units
    assert Rounding("round", -9).apply(beyond) == Decimal("28000000000")


def test_a_rounding_says_what_it_does() -> None:
    assert Rounding("ceil").describe() == "rounded up to 0 decimals"
    assert Rounding("round", 1).describe() == "rounded to 1 decimal"
    assert Rounding("floor", 2).describe() == "rounded down to 2 decimals"
    assert Rounding("round", -3).describe() == "rounded to a multiple of 1,000"


def test_a_precision_beyond_nine_decimals_either_way_is_refused() -> None:
    with pytest.raises(ValueError, match="precision 10"):
        Rounding("round", 10)
    with pytest.raises(ValueError, match="precision -10"):
        Rounding("round", -10)
    with pytest.raises(ValueError, match="unknown rounding function"):
        Rounding("up")  # type: ignore[arg-type]


_MODES = {"round": ROUND_HALF_UP, "ceil": ROUND_CEILING, "floor": ROUND_FLOOR}


@settings(max_examples=300, deadline=None)
@given(
    nanos=st.one_of(st.integers(-(10**13), 10**13), st.integers(-3 * INT64_MAX, 3 * INT64_MAX)),
    function=st.sampled_from(sorted(_MODES)),
    precision=st.integers(-9, 9),
)
def test_rounding_equals_decimals_own_rounding(nanos: int, function: str, precision: int) -> None:
    quantity = from_scaled(nanos)
    with localcontext() as context:
        context.prec = 60
        expected = quantity.quantize(Decimal(1).scaleb(-precision), rounding=_MODES[function])
    assert Rounding(function, precision).apply(quantity) == expected  # type: ignore[arg-type]


def test_a_plan_reads_its_meters_rounding() -> None:
    (meter,) = plan(WATER).meters
    assert meter.rounding == Rounding("floor", 0)
    ceil = plan(WATER.replace("{function: floor}", "{function: ceil, precision: -2}"))
    assert ceil.meters[0].rounding == Rounding("ceil", -2)


@pytest.mark.parametrize(
    ("rounding", "problem"),
    [
        ("{function: up}", "rounding.function: must be one of round, ceil, floor, not 'up'"),
        ("{precision: 2}", "rounding.function: is required"),
        ("{function: ceil, precision: 1.5}", "rounding.precision: must be a whole number"),
        (
            "{function: ceil, precision: 10}",
            "rounding.precision: must be at most 9 (a quantity has no more decimals), not 10",
        ),
        ("{function: ceil, precision: -10}", "rounding.precision: must be at least -9, not -10"),
        (
            "{function: ceil, mode: up}",
            "rounding.mode: unknown field (expected one of: function, precision)",
        ),
    ],
)
def test_a_bad_rounding_is_refused_at_its_field(rounding: str, problem: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        plan(WATER.replace("{function: floor}", rounding))
    assert problems_of(caught.value) == [f"plan.yaml: meters[0].{problem}"]


@pytest.mark.parametrize(
    "charge",
    [
        '{code: fee, meter: water, model: percentage, rate: "1"}',
        "{code: fee, meter: water, model: dynamic, amount_property: cost}",
    ],
)
def test_a_charge_priced_by_amounts_cannot_read_a_rounded_meter(charge: str) -> None:
    text = WATER.split("charges:")[0] + f"charges:\n  - {charge}\n"
    with pytest.raises(InvalidInput) as caught:
        plan(text)
    model = "percentage" if "percentage" in charge else "dynamic"
    assert problems_of(caught.value) == [
        f"plan.yaml: charges[0].meter: {model} prices the events' amounts, not the quantity,"
        " so its meter cannot round the quantity"
    ]


def test_a_rounded_quantity_is_priced_and_the_line_shows_the_rounding() -> None:
    # 10.7 m3 in the month, rounded down to 10: all in the first tier, 10.00. Unrounded,
    # the 0.7 would enter the second tier (11.05).
    events = [event("a", 1, "flow", m3=Decimal("6.4")), event("b", 2, "flow", m3=Decimal("4.3"))]
    (line,) = rate_period(plan(WATER), table(*events), hours(0, 24))
    assert (line.quantity, line.amount) == (Decimal(10), Decimal("10.00"))
    rounding, tier = (detail.as_json() for detail in line.detail)
    assert rounding == {
        "kind": "rounding",
        "units": "-0.7",
        "amount": "0",
        "note": "10.7 rounded down to 0 decimals: 10",
    }
    assert tier["kind"] == "tier"
    unrounded = plan(WATER.replace(",\n     rounding: {function: floor}", ""))
    (line,) = rate_period(unrounded, table(*events), hours(0, 24))
    assert line.amount == Decimal("11.05")


def test_a_quantity_the_rounding_leaves_alone_has_no_rounding_step() -> None:
    events = [event("a", 1, "flow", m3=Decimal(4))]
    (line,) = rate_period(plan(WATER), table(*events), hours(0, 24))
    assert [detail.kind for detail in line.detail] == ["tier"]
    assert line.amount == Decimal("4.00")


def test_a_capped_meter_is_rounded_after_its_cap() -> None:
    # 250.4 miles on day 1 are capped to 250 (0.4 not counted), 10.3 on day 2: 260.3 counted,
    # rounded up to 261 (0.7 more). The cap's note counts before the rounding.
    text = """
code: miles
name: Miles
currency: USD
interval: month
meters:
  - {code: miles, event_type: trip, aggregation: sum, property: miles,
     cap: {per: day, max: 250}, rounding: {function: ceil}}
charges:
  - {code: miles, meter: miles, model: per_unit, unit_price: "0.10"}
"""
    events = [
        event("a", 1, "trip", miles=Decimal("250.4")),
        event("b", 25, "trip", miles=Decimal("10.3")),
    ]
    (line,) = rate_period(plan(text), table(*events), hours(0, 48))
    assert (line.quantity, line.amount) == (Decimal(261), Decimal("26.10"))
    cap, rounding, _ = (detail.as_json() for detail in line.detail)
    assert cap["note"] == "0.4 of 260.7 not counted: at most 250 per day (1 day over)"
    assert cap["units"] == "0.4"
    assert rounding["note"] == "260.3 rounded up to 0 decimals: 261"
    assert rounding["units"] == "0.7"


def test_usage_rounds_each_bucket_as_a_period_of_its_own() -> None:
    # 6.4 m3 in the first 12 hours and 4.3 in the next: 6 and 4 whole, where the day is 10.
    events = [event("a", 1, "flow", m3=Decimal("6.4")), event("b", 13, "flow", m3=Decimal("4.3"))]
    (meter,) = plan(WATER).meters
    utc = ZoneInfo("UTC")
    halves = _rows(table(*events), [meter], [hours(0, 12), hours(12, 24)], utc)
    assert [row.quantity for row in halves] == [Decimal(6), Decimal(4)]
    (day,) = _rows(table(*events), [meter], [hours(0, 24)], utc)
    assert day.quantity == Decimal(10)


def test_a_risk_factors_ratio_reads_the_rounded_quantity() -> None:
    # 4 harsh brakes over 99.5 miles: 4.02 per 100, row 3 (1.25). With the miles rounded up
    # to hundreds, 100 miles: exactly 4 per 100, row 2 (1.00), and the line bills the 100.
    events = [
        event("t1", 1, "trip", miles=Decimal("99.5")),
        *(event(f"b{i}", 2, "harsh_brake") for i in range(4)),
    ]
    rounded_up = INSURANCE.replace(
        "cap: {per: day, max: 250}}",
        "cap: {per: day, max: 250}, rounding: {function: ceil, precision: -2}}",
    )
    (line,) = rate_period(plan(rounded_up), table(*events), hours(0, 24))
    risk = line.detail[-1].as_json()
    assert (line.quantity, risk["factor"]) == (Decimal(100), "1.00")
    assert risk["note"] == "4 brakes per 100 miles over 100: ratio 4, row 2 (up to 4)"
    (line,) = rate_period(plan(INSURANCE), table(*events), hours(0, 24))
    assert (line.quantity, line.detail[-1].as_json()["factor"]) == (Decimal("99.5"), "1.25")
