"""Pausing and resuming: fixed fees prorated around the pause, usage during it not billed,
and nothing extended."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from iotbill.domain.errors import Conflict, InvalidInput
from iotbill.services.balance import customer_balance
from iotbill.services.subscriptions import pause_subscription, resume_subscription
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


def pump_world(plan: str = PUMP) -> World:
    world = World(utc(2026, 1, 1))
    world.plan(plan)
    world.customer("acme", "USD", "UTC")
    world.device("p1", "acme", utc(2026, 1, 1))
    world.subscribe("sub-1", "acme", plan.split()[1], utc(2026, 1, 1))
    return world


def test_a_pause_credits_the_advance_fee_and_the_resumption_bills_the_rest() -> None:
    world = pump_world()
    world.usage("p1", utc(2026, 1, 5), m3=20)
    world.usage("p1", utc(2026, 1, 20), m3=30)  # paused: not billed
    world.usage("p1", utc(2026, 2, 10), m3=10)  # paused: not billed
    world.usage("p1", utc(2026, 2, 20), m3=8)
    pause_subscription(world.open(TENANT), "sub-1", at=utc(2026, 1, 11))
    world.bill(utc(2026, 2, 1))
    resume_subscription(world.open(TENANT), "sub-1", at=utc(2026, 2, 15))
    world.bill(utc(2026, 3, 1))
    opening, paused, january, resumed, february = world.invoices()
    assert [i.kind.value for i in (paused, resumed)] == ["pause", "resume"]
    assert lines(opening) == [("fixed_fee", "base", "31.00")]
    # 21 of January's 31 days paused: 31.00 x 21/31 = 21.00 back.
    assert lines(paused) == [("credit", "base", "-21.00")]
    assert paused.lines[0].description == (
        "Credit: base (pump v1, 2026-01-11 to 2026-02-01, paused, billed in advance)"
    )
    # January's usage before the pause, 20 m3 x 0.50; February starts paused: no fee. The
    # pause's credit is carried: -11.00, carried on.
    assert lines(january) == [
        ("usage", "water", "10.00"),
        ("adjustment", "carried_credit", "-21.00"),
    ]
    assert january.lines[0].description == "water (pump v1, 2026-01-01 to 2026-01-11)"
    # Resumed on 15 February: 14 of its 28 days, 31.00 x 14/28 = 15.50, less 11.00 carried.
    assert lines(resumed) == [
        ("fixed_fee", "base", "15.50"),
        ("adjustment", "carried_credit", "-11.00"),
    ]
    # February's usage after the resumption, 8 m3 = 4.00; March in advance, in full.
    assert lines(february) == [("usage", "water", "4.00"), ("fixed_fee", "base", "31.00")]
    # Ten days of January and 14 of February, with their usage: nothing paused is billed.
    asked = [i.amount_due for i in world.invoices()]
    assert asked == [Decimal("31.00"), 0, 0, Decimal("4.50"), Decimal("35.00")]
    assert sum(asked, Decimal(0)) == Decimal("70.50")  # 10.00 + 10.00 + 15.50 + 4.00 + 31.00
    assert world.bill(utc(2026, 3, 1)).issued == []


def test_arrears_fees_are_prorated_around_a_pause_inside_the_period() -> None:
    world = pump_world(
        PUMP.replace("pump", "meter", 2)
        .replace("timing: advance", "timing: arrears")
        .replace('"31.00"', '"30.00"')
    )
    pause_subscription(world.open(TENANT), "sub-1", at=utc(2026, 4, 11))
    resume_subscription(world.open(TENANT), "sub-1", at=utc(2026, 4, 21))
    world.usage("p1", utc(2026, 4, 15), m3=40)  # paused: not billed
    world.bill(utc(2026, 5, 1))
    *_, april = world.invoices()
    # 30.00 x 10/30 for 1-11 April and for 21 April-1 May: 10.00 each; no usage.
    assert lines(april) == [
        ("fixed_fee", "base", "10.00"),
        ("usage", "water", "0.00"),
        ("fixed_fee", "base", "10.00"),
        ("usage", "water", "0.00"),
    ]


def test_a_cancellation_while_paused_credits_nothing_more_and_ends_when_asked() -> None:
    world = pump_world()
    pause_subscription(world.open(TENANT), "sub-1", at=utc(2026, 1, 11))
    world.cancel("sub-1", utc(2026, 1, 21), "immediate")
    world.bill(utc(2026, 2, 1))
    opening, paused, january = world.invoices()
    assert (lines(opening), lines(paused)) == (
        [("fixed_fee", "base", "31.00")],
        [("credit", "base", "-21.00")],
    )
    # No cancellation credit on top of the pause's: the 21.00 is carried, and, service
    # having ended, goes to the customer's balance.
    assert lines(january) == [
        ("usage", "water", "0.00"),
        ("adjustment", "carried_credit", "-21.00"),
    ]
    assert customer_balance(world.open(TENANT), "acme") == Decimal("21.00")
    with world.open(TENANT) as uow:
        assert uow.subscriptions.get("sub-1").end == utc(2026, 1, 21)  # not extended


def test_a_pause_never_moves_the_billing_periods() -> None:
    world = pump_world()
    pause_subscription(world.open(TENANT), "sub-1", at=utc(2026, 2, 1))
    resume_subscription(world.open(TENANT), "sub-1", at=utc(2026, 3, 1))
    world.bill(utc(2026, 4, 1))
    # February is paused whole: billed on January's close, credited by the pause; March is
    # billed on the resumption from its first day; April on March's close, as ever.
    assert [(i.kind.value, i.period.start.month, lines(i)) for i in world.invoices()] == [
        ("opening", 1, [("fixed_fee", "base", "31.00")]),
        ("close", 1, [("usage", "water", "0.00"), ("fixed_fee", "base", "31.00")]),
        ("pause", 2, [("credit", "base", "-31.00")]),
        ("resume", 3, [("fixed_fee", "base", "31.00"), ("adjustment", "carried_credit", "-31.00")]),
        ("close", 3, [("usage", "water", "0.00"), ("fixed_fee", "base", "31.00")]),
    ]


def test_bad_pauses_and_resumptions_are_refused_and_nothing_is_stored() -> None:
    world = pump_world()
    with pytest.raises(InvalidInput, match=r"subscription: sub-1 is not paused"):
        resume_subscription(world.open(TENANT), "sub-1", at=utc(2026, 1, 5))
    pause_subscription(world.open(TENANT), "sub-1", at=utc(2026, 1, 11))
    with pytest.raises(Conflict, match=r"is paused already"):
        pause_subscription(world.open(TENANT), "sub-1", at=utc(2026, 1, 12))
    with pytest.raises(InvalidInput, match=r"at: must be after the pause's start"):
        resume_subscription(world.open(TENANT), "sub-1", at=utc(2026, 1, 10))
    with pytest.raises(Conflict, match=r"is paused at 2026-01-15"):
        world.change("sub-1", "pump", utc(2026, 1, 15), "immediate")
    world.bill(utc(2026, 2, 1))
    with pytest.raises(Conflict, match=r"issued after 2026-01-20"):
        resume_subscription(world.open(TENANT), "sub-1", at=utc(2026, 1, 20))
    with world.open(TENANT) as uow:
        assert [(p.start, p.end) for p in uow.subscriptions.get("sub-1").pauses] == [
            (utc(2026, 1, 11), None)
        ]


def test_a_pause_does_not_extend_a_lease_term() -> None:
    world = World(utc(2026, 1, 1))
    world.plan(
        """\
code: lease
name: Lease
currency: USD
interval: month
fixed_fees: [{code: lease, amount: "120.00", timing: advance}]
term: 3
at_term_end: cancel
"""
    )
    world.customer("acme", "USD", "UTC")
    world.subscribe("sub-1", "acme", "lease", utc(2026, 1, 1))
    pause_subscription(world.open(TENANT), "sub-1", at=utc(2026, 2, 1))
    resume_subscription(world.open(TENANT), "sub-1", at=utc(2026, 3, 1))
    world.bill(utc(2026, 5, 1))
    with world.open(TENANT) as uow:
        assert uow.subscriptions.get("sub-1").end == utc(2026, 4, 1)  # the term's end, still
    # January and March are billed, February is credited; nothing after the term.
    assert [(i.kind.value, i.period.start.month, lines(i)) for i in world.invoices()] == [
        ("opening", 1, [("fixed_fee", "lease", "120.00")]),
        ("close", 1, [("fixed_fee", "lease", "120.00")]),
        ("pause", 2, [("credit", "lease", "-120.00")]),
        (
            "resume",
            3,
            [("fixed_fee", "lease", "120.00"), ("adjustment", "carried_credit", "-120.00")],
        ),
    ]
