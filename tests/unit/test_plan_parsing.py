"""Plans as data: every problem reported at once with its field path; numbers taken exactly."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from iotbill.adapters.plan_files import parse_plan_text
from iotbill.domain.catalog import Charge, FixedFee, Meter
from iotbill.domain.errors import InvalidInput
from iotbill.domain.metering import Carried
from iotbill.domain.money import currency
from iotbill.domain.plan_parsing import parse_plan
from iotbill.domain.pricing import Flat, Graduated, Package, Percentage, PerUnit, Tier, Volume
from tests.unit.conftest import plan, problems_of

ISSUE_PLAN = """
code: pump-outcome
name: Pump, pay per cubic metre
currency: USD
interval: month                  # day | week | month | quarter | year
fixed_fees:
  - {code: base, amount: "31.00", timing: advance}   # advance | arrears
meters:
  - {code: water, event_type: pump.flow, aggregation: sum, property: m3}
charges:
  - code: water
    meter: water
    model: graduated
    tiers:
      - {up_to: 100, unit_price: "0.50", flat_fee: "0"}
      - {up_to: null, unit_price: "0.30"}
    min_amount: "10.00"
"""


def test_the_issue_plan_loads_into_exact_values() -> None:
    loaded = plan(ISSUE_PLAN)
    assert (loaded.code, loaded.name, loaded.currency, loaded.interval) == (
        "pump-outcome",
        "Pump, pay per cubic metre",
        currency("USD"),
        "month",
    )
    assert loaded.fixed_fees == (FixedFee("base", Decimal("31.00"), "advance"),)
    assert loaded.meters == (Meter("water", "pump.flow", "sum", "m3"),)
    tiers = (Tier(Decimal(100), Decimal("0.50"), Decimal(0)), Tier(None, Decimal("0.30")))
    assert loaded.charges == (Charge("water", Graduated(tiers), "water", Decimal("10.00")),)


def base(**changes: Any) -> dict[str, Any]:
    """A valid plan as data, with ``changes`` applied (``None`` removes a field)."""
    data: dict[str, Any] = {
        "code": "p",
        "currency": "USD",
        "interval": "month",
        "meters": [
            {"code": "water", "event_type": "flow", "aggregation": "sum", "property": "m3"},
            {"code": "level", "event_type": "tank", "aggregation": "max", "property": "litres"},
        ],
        "charges": [{"code": "water", "meter": "water", "model": "per_unit", "unit_price": "1"}],
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def problems(data: Any) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        parse_plan(data)
    return problems_of(caught.value)


def charge_problems(**charge: Any) -> list[str]:
    return problems(base(charges=[{"code": "c", "meter": "water", **charge}]))


def tiers_problems(*tiers: dict[str, Any], model: str = "graduated") -> list[str]:
    return charge_problems(model=model, tiers=list(tiers))


def test_every_problem_is_reported_at_once_with_its_field_path() -> None:
    text = """
code: broken
currency: USD
interval: fortnight
colour: blue
fixed_fees:
  - {code: base, amount: "31.00"}
  - {code: extra, amount: "31.005", timing: later}
meters:
  - {code: water, event_type: pump.flow, aggregation: sum, property: m3}
  - {code: water, event_type: pump.flow, aggregation: max, property: m3}
  - {code: level, event_type: tank, aggregation: median, property: litres}
charges:
  - {code: base, meter: water, model: per_unit, unit_price: "0.1"}
  - code: water
    meter: water
    model: graduated
    tiers:
      - {up_to: 100, unit_price: "0.50"}
      - {up_to: 50, unit_price: "0.40"}
      - {up_to: -1, unit_price: "0.30"}
      - {up_to: 500, unit_price: "0.20", flat_fees: "1"}
  - {code: flow, meter: flow, model: per_unit, unit_price: "0.1"}
  - {code: x, meter: water, model: bespoke}
  - {code: share, meter: water, model: percentage, rate: 101, min_ammount: "1"}
"""
    with pytest.raises(InvalidInput) as caught:
        parse_plan_text(text, "plan.yaml")
    assert problems_of(caught.value) == [
        "plan.yaml: colour: unknown field (expected one of: at_term_end, buy_out, charges, code, "
        "consumables, currency, data_products, description, early_termination_fee, features, "
        "fixed_fees, interval, maximum, meters, minimum_commitment, model, name, "
        "one_off_charges, service, sharing, term, thresholds)",
        "plan.yaml: interval: must be one of day, week, month, quarter, year, not 'fortnight'",
        "plan.yaml: fixed_fees[1].amount: 31.005 has more decimals than USD allows (2)",
        "plan.yaml: fixed_fees[1].timing: must be one of advance, arrears, not 'later'",
        "plan.yaml: meters[2].aggregation: must be one of count, sum, max, min, unique_count, "
        "latest, average, time_weighted_average, weighted_sum, increase, not 'median'",
        "plan.yaml: charges[1].tiers[1].up_to: must be greater than 100",
        "plan.yaml: charges[1].tiers[2].up_to: must be greater than 0, not -1",
        "plan.yaml: charges[1].tiers[3].flat_fees: unknown field (expected one of: flat_fee, "
        "unit_price, up_to)",
        "plan.yaml: charges[1].tiers[3].up_to: the last tier must have up_to: null (unlimited)",
        "plan.yaml: charges[2].meter: unknown meter 'flow' (meters: level, water)",
        "plan.yaml: charges[3].model: must be one of flat, per_unit, graduated, volume, package, "
        "percentage, graduated_percentage, dynamic, not 'bespoke'",
        "plan.yaml: charges[4].min_ammount: unknown field (expected one of: code, fixed_fee, "
        "free_amount, free_events, max_per_event, meter, min_amount, min_per_event, model, name, "
        "rate, risk_factor)",
        "plan.yaml: charges[4].rate: is a percentage: at most 100, not 101",
        "plan.yaml: meters[1].code: 'water' is already used in meters",
        "plan.yaml: charges[0].code: 'base' is already used in fixed_fees",
    ]


# tiers


@pytest.mark.parametrize("model", ["graduated", "volume"])
def test_descending_and_repeated_bounds_are_refused(model: str) -> None:
    assert tiers_problems(
        {"up_to": 100, "unit_price": 1},
        {"up_to": 100, "unit_price": 1},
        {"up_to": None, "unit_price": 1},
        model=model,
    ) == ["charges[0].tiers[1].up_to: must be greater than 100"]
    assert tiers_problems(
        {"up_to": "2.5", "unit_price": 1},
        {"up_to": "2.499999999", "unit_price": 1},
        {"up_to": None, "unit_price": 1},
        model=model,
    ) == ["charges[0].tiers[1].up_to: must be greater than 2.5"]


def test_zero_and_negative_bounds_are_refused() -> None:
    assert tiers_problems(
        {"up_to": 0, "unit_price": 1},
        {"up_to": None, "unit_price": 1},
    ) == ["charges[0].tiers[0].up_to: must be greater than 0, not 0"]
    assert tiers_problems(
        {"up_to": "-10", "unit_price": 1},
        {"up_to": None, "unit_price": 1},
    ) == ["charges[0].tiers[0].up_to: must be greater than 0, not -10"]


def test_only_the_last_tier_is_unlimited() -> None:
    assert tiers_problems(
        {"up_to": 10, "unit_price": 1},
        {"up_to": 20, "unit_price": 1},
    ) == ["charges[0].tiers[1].up_to: the last tier must have up_to: null (unlimited)"]
    assert tiers_problems(
        {"unit_price": 1},
        {"up_to": None, "unit_price": 1},
    ) == ["charges[0].tiers[0].up_to: only the last tier may be unlimited (up_to: null)"]


def test_tiers_are_contiguous_by_construction_so_a_gap_cannot_be_written() -> None:
    # A tier starts where the previous one ends; a "from" bound is not a field to get wrong.
    assert tiers_problems(
        {"up_to": 10, "unit_price": 1},
        {"from": 15, "up_to": None, "unit_price": 1},
    ) == ["charges[0].tiers[1].from: unknown field (expected one of: flat_fee, unit_price, up_to)"]


def test_tiers_must_be_given_and_not_empty() -> None:
    assert charge_problems(model="volume") == ["charges[0].tiers: is required"]
    assert tiers_problems() == ["charges[0].tiers: must list at least one tier"]
    assert charge_problems(model="graduated", tiers="lots") == [
        "charges[0].tiers: must be a list, got str"
    ]


def test_tier_prices_and_fees_are_checked() -> None:
    assert tiers_problems(
        {"up_to": 10, "flat_fee": "-1"},
        {"up_to": None, "unit_price": "cheap"},
    ) == [
        "charges[0].tiers[0].unit_price: is required",
        "charges[0].tiers[0].flat_fee: must be at least 0, not -1",
        "charges[0].tiers[1].unit_price: 'cheap' is not a plain decimal number (like -12.50)",
    ]


def test_valid_tiers_load_for_both_tiered_models() -> None:
    tiers = [{"up_to": "0.5", "unit_price": "2", "flat_fee": "1"}, {"up_to": None, "unit_price": 1}]
    charge = {"code": "c", "meter": "water", "tiers": tiers}
    graduated = parse_plan(base(charges=[{**charge, "model": "graduated"}]))
    volume = parse_plan(base(charges=[{**charge, "model": "volume"}]))
    expected = (Tier(Decimal("0.5"), Decimal(2), Decimal(1)), Tier(None, Decimal(1)))
    assert graduated.charges[0].model == Graduated(expected)
    assert volume.charges[0].model == Volume(expected)


# meters and charges


def test_an_unknown_meter_names_the_known_ones() -> None:
    assert charge_problems(meter="power", model="per_unit", unit_price=1) == [
        "charges[0].meter: unknown meter 'power' (meters: level, water)"
    ]
    assert problems(base(meters=None)) == [
        "charges[0].meter: unknown meter 'water' (meters: none defined)"
    ]


def test_a_usage_model_needs_a_meter_and_flat_does_not() -> None:
    assert problems(base(charges=[{"code": "c", "model": "per_unit", "unit_price": 1}])) == [
        "charges[0].meter: is required"
    ]
    loaded = parse_plan(base(charges=[{"code": "c", "model": "flat", "amount": "9.90"}]))
    assert loaded.charges == (Charge("c", Flat(Decimal("9.90"))),)


def test_fields_of_another_model_are_unknown() -> None:
    assert charge_problems(model="per_unit", unit_price=1, tiers=[]) == [
        "charges[0].tiers: unknown field (expected one of: code, meter, min_amount, model, "
        "name, risk_factor, unit_price)"
    ]


def test_unknown_fields_are_refused_in_meters_and_fees() -> None:
    meter = {"code": "m", "event_type": "e", "aggregation": "count", "groupby": "pump"}
    fee = {"code": "f", "amount": "1.00", "when": "advance"}
    assert problems(base(meters=[meter], charges=None, fixed_fees=[fee])) == [
        "fixed_fees[0].when: unknown field (expected one of: amount, code, name, timing)",
        "meters[0].groupby: unknown field (expected one of: aggregation, allow_negative, cap, "
        "code, event_type, filters, group_by, name, per, property, recurring, rounding)",
    ]


def test_codes_are_unique_among_meters_and_among_fees_and_charges() -> None:
    water = {"code": "water", "meter": "water", "model": "per_unit", "unit_price": 1}
    fee = {"code": "water", "amount": "1.00"}
    meter = {"code": "level", "event_type": "x", "aggregation": "count"}
    data = base(fixed_fees=[fee], charges=[water, water])
    data["meters"] = [*data["meters"], meter]
    assert problems(data) == [
        "meters[2].code: 'level' is already used in meters",
        "charges[0].code: 'water' is already used in fixed_fees",
        "charges[1].code: 'water' is already used in fixed_fees",
    ]


def test_percentage_needs_a_summing_meter() -> None:
    assert problems(
        base(charges=[{"code": "c", "meter": "level", "model": "percentage", "rate": 5}])
    ) == ["charges[0].meter: percentage needs a meter that sums an amount (sum)"]
    tiered = {"model": "graduated_percentage", "tiers": [{"up_to": None, "rate": "1"}]}
    assert problems(base(charges=[{"code": "c", "meter": "level", **tiered}])) == [
        "charges[0].meter: graduated_percentage needs a meter that sums an amount (sum)"
    ]
    loaded = parse_plan(
        base(charges=[{"code": "c", "meter": "water", "model": "percentage", "rate": "2.9"}])
    )
    assert loaded.charges[0].model == Percentage(Decimal("2.9"))


def test_aggregations_need_a_property_except_count() -> None:
    meters = [
        {"code": "a", "event_type": "e", "aggregation": "count", "property": "v"},
        {"code": "b", "event_type": "e", "aggregation": "time_weighted_average"},
    ]
    assert problems(base(meters=meters, charges=None)) == [
        "meters[0].property: count counts events: remove property",
        "meters[1].property: is required by time_weighted_average",
    ]


def test_meter_options_are_checked() -> None:
    meter = {
        "code": "m",
        "event_type": "e",
        "aggregation": "sum",
        "property": "v",
        "filters": {"kind": [{"nested": 1}], "empty": [], "ok": ["a", 1, True]},
        "allow_negative": "yes",
    }
    assert problems(base(meters=[meter], charges=None)) == [
        "meters[0].filters.kind: must be a string, number or boolean, or a list",
        "meters[0].filters.empty: must be a string, number or boolean, or a list",
        "meters[0].allow_negative: must be true or false",
    ]


def test_meter_options_load() -> None:
    meter = {
        "code": "m",
        "event_type": "e",
        "aggregation": "sum",
        "property": "v",
        "filters": {"kind": "water", "site": [1, "two", True]},
        "group_by": "pump",
        "allow_negative": True,
    }
    loaded = parse_plan(base(meters=[meter], charges=None))
    assert loaded.meters == (
        Meter(
            "m",
            "e",
            "sum",
            "v",
            (("kind", ("water",)), ("site", (1, "two", True))),
            "pump",
            allow_negative=True,
        ),
    )


def test_recurring_is_a_weighted_sum_option_and_a_boolean() -> None:
    meters = [
        {"code": "a", "event_type": "e", "aggregation": "max", "property": "v", "recurring": True},
        {"code": "b", "event_type": "e", "aggregation": "weighted_sum", "property": "v",
         "recurring": "yes"},
        {"code": "c", "event_type": "e", "aggregation": "weighted_sum", "property": "v",
         "recurring": True},
    ]  # fmt: skip
    assert problems(base(meters=meters, charges=None)) == [
        "meters[0].recurring: carries a total or a last value into the next period: sum,"
        " weighted_sum, latest only, not max",
        "meters[1].recurring: must be true or false",
    ]
    loaded = parse_plan(base(meters=meters[2:], charges=None))
    assert loaded.meters == (Meter("c", "e", "weighted_sum", "v", recurring=True),)
    assert loaded.meters[0].aggregator().carried is Carried.TOTAL


def test_a_recurring_meter_has_no_cap_and_no_price_of_the_periods_own_events() -> None:
    meters = [
        {"code": "seats", "event_type": "e", "aggregation": "sum", "property": "v",
         "recurring": True},
        {"code": "capped", "event_type": "e", "aggregation": "sum", "property": "v",
         "recurring": True, "cap": {"per": "day", "max": 5}},
    ]  # fmt: skip
    charges = [
        {"code": "share", "meter": "seats", "model": "percentage", "rate": "1"},
        {"code": "spot", "meter": "seats", "model": "dynamic", "amount_property": "usd"},
        {"code": "fine", "meter": "seats", "model": "per_unit", "unit_price": "2"},
    ]
    assert problems(base(meters=meters, charges=charges)) == [
        "meters[1].cap: a recurring total counts every earlier value, so it has no cap per day"
        " or hour",
        "charges[0].meter: percentage prices the period's own events, so its meter cannot be"
        " recurring",
        "charges[1].meter: dynamic prices each event, so its meter cannot be recurring",
    ]


def test_model_parameters_are_checked() -> None:
    assert charge_problems(
        model="package", package_size=0, price="1", free_units=-1, round="nearest"
    ) == [
        "charges[0].package_size: must be greater than 0, not 0",
        "charges[0].free_units: must be at least 0, not -1",
        "charges[0].round: must be one of up, down, not 'nearest'",
    ]
    assert charge_problems(model="percentage", rate="-1", fixed_fee=True, free_events="2") == [
        "charges[0].rate: must be at least 0, not -1",
        "charges[0].fixed_fee: must be a number, not a boolean",
        "charges[0].free_events: must be a whole number",
    ]
    assert charge_problems(
        model="percentage", rate="1", free_amount="-5", min_per_event="x", max_per_event="0.1"
    ) == [
        "charges[0].free_amount: must be at least 0, not -5",
        "charges[0].min_per_event: 'x' is not a plain decimal number (like -12.50)",
    ]
    assert charge_problems(
        model="percentage", rate="1", min_per_event="0.50", max_per_event="0.25"
    ) == ["charges[0].max_per_event: must be at least min_per_event (0.50), not 0.25"]
    assert tiers_problems(
        {"up_to": 100, "rate": "101"},
        {"up_to": None, "unit_price": "1"},
        model="graduated_percentage",
    ) == [
        "charges[0].tiers[0].rate: is a percentage: at most 100, not 101",
        "charges[0].tiers[1].unit_price: unknown field (expected one of: flat_fee, rate, up_to)",
        "charges[0].tiers[1].rate: is required",
    ]
    assert charge_problems(model="dynamic") == ["charges[0].amount_property: is required"]
    assert charge_problems(model="per_unit", unit_price=0.5) == [
        "charges[0].unit_price: a binary float cannot be taken exactly; write the number as a "
        "string"
    ]


def test_model_parameters_load() -> None:
    loaded = parse_plan(
        base(
            charges=[
                {"code": "a", "meter": "water", "model": "package", "package_size": 100,
                 "price": "3.00", "free_units": 50},
                {"code": "d", "meter": "water", "model": "package", "package_size": 1000,
                 "price": "0.10", "round": "down"},
                {"code": "b", "meter": "water", "model": "percentage", "rate": "12.5",
                 "fixed_fee": "0.05", "free_events": 2},
                {"code": "c", "meter": "water", "model": "percentage", "rate": "2.9",
                 "fixed_fee": "0.30", "free_amount": "500", "min_per_event": "0.50",
                 "max_per_event": "5"},
            ]
        )
    )  # fmt: skip
    assert [charge.model for charge in loaded.charges] == [
        Package(Decimal(100), Decimal("3.00"), Decimal(50)),
        Package(Decimal(1000), Decimal("0.10"), round="down"),
        Percentage(Decimal("12.5"), Decimal("0.05"), 2),
        Percentage(Decimal("2.9"), Decimal("0.30"), 0, Decimal(500), Decimal("0.50"), Decimal(5)),
    ]


# money


@pytest.mark.parametrize(
    ("code", "amount", "allowed"),
    [
        ("USD", "31.00", True),
        ("USD", "31.005", False),
        ("JPY", "1500", True),
        ("JPY", "1500.5", False),
        ("KWD", "1.234", True),
        ("KWD", "1.2345", False),
    ],
)
def test_money_amounts_may_not_have_more_decimals_than_the_currency(
    code: str, amount: str, allowed: bool
) -> None:
    data = base(
        currency=code,
        fixed_fees=[{"code": "fee", "amount": amount}],
        charges=[
            {"code": "c", "meter": "water", "model": "per_unit", "unit_price": "0.00001",
             "min_amount": amount},
            {"code": "support", "model": "flat", "amount": amount},
        ],
    )  # fmt: skip
    if allowed:
        loaded = parse_plan(data)
        assert loaded.fixed_fees[0].amount == Decimal(amount)
        assert loaded.charges[0].min_amount == Decimal(amount)
        assert loaded.charges[1].model == Flat(Decimal(amount))
    else:
        minor = currency(code).minor_units
        message = f"{amount} has more decimals than {code} allows ({minor})"
        assert problems(data) == [
            f"fixed_fees[0].amount: {message}",
            f"charges[0].min_amount: {message}",
            f"charges[1].amount: {message}",
        ]


def test_unit_prices_may_have_any_number_of_decimals() -> None:
    loaded = parse_plan(
        base(charges=[{"code": "c", "meter": "water", "model": "per_unit", "unit_price": "0.0125"}])
    )
    assert loaded.charges[0].model == PerUnit(Decimal("0.0125"))


def test_unknown_currency_and_missing_fields() -> None:
    assert problems({"currency": "ZZZ", "charges": "none"}) == [
        "code: is required",
        "currency: unknown ISO 4217 currency code 'ZZZ'",
        "interval: is required",
        "charges: must be a list, got str",
    ]
    assert problems(["not", "a", "plan"]) == [
        "must be a mapping, got a list",
        "code: is required",
        "currency: is required",
        "interval: is required",
    ]


# plan files


def test_a_yaml_number_is_taken_exactly_as_written() -> None:
    text = """
code: p
currency: USD
interval: month
meters:
  - {code: w, event_type: flow, aggregation: sum, property: m3}
charges:
  - {code: w, meter: w, model: per_unit, unit_price: 0.1, min_amount: 0.30}
  - code: g
    meter: w
    model: graduated
    tiers:
      - {up_to: 100.5, unit_price: 0.3, flat_fee: 1.10}
      - {up_to: null, unit_price: 1.0e-3}
"""
    loaded = plan(text)
    per_unit, graduated = loaded.charges
    assert per_unit.model == PerUnit(Decimal("0.1"))  # not 0.1000000000000000055...
    assert str(per_unit.min_amount) == "0.30"
    assert graduated.model == Graduated(
        (
            Tier(Decimal("100.5"), Decimal("0.3"), Decimal("1.10")),
            Tier(None, Decimal("0.001")),
        )
    )


def test_a_json_plan_is_read_with_exact_numbers() -> None:
    text = """{
  "code": "p", "currency": "KWD", "interval": "quarter",
  "fixed_fees": [{"code": "base", "amount": 2.125, "timing": "arrears"}],
  "meters": [{"code": "w", "event_type": "flow", "aggregation": "sum", "property": "m3"}],
  "charges": [{"code": "w", "meter": "w", "model": "per_unit", "unit_price": 0.1}]
}"""
    loaded = parse_plan_text(text, "plan.json")
    assert loaded.interval == "quarter"
    assert loaded.fixed_fees == (FixedFee("base", Decimal("2.125"), "arrears"),)
    assert loaded.charges[0].model == PerUnit(Decimal("0.1"))  # not 0.1000000000000000055...


def test_problems_in_a_json_plan_name_the_file_and_field() -> None:
    text = '{"code": "p", "currency": "USD", "interval": "month", "meters": [{"code": 1}]}'
    with pytest.raises(InvalidInput) as caught:
        parse_plan_text(text, "plan.json")
    assert problems_of(caught.value) == [
        "plan.json: meters[0].code: must be a non-empty string",
        "plan.json: meters[0].event_type: is required",
        "plan.json: meters[0].aggregation: is required",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "code: p\ncurrency: USD\ninterval: month\nmeters: [\n  {code: w\n",
            "plan.yaml:6: not valid YAML (did not find expected ',' or '}')",
        ),
        (
            "code: p\n  bad: indentation\n",
            "plan.yaml:2: not valid YAML (mapping values are not allowed in this context)",
        ),
        (
            '{"code": "p",\n "currency": "USD",\n "interval": month}',
            "plan.yaml:3: not valid JSON (Expecting value)",
        ),
        (
            '{"code": "p",\n "currency": "USD",\n\n "interval": "month",}',
            "plan.yaml:4: not valid JSON (Expecting property name enclosed in double quotes)",
        ),
    ],
)
def test_an_unreadable_plan_names_its_line(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_plan_text(text, "plan.yaml")
    assert str(caught.value) == message


def test_a_yaml_infinity_is_not_a_price() -> None:
    text = (
        "code: p\ncurrency: USD\ninterval: month\ncharges: [{code: s, model: flat, amount: .inf}]"
    )
    with pytest.raises(InvalidInput) as caught:
        plan(text)
    assert problems_of(caught.value) == [
        "plan.yaml: charges[0].amount: '.inf' is not a plain decimal number (like -12.50)"
    ]


def test_a_plan_says_which_business_model_it_implements() -> None:
    base = {"code": "pump", "currency": "USD", "interval": "month"}
    assert parse_plan(base).model is None
    assert parse_plan({**base, "model": "outcome_based"}).model == "outcome_based"
    with pytest.raises(InvalidInput) as raised:
        parse_plan({**base, "model": "freemium", "interval": "fortnight"})
    assert [str(problem) for problem in raised.value.problems] == [
        "model: must be a business model: retail_sale, lease, subscription, outcome_based,"
        " asset_sharing, razor_blade, data_monetization, pay_per_usage, service, not 'freemium'",
        "interval: must be one of day, week, month, quarter, year, not 'fortnight'",
    ]


def test_a_bad_meter_is_reported_once_and_its_charges_do_not_call_it_unknown() -> None:
    text = """
code: bm
currency: USD
interval: month
meters:
  - {code: water, event_type: pump.flow, aggregation: summ, property: m3}
  - {code: hours, event_type: pump.run, aggregation: sum, property: h}
charges:
  - {code: water, meter: water, model: per_unit, unit_price: "0.1"}
  - {code: hours, meter: hours, model: per_unit, unit_price: "2"}
  - {code: power, meter: power, model: per_unit, unit_price: "0.3"}
"""
    with pytest.raises(InvalidInput) as caught:
        parse_plan_text(text, "plan.yaml")

    assert problems_of(caught.value) == [
        "plan.yaml: meters[0].aggregation: must be one of count, sum, max, min, unique_count,"
        " latest, average, time_weighted_average, weighted_sum, increase, not 'summ'",
        "plan.yaml: charges[2].meter: unknown meter 'power' (meters: hours, water)",
    ]


def test_a_code_given_twice_is_refused_even_beside_other_problems() -> None:
    text = """
code: twice
currency: USD
interval: month
fixed_fees:
  - {code: base, amount: "10.00"}
  - {code: base, amount: "oops"}
meters:
  - {code: water, event_type: pump.flow, aggregation: sum, property: m3}
charges:
  - {code: water, meter: water, model: per_unit, unit_price: "0.1"}
  - {code: water, meter: water, model: per_unit, unit_price: "-"}
"""
    with pytest.raises(InvalidInput) as caught:
        parse_plan_text(text, "plan.yaml")

    problems = problems_of(caught.value)
    assert "plan.yaml: fixed_fees[1].code: 'base' is already used in fixed_fees" in problems
    assert "plan.yaml: charges[1].code: 'water' is already used in charges" in problems
    assert len([p for p in problems if "already used" in p]) == 2


def test_a_plan_file_that_is_not_utf8_is_refused_at_its_line(tmp_path: Any) -> None:
    from iotbill.adapters.plan_files import read_plan

    path = tmp_path / "plan.yaml"
    path.write_bytes(b"code: x\n\xff\n")

    with pytest.raises(InvalidInput) as refused:
        read_plan(str(path))

    assert str(refused.value) == f"{path}:2: not UTF-8 text at byte 9 (invalid start byte)"
