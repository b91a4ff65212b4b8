"""Billing stories: a clock moved through months, every invoice line checked exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from iotbill.domain.errors import InvalidInput
from tests.stories.world import World, lines

PUMP = """\
code: pump
name: Pump
currency: USD
interval: month
fixed_fees: [{code: base, amount: "31.00", timing: advance}]
meters: [{code: water, event_type: pump.flow, aggregation: sum, property: m3}]
charges:
  - code: water
    meter: water
    model: graduated
    tiers: [{up_to: 100, unit_price: "0.50"}, {up_to: null, unit_price: "0.30"}]
"""


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def pump_world() -> World:
    world = World(utc(2026, 1, 1))
    world.plan(PUMP)
    world.customer("acme", "USD", "UTC")
    world.device("p1", "acme", utc(2026, 1, 1))
    return world


def test_subscribe_mid_month() -> None:
    world = pump_world()
    world.subscribe("sub-1", "acme", "pump", utc(2026, 1, 16))
    world.usage("p1", utc(2026, 1, 20), m3=50)
    world.usage("p1", utc(2026, 2, 10), m3=120)
    world.bill(utc(2026, 2, 1))
    world.bill(utc(2026, 3, 1))
    opening, january, february = world.invoices()
    # 16 of January's 31 days, by the second: 31.00 x 16/31 = 16.00.
    assert lines(opening) == [("fixed_fee", "base", "16.00")]
    assert lines(january) == [("usage", "water", "25.00"), ("fixed_fee", "base", "31.00")]
    # 120 m3: 100 x 0.50 + 20 x 0.30 = 56.00; March in advance.
    assert lines(february) == [("usage", "water", "56.00"), ("fixed_fee", "base", "31.00")]
    assert [invoice.number for invoice in (opening, january, february)] == [
        "INV-2026-000001",
        "INV-2026-000002",
        "INV-2026-000003",
    ]
    assert [str(invoice.total) for invoice in (opening, january, february)] == [
        "16.00",
        "56.00",
        "87.00",
    ]


def test_bill_run_twice_issues_nothing_twice() -> None:
    world = pump_world()
    world.subscribe("sub-1", "acme", "pump", utc(2026, 1, 1))
    world.usage("p1", utc(2026, 1, 20), m3=50)
    first = world.bill(utc(2026, 2, 1))
    again = world.bill(utc(2026, 2, 1))
    assert len(first.issued) == 2 and len(first.finalized) == 2
    assert again.issued == [] and again.finalized == [] and again.revised == []
    assert len(world.invoices()) == 2


def test_trial_end_mid_period() -> None:
    world = pump_world()
    world.subscribe("sub-1", "acme", "pump", utc(2026, 1, 1), trial_end=utc(2026, 1, 11))
    world.usage("p1", utc(2026, 1, 5), m3=100)  # inside the trial: never billed
    world.usage("p1", utc(2026, 1, 15), m3=10)
    world.bill(utc(2026, 2, 1))
    opening, january = world.invoices()
    # Advance fee for the 21 days after the trial: 31.00 x 21/31 = 21.00.
    assert lines(opening) == [("fixed_fee", "base", "21.00")]
    assert lines(january) == [("usage", "water", "5.00"), ("fixed_fee", "base", "31.00")]


BASIC = """\
code: basic
name: Basic
currency: USD
interval: month
fixed_fees: [{code: base, amount: "10.00"}]
meters: [{code: water, event_type: pump.flow, aggregation: sum, property: m3}]
charges: [{code: water, meter: water, model: per_unit, unit_price: "1.00"}]
"""
PRO = """\
code: pro
name: Pro
currency: USD
interval: month
fixed_fees: [{code: base, amount: "40.00"}]
meters: [{code: water, event_type: pump.flow, aggregation: sum, property: m3}]
charges:
  - code: water
    meter: water
    model: graduated
    tiers: [{up_to: 20, unit_price: "0.50"}, {up_to: null, unit_price: "0.25"}]
"""


def two_plan_world() -> World:
    world = World(utc(2026, 4, 1))
    world.plan(BASIC)
    world.plan(PRO)
    world.customer("acme", "USD", "UTC")
    world.device("p1", "acme", utc(2026, 4, 1))
    world.subscribe("sub-1", "acme", "basic", utc(2026, 4, 1))
    return world


def test_upgrade_mid_period() -> None:
    world = two_plan_world()
    world.usage("p1", utc(2026, 4, 10), m3=30)
    world.change("sub-1", "pro", utc(2026, 4, 16), "immediate")
    world.usage("p1", utc(2026, 4, 20), m3=30)
    world.bill(utc(2026, 5, 1))
    opening, change, april = world.invoices()
    assert lines(opening) == [("fixed_fee", "base", "10.00")]
    # The unused half of April: basic's fee credited (-5.00), pro's charged (20.00).
    assert lines(change) == [("credit", "base", "-5.00"), ("fixed_fee", "base", "20.00")]
    # Usage split at the change, each side on its own plan's full tiers:
    # basic 30 x 1.00 = 30.00; pro 20 x 0.50 + 10 x 0.25 = 12.50 (not prorated tiers).
    assert lines(april) == [
        ("usage", "water", "30.00"),
        ("usage", "water", "12.50"),
        ("fixed_fee", "base", "40.00"),
    ]
    assert str(change.total) == "15.00"


def test_downgrade_at_period_end() -> None:
    world = World(utc(2026, 4, 1))
    world.plan(BASIC)
    world.plan(PRO)
    world.customer("acme", "USD", "UTC")
    world.device("p1", "acme", utc(2026, 4, 1))
    world.subscribe("sub-1", "acme", "pro", utc(2026, 4, 1))
    world.change("sub-1", "basic", utc(2026, 4, 20), "period_end")
    world.usage("p1", utc(2026, 4, 25), m3=30)
    world.usage("p1", utc(2026, 5, 3), m3=4)
    world.bill(utc(2026, 6, 1))
    opening, april, may = world.invoices()
    assert lines(opening) == [("fixed_fee", "base", "40.00")]
    # April stays on pro to its end; May is billed in advance on basic.
    assert lines(april) == [("usage", "water", "12.50"), ("fixed_fee", "base", "10.00")]
    assert lines(may) == [("usage", "water", "4.00"), ("fixed_fee", "base", "10.00")]


def test_cancellation_at_period_end() -> None:
    world = two_plan_world()
    world.cancel("sub-1", utc(2026, 4, 10), "period_end")
    world.usage("p1", utc(2026, 4, 12), m3=3)
    world.usage("p1", utc(2026, 5, 12), m3=7)  # after service ended: never billed
    world.bill(utc(2026, 7, 1))
    _opening, april = world.invoices()
    assert lines(april) == [("usage", "water", "3.00")]  # no May fee in advance


def test_immediate_cancellation() -> None:
    world = two_plan_world()
    world.usage("p1", utc(2026, 4, 5), m3=3)
    world.cancel("sub-1", utc(2026, 4, 7), "immediate")
    world.usage("p1", utc(2026, 4, 12), m3=7)  # after service ended: never billed
    world.bill(utc(2026, 5, 1))
    _opening, cancellation, april = world.invoices()
    # 24 unused days of 30: 10.00 x 24/30 = 8.00 back, carried to April's close.
    assert lines(cancellation) == [("credit", "base", "-8.00")]
    assert lines(april) == [("usage", "water", "3.00"), ("adjustment", "carried_credit", "-8.00")]


def two_customers(grace: timedelta = timedelta(0)) -> World:
    """Acme and Bolt on the basic plan from March 1; acme owns the pump p1."""
    world = World(utc(2026, 3, 1), grace)
    world.plan(BASIC)
    world.customer("acme", "USD", "UTC")
    world.customer("bolt", "USD", "UTC")
    world.device("p1", "acme", utc(2026, 3, 1))
    world.subscribe("sub-a", "acme", "basic", utc(2026, 3, 1))
    world.subscribe("sub-b", "bolt", "basic", utc(2026, 3, 1))
    return world


def test_device_moving_between_customers() -> None:
    world = two_customers()
    world.move_device("p1", "bolt", utc(2026, 3, 15))
    world.usage("p1", utc(2026, 3, 10), m3=2)  # acme's device then
    world.usage("p1", utc(2026, 3, 20), m3=5)  # bolt's
    world.bill(utc(2026, 4, 1))
    (_, acme_march) = world.invoices("acme")
    (_, bolt_march) = world.invoices("bolt")
    assert lines(acme_march) == [("usage", "water", "2.00"), ("fixed_fee", "base", "10.00")]
    assert lines(bolt_march) == [("usage", "water", "5.00"), ("fixed_fee", "base", "10.00")]


def moving_world(grace: timedelta = timedelta(0)) -> World:
    world = two_customers(grace)
    world.usage("p1", utc(2026, 3, 10), m3=2)
    world.usage("p1", utc(2026, 3, 20), m3=5)  # in truth bolt's: the move is recorded late
    return world


def test_a_move_recorded_late_gives_the_stored_events_to_the_new_owner() -> None:
    world = moving_world(grace=timedelta(days=3))
    world.bill(utc(2026, 4, 1))  # March's invoices are drafts until April 4
    assert world.move_device("p1", "bolt", utc(2026, 3, 15)) == 1
    world.bill(utc(2026, 4, 4))
    (_, acme_march) = world.invoices("acme")
    (_, bolt_march) = world.invoices("bolt")
    assert (acme_march.status, bolt_march.status) == ("finalized", "finalized")
    assert lines(acme_march) == [("usage", "water", "2.00"), ("fixed_fee", "base", "10.00")]
    assert lines(bolt_march) == [("usage", "water", "5.00"), ("fixed_fee", "base", "10.00")]


def test_a_move_into_a_finalized_period_is_refused() -> None:
    world = moving_world()
    world.usage("p1", utc(2026, 4, 5), m3=1)
    world.bill(utc(2026, 4, 1))  # March's invoices are final at once
    with pytest.raises(InvalidInput, match=r"move it from 2026-04-01T00:00:00\+00:00 or later"):
        world.move_device("p1", "bolt", utc(2026, 3, 15))
    assert world.move_device("p1", "bolt", utc(2026, 4, 2)) == 1
    world.bill(utc(2026, 5, 1))
    (_, acme_march, acme_april) = world.invoices("acme")
    (_, _, bolt_april) = world.invoices("bolt")
    assert lines(acme_march) == [("usage", "water", "7.00"), ("fixed_fee", "base", "10.00")]
    assert lines(acme_april) == [("usage", "water", "0.00"), ("fixed_fee", "base", "10.00")]
    assert lines(bolt_april) == [("usage", "water", "1.00"), ("fixed_fee", "base", "10.00")]
