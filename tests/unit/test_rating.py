"""Rating a plan over a period: lines per charge and group, true-ups, fees, rounding per line."""

from __future__ import annotations

from decimal import Decimal

import pytest

from iotbill.domain.errors import InvalidInput
from iotbill.domain.events import UsageEvent
from iotbill.domain.invoicing import InvoiceLine, subtotal
from iotbill.domain.preview import preview
from iotbill.domain.rating import RatingOptions, rate_period
from tests.unit.conftest import event, hours, plan, problems_of, table

PERIOD = hours(0, 24)

FLEET = """
code: fleet
currency: USD
interval: month
meters:
  - {code: km, event_type: trip, aggregation: sum, property: km, group_by: region}
charges:
  - code: distance
    name: Distance
    meter: km
    model: per_unit
    unit_price: "0.10"
    min_amount: "5.00"
"""


def trip(event_id: str, km: str, region: str) -> UsageEvent:
    return event(event_id, 1, "trip", km=Decimal(km), region=region)


def summary(lines: list[InvoiceLine]) -> list[tuple[str, str, str | None, str, str]]:
    """(charge, kind, group, quantity, amount) of each line, as exact text."""
    return [
        (line.charge, line.kind, line.group, str(line.quantity), str(line.amount)) for line in lines
    ]


def test_group_by_gives_one_line_per_group_and_the_minimum_applies_to_their_total() -> None:
    events = [trip("a", "12.5", "north"), trip("b", "7.5", "south")]
    lines = rate_period(plan(FLEET), table(*events), PERIOD)
    # north 12.5 x 0.10 = 1.25, south 7.5 x 0.10 = 0.75: 2.00 in all, 3.00 short of 5.00.
    assert summary(lines) == [
        ("distance", "usage", "north", "12.5", "1.25"),
        ("distance", "usage", "south", "7.5", "0.75"),
        ("distance", "minimum", None, "1", "3.00"),
    ]
    assert [line.description for line in lines] == [
        "Distance (north)",
        "Distance (south)",
        "Distance: minimum charge true-up",
    ]
    assert subtotal(lines) == Decimal("5.00")


def test_no_true_up_when_the_groups_together_reach_the_minimum() -> None:
    # Neither group reaches 5.00 alone; together (3.00 + 2.50) they do.
    events = [trip("a", "30", "north"), trip("b", "25", "south")]
    lines = rate_period(plan(FLEET), table(*events), PERIOD)
    assert summary(lines) == [
        ("distance", "usage", "north", "30", "3.00"),
        ("distance", "usage", "south", "25", "2.50"),
    ]


def test_a_minimum_without_usage_is_one_true_up_line() -> None:
    lines = rate_period(plan(FLEET), table(), PERIOD)
    assert summary(lines) == [("distance", "minimum", None, "1", "5.00")]


PUMP = """
code: pump
currency: USD
interval: month
fixed_fees:
  - {code: base, name: Monitoring, amount: "31.00", timing: advance}
  - {code: service, amount: "4.50", timing: arrears}
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
  - {code: support, model: flat, amount: "25.00"}
"""


def test_the_issue_plan_priced_by_hand() -> None:
    flows = [event(f"f{i}", i, "pump.flow", m3=Decimal("37.5")) for i in range(4)]
    lines = rate_period(plan(PUMP), table(*flows), PERIOD)
    # 150 m3: 100 x 0.50 + 50 x 0.30 = 65.00; fees first, then charges in plan order.
    assert summary(lines) == [
        ("base", "fixed_fee", None, "1", "31.00"),
        ("service", "fixed_fee", None, "1", "4.50"),
        ("water", "usage", None, "150", "65.00"),
        ("support", "usage", None, "1", "25.00"),
    ]
    assert [line.unit_price for line in lines] == [
        Decimal("31.00"),
        Decimal("4.50"),
        None,
        Decimal("25.00"),
    ]
    assert subtotal(lines) == Decimal("125.50")


def test_rating_options_choose_fees_by_timing_and_usage() -> None:
    built = plan(PUMP)
    only_advance = RatingOptions(arrears_fees=False, usage=False)
    assert summary(rate_period(built, table(), PERIOD, only_advance)) == [
        ("base", "fixed_fee", None, "1", "31.00")
    ]
    no_fees = RatingOptions(advance_fees=False, arrears_fees=False)
    assert [line.charge for line in rate_period(built, table(), PERIOD, no_fees)] == [
        "water",
        "water",
        "support",
    ]  # zero usage is below the minimum: a true-up of 10.00


@pytest.mark.parametrize(
    ("code", "unit_price", "units", "amount"),
    [
        ("JPY", "0.5", "3", "2"),  # 1.5 yen rounds half-up to 2
        ("JPY", "12.25", "10", "123"),  # 122.5 yen
        ("JPY", "0.4", "1", "0"),
        ("KWD", "0.0125", "220.1", "2.751"),  # 2.75125 dinar
        ("KWD", "0.0005", "1", "0.001"),  # half a fils rounds up
        ("USD", "0.0125", "220.1", "2.75"),
    ],
)
def test_a_usage_line_is_rounded_once_at_the_currency_minor_unit(
    code: str, unit_price: str, units: str, amount: str
) -> None:
    text = f"""
code: p
currency: {code}
interval: month
meters:
  - {{code: use, event_type: use, aggregation: sum, property: n}}
charges:
  - {{code: use, meter: use, model: per_unit, unit_price: "{unit_price}"}}
"""
    result = preview(plan(text), table(event("a", 1, "use", n=Decimal(units))), PERIOD)
    (line,) = result.lines
    assert line.exact_amount == Decimal(unit_price) * Decimal(units)
    assert str(line.amount) == amount
    assert result.as_json()["total"] == amount
    assert result.as_json()["lines"][0]["amount"] == amount


def test_the_preview_json_of_a_small_invoice() -> None:
    events = [trip("a", "12.5", "north"), trip("a", "12.5", "north"), trip("b", "7.5", "south")]
    conflicting = event("b", 1, "trip", km=Decimal(1000), region="south")
    result = preview(plan(FLEET), table(*events, conflicting), PERIOD)
    document = result.as_json()
    assert document["currency"] == "USD"
    assert document["from"] == "2026-01-01T00:00:00+00:00"
    assert document["to"] == "2026-01-02T00:00:00+00:00"
    assert [line["amount"] for line in document["lines"]] == ["1.25", "0.75", "3.00"]
    assert document["lines"][0] == {
        "charge": "distance",
        "kind": "usage",
        "description": "Distance (north)",
        "group": "north",
        "quantity": "12.5",
        "unit_price": "0.10",
        "amount": "1.25",
        "detail": [{"kind": "units", "units": "12.5", "unit_price": "0.10", "amount": "1.250"}],
    }
    assert document["lines"][2]["detail"] == [
        {"kind": "minimum_true_up", "amount": "3.00", "note": "minimum 5.00, charged 2.00"}
    ]
    assert document["total"] == "5.00"
    assert document["events"] == {"counted": 2, "duplicates": 1, "conflicts": 1}


PERCENTAGE_AND_DYNAMIC = """
code: share
currency: EUR
interval: month
meters:
  - {code: sales, event_type: sale, aggregation: sum, property: eur}
  - {code: energy, event_type: kwh, aggregation: sum, property: kwh}
charges:
  - {code: share, meter: sales, model: percentage, rate: "12.5", fixed_fee: "0.05", free_events: 1}
  - {code: energy, meter: energy, model: dynamic, amount_property: cost}
"""


def test_percentage_and_dynamic_read_the_periods_events_in_order() -> None:
    events = [
        event("s2", 3, "sale", eur=Decimal("40")),
        event("s1", 2, "sale", eur=Decimal("10")),  # first by time: exempt
        event("s0", -1, "sale", eur=Decimal("500")),  # before the period: not counted
        event("s3", 4, "sale", eur=Decimal("20.04")),
        event("k1", 5, "kwh", kwh=Decimal("2.5"), cost=Decimal("0.3125")),
        event("k2", 6, "kwh", kwh=Decimal("1"), cost=Decimal("0.1")),
    ]
    lines = rate_period(plan(PERCENTAGE_AND_DYNAMIC), table(*events), PERIOD)
    # share: 12.5 % of (40 + 20.04) = 7.505, plus 2 x 0.05 = 7.605, on the invoice 7.61.
    # energy: 0.3125 + 0.1 = 0.4125 for 3.5 kWh, on the invoice 0.41.
    assert summary(lines) == [
        ("share", "usage", None, "70.04", "7.61"),
        ("energy", "usage", None, "3.5", "0.41"),
    ]
    assert [line.exact_amount for line in lines] == [Decimal("7.605"), Decimal("0.4125")]


def test_bad_events_of_every_charge_are_reported_together() -> None:
    events = [
        event("s1", 2, "sale", eur=Decimal("-10")),
        event("k1", 5, "kwh", kwh=Decimal("2.5")),
    ]
    with pytest.raises(InvalidInput) as caught:
        rate_period(plan(PERCENTAGE_AND_DYNAMIC), table(*events), PERIOD)
    assert problems_of(caught.value) == [
        "events.jsonl:1: properties.eur: negative value -10 is not allowed "
        "(set allow_negative: true on the meter to accept it) (meter 'sales')",
        "events.jsonl:2: properties.cost: is required (meter 'energy')",
    ]


PAYMENTS = """
code: payments
currency: USD
interval: month
meters:
  - {code: volume, event_type: payment, aggregation: sum, property: usd}
charges:
  - code: fees
    meter: volume"""
"""A plan of payments in USD up to its one charge's model: the plan files of the tests below."""


def test_a_percentage_with_an_allowance_and_limits_per_event_from_a_plan_file() -> None:
    """The documented example as a plan: 1.2 % and 0.10 an event, the first 3 events or
    500 free, at least 0.75 an event. The events come out of order; two share an instant
    (ordered by id). Free: 200, 100, 100 (400 of the 500); paid: 50 (0.70, raised to
    0.75) and 1,000 (12.10). On the invoice 12.85."""
    document = plan(
        PAYMENTS
        + """
    model: percentage
    rate: "1.2"
    fixed_fee: "0.10"
    free_events: 3
    free_amount: "500"
    min_per_event: "0.75"
"""
    )
    events = [
        event("p5", 9, "payment", usd=Decimal("1000")),
        event("p2", 3, "payment", usd=Decimal("100")),
        event("p4", 7, "payment", usd=Decimal("50")),
        event("p1", 2, "payment", usd=Decimal("200")),
        event("p3", 3, "payment", usd=Decimal("100")),
    ]
    [line] = rate_period(document, table(*events), PERIOD)
    assert line.exact_amount == Decimal("12.85")
    assert [detail.as_json() for detail in line.detail] == [
        {"kind": "free_events", "units": "3", "amount": "0", "note": "exempt events"},
        {"kind": "free_amount", "units": "400", "amount": "0", "note": "exempt amount"},
        {"kind": "percentage", "units": "1050", "rate": "1.2", "amount": "12.6"},
        {"kind": "event_fees", "units": "2", "unit_price": "0.10", "amount": "0.20"},
        {
            "kind": "per_event_minimum",
            "units": "1",
            "amount": "0.05",
            "note": "each raised to 0.75",
        },
    ]


def test_a_graduated_percentage_from_a_plan_file_prices_the_periods_total() -> None:
    """Three payments of 500, 550 and 4,000 in the period: 5,050 in all, 591 (the
    documented ladder); a payment before the period is not counted."""
    document = plan(
        PAYMENTS
        + """
    model: graduated_percentage
    tiers:
      - {up_to: 1000, rate: "1", flat_fee: "200"}
      - {up_to: 10000, rate: "2", flat_fee: "300"}
      - {up_to: null, rate: "3", flat_fee: "400"}
"""
    )
    events = [
        event("p0", -1, "payment", usd=Decimal("9000")),
        event("p1", 2, "payment", usd=Decimal("500")),
        event("p2", 3, "payment", usd=Decimal("550")),
        event("p3", 4, "payment", usd=Decimal("4000")),
    ]
    [line] = rate_period(document, table(*events), PERIOD)
    assert (line.quantity, line.exact_amount, line.amount) == (
        Decimal("5050"),
        Decimal("591"),
        Decimal("591.00"),
    )
    assert [(d.tier, d.rate, d.units, d.amount) for d in line.detail] == [
        (1, Decimal(1), Decimal(1000), Decimal(210)),
        (2, Decimal(2), Decimal(4050), Decimal(381)),
    ]
