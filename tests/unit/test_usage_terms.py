"""Commitments, per-window caps and risk factors: loading them, and what they bill."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from iotbill.domain.commitments import commitment_lines
from iotbill.domain.errors import InvalidInput
from iotbill.domain.invoicing import InvoiceLine
from iotbill.domain.money import currency
from iotbill.domain.periods import Period
from iotbill.domain.preview import preview
from iotbill.domain.rating import rate_period
from tests.unit.conftest import event, hours, plan, problems_of, table

USD = currency("USD")
APRIL = Period(datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC))

INSURANCE = """
code: insure
currency: USD
interval: month
minimum_commitment: "10.00"
maximum: "40.00"
meters:
  - {code: miles, event_type: trip, aggregation: sum, property: miles,
     cap: {per: day, max: 250}}
  - {code: brakes, event_type: harsh_brake, aggregation: count}
charges:
  - code: mileage
    meter: miles
    model: per_unit
    unit_price: "0.032"
    risk_factor:
      events: brakes
      exposure: miles
      per: 100
      table:
        - {up_to: 1, factor: "0.90"}
        - {up_to: 4, factor: "1.00"}
        - {up_to: null, factor: "1.25"}
"""


def usage_line(amount: str) -> InvoiceLine:
    return InvoiceLine.rounded(
        USD,
        charge="water",
        kind="usage",
        description="Water",
        quantity=Decimal(1),
        unit_price=None,
        exact_amount=Decimal(amount),
    )


def test_every_problem_with_caps_risk_tables_and_commitments_is_reported_at_once() -> None:
    text = """
code: bad
currency: USD
interval: month
minimum_commitment: "100.005"
maximum: "-5"
meters:
  - {code: miles, event_type: trip, aggregation: sum, property: miles, cap: {per: week, max: 250}}
  - {code: peak, event_type: trip, aggregation: max, property: miles, cap: {per: day, max: 0}}
  - {code: brakes, event_type: harsh_brake, aggregation: count, group_by: kind}
charges:
  - code: mileage
    meter: miles
    model: per_unit
    unit_price: "0.032"
    risk_factor:
      events: brakes
      exposure: kilometres
      table:
        - {up_to: 4, factor: "1.00"}
        - {up_to: 1, factor: "0.90"}
        - {up_to: null, factor: "-1"}
"""
    with pytest.raises(InvalidInput) as raised:
        plan(text)
    # A meter refused for its cap is reported once, not again by the charges that name it.
    assert problems_of(raised.value) == [
        f"plan.yaml: {problem}"
        for problem in [
            "meters[0].cap.per: must be one of day, hour, not 'week'",
            "meters[1].cap.max: must be greater than 0, not 0",
            "meters[1].cap: caps the quantity of each window, which a meter by max does not"
            " add up: use count or sum",
            "charges[0].risk_factor.events: meter 'brakes' is split by group_by;"
            " a ratio needs one quantity",
            "charges[0].risk_factor.exposure: unknown meter 'kilometres' (meters: brakes)",
            "charges[0].risk_factor.table[1].up_to: must be greater than 4 (bounds ascend)",
            "charges[0].risk_factor.table[2].factor: must be at least 0, not -1",
            "minimum_commitment: 100.005 has more decimals than USD allows (2)",
            "maximum: must be greater than 0, not -5",
        ]
    ]


def test_the_last_risk_row_is_the_only_unlimited_one_and_a_table_is_required() -> None:
    base = INSURANCE.split("    risk_factor:")[0]
    unbounded_middle = (
        base
        + """    risk_factor:
      events: brakes
      exposure: miles
      table:
        - {up_to: null, factor: "1"}
        - {up_to: 2, factor: "1"}
"""
    )
    with pytest.raises(InvalidInput) as raised:
        plan(unbounded_middle)
    assert problems_of(raised.value) == [
        "plan.yaml: charges[0].risk_factor.table[0].up_to: only the last row may be unlimited"
        " (up_to: null)",
        "plan.yaml: charges[0].risk_factor.table[1].up_to: the last row must have up_to: null"
        " (unlimited)",
    ]
    with pytest.raises(InvalidInput) as raised:
        plan(base + "    risk_factor: {events: brakes, exposure: miles, table: []}\n")
    assert problems_of(raised.value) == [
        "plan.yaml: charges[0].risk_factor.table: must list at least one row"
    ]


def test_a_maximum_below_the_minimum_a_reserved_code_and_a_plan_without_charges() -> None:
    with pytest.raises(InvalidInput) as raised:
        plan(
            """
code: bad
currency: USD
interval: month
minimum_commitment: "100.00"
maximum: "50.00"
fixed_fees: [{code: maximum, amount: "5.00"}]
"""
        )
    assert problems_of(raised.value) == [
        "plan.yaml: maximum: must be at least the minimum_commitment (100.00), not 50.00",
        "plan.yaml: minimum_commitment: bounds what the plan's charges bill: it has none",
        "plan.yaml: maximum: bounds what the plan's charges bill: it has none",
        "plan.yaml: fixed_fees[0].code: 'maximum' names the plan's commitment line:"
        " choose another code",
    ]


def test_a_dynamic_charge_cannot_read_a_capped_meter() -> None:
    with pytest.raises(InvalidInput) as raised:
        plan(
            """
code: bad
currency: USD
interval: month
meters: [{code: kwh, event_type: e, aggregation: sum, property: kwh, cap: {per: hour, max: 5}}]
charges: [{code: energy, meter: kwh, model: dynamic, amount_property: price}]
"""
        )
    assert problems_of(raised.value) == [
        "plan.yaml: charges[0].meter: dynamic prices each event, so its meter cannot have a cap"
    ]


def test_the_plan_loads_its_cap_risk_factor_and_commitment() -> None:
    loaded = plan(INSURANCE)
    assert loaded.commitment.minimum == Decimal("10.00")
    assert loaded.commitment.maximum == Decimal("40.00")
    miles = loaded.meter("miles")
    assert miles.cap is not None and (miles.cap.per, miles.cap.max) == ("day", Decimal(250))
    risk = loaded.charges[0].risk_factor
    assert risk is not None and (risk.events, risk.exposure, risk.per) == (
        "brakes",
        "miles",
        Decimal(100),
    )
    assert [(row.up_to, row.factor) for row in risk.table] == [
        (Decimal(1), Decimal("0.90")),
        (Decimal(4), Decimal("1.00")),
        (None, Decimal("1.25")),
    ]


def test_the_risk_factor_multiplies_the_price_and_the_line_shows_it() -> None:
    # Day 1: 400 miles (counts 250); day 2: 150 miles. 400 miles billed, 550 driven.
    # The ratio reads the capped miles, the meter's quantity: 25 harsh brakes per 400 miles
    # is 6.25 per 100, row 3, factor 1.25. 400 x 0.032 = 12.80, x 1.25 = 16.00.
    events = [
        event("t1", 8, "trip", miles=Decimal(400)),
        event("t2", 30, "trip", miles=Decimal(150)),
        *(event(f"b{i}", 9, "harsh_brake") for i in range(25)),
    ]
    (line,) = rate_period(plan(INSURANCE), table(*events), hours(0, 48))
    assert (line.quantity, line.unit_price, line.amount) == (
        Decimal(400),
        Decimal("0.04000"),
        Decimal("16.00"),
    )
    cap, per_unit, risk = (detail.as_json() for detail in line.detail)
    assert cap == {
        "kind": "window_cap",
        "units": "150",
        "amount": "0",
        "note": "150 of 550 not counted: at most 250 per day (1 day over)",
    }
    assert per_unit["amount"] == "12.800"
    assert risk == {
        "kind": "risk_factor",
        "factor": "1.25",
        "amount": "3.20000",
        "note": "25 brakes per 100 miles over 400: ratio 6.25, row 3 (no bound)",
    }


def test_a_ratio_on_the_bound_takes_that_row_and_no_exposure_is_a_ratio_of_0() -> None:
    four_per_100 = [
        event("t1", 8, "trip", miles=Decimal(200)),
        *(event(f"b{i}", 9, "harsh_brake") for i in range(8)),
    ]
    (line,) = rate_period(plan(INSURANCE), table(*four_per_100), hours(0, 24))
    assert line.amount == Decimal("6.40")  # 200 x 0.032 x 1.00 (row 2: up to 4, inclusive)
    brakes_only = [event(f"b{i}", 9, "harsh_brake") for i in range(3)]
    (line,) = rate_period(plan(INSURANCE), table(*brakes_only), hours(0, 24))
    assert line.detail[-1].note == "3 brakes per 100 miles over 0: ratio 0, row 1 (up to 1)"


def test_a_commitment_of_100_with_usage_of_50_bills_a_true_up_of_50() -> None:
    (true_up,) = commitment_lines(
        plan(INSURANCE).commitment.__class__(Decimal("100.00")),
        USD,
        [usage_line("30.00"), usage_line("20.00")],
        [APRIL],
        APRIL,
    )
    assert (true_up.charge, true_up.kind, true_up.amount) == (
        "minimum_commitment",
        "commitment",
        Decimal("50.00"),
    )
    assert true_up.description == "Minimum commitment true-up"
    assert [detail.as_json() for detail in true_up.detail] == [
        {"kind": "minimum", "amount": "100.00", "note": "minimum 100.00"},
        {"kind": "charges", "amount": "-50.00", "note": "billed by the plan's charges"},
    ]


def test_a_commitment_from_16_april_is_50_and_a_maximum_is_prorated_alike() -> None:
    commitment = plan(INSURANCE).commitment.__class__(Decimal("100.00"), Decimal("300.00"))
    second_half = Period(datetime(2026, 4, 16, tzinfo=UTC), APRIL.end)
    # 100.00 x 1,296,000 / 2,592,000 seconds = 50.00 committed; 20.00 billed: 30.00 short.
    (true_up,) = commitment_lines(commitment, USD, [usage_line("20.00")], [second_half], APRIL)
    assert true_up.amount == Decimal("30.00")
    assert true_up.detail[0].as_json() == {
        "kind": "minimum",
        "amount": "50",
        "note": "minimum 100.00 x 1296000/2592000 seconds",
    }
    # 300.00 x 1/2 = 150.00 at most: 170.00 billed, -20.00 credited.
    (credit,) = commitment_lines(commitment, USD, [usage_line("170.00")], [second_half], APRIL)
    assert (credit.charge, credit.amount, credit.description) == (
        "maximum",
        Decimal("-20.00"),
        "Credit: charges above the maximum",
    )
    assert commitment_lines(commitment, USD, [usage_line("150.00")], [second_half], APRIL) == []
    assert commitment_lines(commitment, USD, [usage_line("50.00")], [second_half], APRIL) == []


def test_a_preview_bills_the_commitment_for_the_whole_period() -> None:
    april_first = 90 * 24  # hours from 1 January
    trip = event("t1", april_first + 8, "trip", miles=Decimal(100))
    priced = preview(plan(INSURANCE), table(trip), APRIL)
    # 100 miles, no brakes: ratio 0, factor 0.90: 100 x 0.032 x 0.90 = 2.88; 7.12 short of 10.00.
    assert [(line.charge, str(line.amount)) for line in priced.lines] == [
        ("mileage", "2.88"),
        ("minimum_commitment", "7.12"),
    ]


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        (
            "cap: {per: day, max: 250}",
            "is capped per day, so its usage over a period is not the sum of its events: an"
            " allowance needs an uncapped meter",
        ),
        (
            "recurring: true, allow_negative: true",
            "is recurring (its total carries from period to period), so it cannot measure an"
            " allowance",
        ),
        (
            "rounding: {function: ceil}",
            "rounds its quantity, so its usage over a period is not the sum of its events: an"
            " allowance needs a meter without rounding",
        ),
    ],
)
def test_a_metered_allowance_counts_only_a_meter_whose_usage_sums_its_events(
    options: str, problem: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        plan(
            f"""
code: bad
currency: USD
interval: month
meters: [{{code: miles, event_type: trip, aggregation: sum, property: miles, {options}}}]
charges: [{{code: mileage, meter: miles, model: per_unit, unit_price: "0.032"}}]
features:
  free_miles: {{meter: miles, allowance: 100, overage: bill, price: "0.032"}}
"""
        )
    assert problems_of(raised.value) == [
        f"plan.yaml: features.free_miles.meter: meter 'miles' {problem}"
    ]


def test_a_difference_under_half_a_cent_gives_no_line() -> None:
    commitment = plan(INSURANCE).commitment.__class__(Decimal("1.00"))
    first_ten_days = Period(APRIL.start, datetime(2026, 4, 11, tzinfo=UTC))
    # 1.00 x 864,000 / 2,592,000 = 0.3333...; 0.33 billed leaves 0.0033..., which rounds to 0.
    assert commitment_lines(commitment, USD, [usage_line("0.33")], [first_ten_days], APRIL) == []
    (true_up,) = commitment_lines(commitment, USD, [usage_line("0.32")], [first_ten_days], APRIL)
    assert true_up.amount == Decimal("0.01")  # 0.0133... rounds to 0.01
