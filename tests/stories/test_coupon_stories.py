"""Coupons: a percentage or an amount off a subscription's lines, before tax, as lines of
their own, for the billing periods the lines cover."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from iotbill.domain.errors import Conflict, InvalidInput
from iotbill.services.balance import customer_balance, grant_credit
from iotbill.services.coupons import apply_coupon, create_coupon, list_coupons
from iotbill.services.one_off_charges import add_one_off_charge
from tests.stories.world import TENANT, World, lines

PUMP = """\
code: pump
name: Pump
currency: USD
interval: month
fixed_fees: [{code: base, amount: "31.00", timing: advance}]
meters: [{code: water, event_type: pump.flow, aggregation: sum, property: m3}]
charges:
  - {code: water, meter: water, model: per_unit, unit_price: "0.50"}
"""


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def pump_world(tax_rate: str = "0") -> World:
    world = World(utc(2026, 1, 1))
    world.plan(PUMP)
    world.customer("acme", "USD", "UTC", tax_rate=tax_rate)
    world.device("p1", "acme", utc(2026, 1, 1))
    world.subscribe("sub-1", "acme", "pump", utc(2026, 1, 1))
    return world


def coupon(world: World, code: str, **terms: Any) -> None:
    create_coupon(world.open(TENANT), code=code, at=world.clock.now(), **terms)


def redeem(world: World, code: str, at: datetime, subscription: str = "sub-1") -> None:
    apply_coupon(world.open(TENANT), code, subscription=subscription, at=at)


def test_a_20_percent_coupon_for_three_months_on_a_plan_with_usage() -> None:
    world = pump_world(tax_rate="10")
    coupon(world, "LAUNCH20", percent="20", periods=3)
    redeem(world, "LAUNCH20", utc(2026, 1, 1))
    for month, m3 in ((1, 20), (2, 40), (3, 30), (4, 10)):
        world.usage("p1", utc(2026, month, 10), m3=m3)
    for month in (2, 3, 4, 5):
        world.bill(utc(2026, month, 1))
    opening, january, february, march, april = world.invoices()
    # January's fee in advance, 20 % off: 31.00 - 6.20 = 24.80, tax 10 % on that: 2.48.
    assert lines(opening) == [("fixed_fee", "base", "31.00"), ("discount", "LAUNCH20", "-6.20")]
    assert (opening.subtotal, opening.tax, opening.total) == (
        Decimal("24.80"),
        Decimal("2.48"),
        Decimal("27.28"),
    )
    assert opening.lines[1].description == (
        "Coupon LAUNCH20 (20 % off every line, 2026-01-01 to 2026-02-01)"
    )
    # January's 20 m3 x 0.50 = 10.00 (-2.00) and February's fee (-6.20): a line per period.
    assert lines(january) == [
        ("usage", "water", "10.00"),
        ("fixed_fee", "base", "31.00"),
        ("discount", "LAUNCH20", "-2.00"),
        ("discount", "LAUNCH20", "-6.20"),
    ]
    assert [line.description for line in january.lines[2:]] == [
        "Coupon LAUNCH20 (20 % off every line, 2026-01-01 to 2026-02-01)",
        "Coupon LAUNCH20 (20 % off every line, 2026-02-01 to 2026-03-01)",
    ]
    assert (january.subtotal, january.tax, january.total) == (
        Decimal("32.80"),
        Decimal("3.28"),
        Decimal("36.08"),
    )
    # February's 40 m3 = 20.00 (-4.00), March's fee (-6.20).
    assert lines(february) == [
        ("usage", "water", "20.00"),
        ("fixed_fee", "base", "31.00"),
        ("discount", "LAUNCH20", "-4.00"),
        ("discount", "LAUNCH20", "-6.20"),
    ]
    assert february.total == Decimal("44.88")  # 40.80 + 4.08
    # March's 30 m3 = 15.00 (-3.00), the last period; April's fee is billed in full.
    assert lines(march) == [
        ("usage", "water", "15.00"),
        ("fixed_fee", "base", "31.00"),
        ("discount", "LAUNCH20", "-3.00"),
    ]
    assert march.total == Decimal("47.30")  # 43.00 + 4.30
    assert lines(april) == [("usage", "water", "5.00"), ("fixed_fee", "base", "31.00")]
    # Three periods of 20 %: (31.00 + 10.00 + 31.00 + 20.00 + 31.00 + 15.00) x 20 % = 27.60.
    discounts = [
        line.amount for i in world.invoices() for line in i.lines if line.kind == "discount"
    ]
    assert sum(discounts, Decimal(0)) == Decimal("-27.60")
    # Run again: nothing is issued twice, so each coupon period is taken once.
    assert world.bill(utc(2026, 5, 1)).issued == []
    (listed,) = list_coupons(world.open(TENANT))
    assert (listed[0].code, listed[1]) == ("LAUNCH20", 1)


def test_an_amount_off_a_plan_is_taken_once_a_period_on_the_invoice_that_closes_it() -> None:
    world = pump_world()
    coupon(world, "TEN", amount="10.00", currency="USD", plan="pump", periods=2)
    redeem(world, "TEN", utc(2026, 1, 1))
    world.usage("p1", utc(2026, 1, 10), m3=20)
    world.bill(utc(2026, 2, 1))
    world.bill(utc(2026, 3, 1))
    world.bill(utc(2026, 4, 1))
    opening, january, february, march = world.invoices()
    # The opening bills January's fee: the amount waits for the period's close.
    assert lines(opening) == [("fixed_fee", "base", "31.00")]
    # January billed 31.00 + 10.00 = 41.00 over its invoices: 10.00 off, once.
    assert lines(january) == [
        ("usage", "water", "10.00"),
        ("fixed_fee", "base", "31.00"),
        ("discount", "TEN", "-10.00"),
    ]
    assert january.lines[-1].detail[0].note == "10.00 of 41.00 billed for the period"
    assert lines(february) == [
        ("usage", "water", "0.00"),
        ("fixed_fee", "base", "31.00"),
        ("discount", "TEN", "-10.00"),
    ]
    assert lines(march) == [("usage", "water", "0.00"), ("fixed_fee", "base", "31.00")]


def test_an_amount_never_takes_its_charge_below_zero_and_spares_other_charges() -> None:
    world = pump_world()
    coupon(world, "WATER50", amount="50.00", currency="USD", charge="water")
    redeem(world, "WATER50", utc(2026, 1, 1))
    world.usage("p1", utc(2026, 1, 10), m3=24)
    world.bill(utc(2026, 2, 1))
    _opening, january = world.invoices()
    # Water billed 12.00 for January: 12.00 off, not 50.00; the fee is not discounted.
    assert lines(january) == [
        ("usage", "water", "12.00"),
        ("fixed_fee", "base", "31.00"),
        ("discount", "WATER50", "-12.00"),
    ]
    assert january.total == Decimal("31.00")


def test_a_cancellation_credits_a_discounted_fee_net_of_its_discount() -> None:
    world = pump_world()
    coupon(world, "HALF", percent="50", periods=1)
    redeem(world, "HALF", utc(2026, 1, 1))
    world.cancel("sub-1", utc(2026, 1, 21), "immediate")
    world.bill(utc(2026, 2, 1))
    opening, cancellation, january = world.invoices()
    assert lines(opening) == [("fixed_fee", "base", "31.00"), ("discount", "HALF", "-15.50")]
    # 11 of 31 days unused: -11.00 back, of which the customer paid half: +5.50.
    assert lines(cancellation) == [("credit", "base", "-11.00"), ("discount", "HALF", "5.50")]
    assert lines(january) == [
        ("usage", "water", "0.00"),
        ("adjustment", "carried_credit", "-5.50"),
    ]
    # The customer paid 15.50 for the service and got 5.50 back: 20 of 31 days at half.
    paid = sum((invoice.subtotal for invoice in (opening, january)), Decimal(0))
    assert paid == Decimal("10.00")


def test_a_percentage_discounts_interim_invoices_and_the_close_credits_them() -> None:
    world = World(utc(2026, 1, 1))
    world.plan(
        """\
code: meter
name: Meter
currency: USD
interval: month
fixed_fees: [{code: base, amount: "31.00", timing: arrears}]
meters: [{code: units, event_type: pump.flow, aggregation: sum, property: units}]
charges: [{code: units, meter: units, model: per_unit, unit_price: "0.0002"}]
thresholds: ["200.00"]
"""
    )
    world.customer("acme", "USD", "UTC")
    world.device("p1", "acme", utc(2026, 1, 1))
    world.subscribe("sub-1", "acme", "meter", utc(2026, 1, 1))
    coupon(world, "TENTH", percent="10")
    redeem(world, "TENTH", utc(2026, 1, 1))
    world.usage("p1", utc(2026, 1, 5), units=1_000_000)
    world.bill(utc(2026, 1, 6))
    world.usage("p1", utc(2026, 1, 15), units=1_000_000)
    world.bill(utc(2026, 2, 1))
    interim, close = world.invoices()
    assert lines(interim) == [("usage", "units", "200.00"), ("discount", "TENTH", "-20.00")]
    # 31.00 + 400.00 - 43.10 (10 %) - 180.00 billed: the customer pays 90 % of 431.00 = 387.90.
    assert lines(close) == [
        ("fixed_fee", "base", "31.00"),
        ("usage", "units", "400.00"),
        ("discount", "TENTH", "-43.10"),
        ("adjustment", "interim", "-180.00"),
    ]
    assert interim.total + close.total == Decimal("387.90")


def test_a_coupon_applies_from_the_first_period_not_yet_invoiced() -> None:
    world = pump_world()
    coupon(world, "LATE", percent="10", periods=1)
    world.bill(utc(2026, 1, 1))
    # Redeemed on 15 January: the window is February, whose fee the close of January bills.
    redeem(world, "LATE", utc(2026, 1, 15))
    world.usage("p1", utc(2026, 1, 20), m3=10)
    world.usage("p1", utc(2026, 2, 20), m3=10)
    world.bill(utc(2026, 2, 1))
    world.bill(utc(2026, 3, 1))
    _opening, january, february = world.invoices()
    assert lines(january) == [
        ("usage", "water", "5.00"),
        ("fixed_fee", "base", "31.00"),
        ("discount", "LATE", "-3.10"),
    ]
    assert lines(february) == [
        ("usage", "water", "5.00"),
        ("fixed_fee", "base", "31.00"),
        ("discount", "LATE", "-0.50"),
    ]


def test_bad_coupons_are_refused_with_every_field_and_nothing_is_stored() -> None:
    world = pump_world()
    with pytest.raises(InvalidInput) as raised:
        coupon(world, "BIG", percent="120", periods=0, max_redemptions=-1)
    assert [str(problem) for problem in raised.value.problems] == [
        "percent: must be more than 0 and at most 100, not 120",
        "periods: must be at least 1, not 0",
        "max_redemptions: must be at least 1, not -1",
    ]
    with pytest.raises(InvalidInput) as raised:
        coupon(world, " ", amount="5.001", plan="pump", charge="water")
    assert [str(problem) for problem in raised.value.problems] == [
        "code: must be a non-empty string",
        "currency: an amount needs its currency",
        "charge: a coupon targets one plan or one charge, not both",
    ]
    with pytest.raises(InvalidInput, match=r"amount: 5.001 has more decimals than USD allows"):
        coupon(world, "ODD", amount="5.001", currency="USD")
    with pytest.raises(InvalidInput, match=r"percent: give a percentage or an amount"):
        coupon(world, "NONE")
    assert list_coupons(world.open(TENANT)) == []


def test_redemptions_are_refused_past_the_limit_twice_over_a_period_or_once_invoiced() -> None:
    world = pump_world()
    world.subscribe("sub-2", "acme", "pump", utc(2026, 1, 1))
    coupon(world, "ONCE", percent="10", max_redemptions=1)
    coupon(world, "EURO", amount="5.00", currency="EUR")
    redeem(world, "ONCE", utc(2026, 1, 1))
    with pytest.raises(Conflict, match=r"coupon ONCE was redeemed 1 times, its limit"):
        redeem(world, "ONCE", utc(2026, 1, 1), subscription="sub-2")
    coupon(world, "MORE", percent="5", periods=2)
    with pytest.raises(Conflict, match=r"sub-1 has coupon ONCE"):
        redeem(world, "MORE", utc(2026, 3, 1))
    with pytest.raises(InvalidInput, match=r"coupon: EURO takes 5.00 EUR off, but sub-2"):
        redeem(world, "EURO", utc(2026, 1, 1), subscription="sub-2")
    world.bill(utc(2026, 2, 1))
    with pytest.raises(Conflict, match=r"has invoice sub-2/close/2026-01-01T00:00:00\+00:00"):
        redeem(world, "MORE", utc(2026, 1, 20), subscription="sub-2")
    with world.open(TENANT) as uow:
        assert [r.subscription_id for r in uow.coupons.redemptions()] == ["sub-1"]


def test_the_order_of_operations_coupons_then_tax_then_the_balance() -> None:
    world = pump_world(tax_rate="10")
    coupon(world, "LAUNCH20", percent="20", periods=3)
    redeem(world, "LAUNCH20", utc(2026, 1, 1))
    world.bill(utc(2026, 1, 1))
    grant_credit(world.open(TENANT), customer="acme", amount="50.00", at=utc(2026, 1, 15))
    world.usage("p1", utc(2026, 1, 20), m3=20)
    world.bill(utc(2026, 2, 1))
    _opening, january = world.invoices()
    # 10.00 + 31.00 - 2.00 - 6.20 = 32.80, tax 3.28, 36.08: paid by the credit.
    assert (january.subtotal, january.tax, january.total) == (
        Decimal("32.80"),
        Decimal("3.28"),
        Decimal("36.08"),
    )
    assert (january.balance_applied, january.amount_due, january.status) == (
        Decimal("36.08"),
        Decimal(0),
        "paid",
    )
    assert customer_balance(world.open(TENANT), "acme") == Decimal("13.92")


def test_a_coupon_never_discounts_a_one_off_charge() -> None:
    world = pump_world()
    coupon(world, "HALF", percent="50")
    redeem(world, "HALF", utc(2026, 1, 1))
    add_one_off_charge(
        world.open(TENANT),
        customer="acme",
        description="Installation",
        amount="120.00",
        at=utc(2026, 1, 1),
    )
    world.bill(utc(2026, 1, 1))
    (opening,) = world.invoices()
    # Half of the fee, none of the installation.
    assert lines(opening) == [
        ("fixed_fee", "base", "31.00"),
        ("discount", "HALF", "-15.50"),
        ("one_off", "acme/one-off/1", "120.00"),
    ]
