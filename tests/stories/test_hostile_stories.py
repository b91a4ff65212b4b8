"""Stories of hostile input: one bad subscription never stops the others, a device clock
gone wrong never bills the future."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from iotbill.adapters.plan_files import parse_plan_text
from iotbill.domain.pricing import PerUnit
from tests.stories.test_subscription_stories import BASIC, two_customers, utc
from tests.stories.world import TENANT, World, lines


def absurd_plan(world: World, unit_price: str) -> None:
    """Plan 'absurd': BASIC with a unit price the plan loader now refuses, stored as an
    earlier release stored it (the plan object as it was read then)."""
    basic = parse_plan_text(BASIC, "plan.yaml")
    charge = basic.charges[0]
    plan = replace(
        basic,
        code="absurd",
        charges=(replace(charge, model=PerUnit(Decimal(unit_price))),),
    )
    with world.open(TENANT) as uow:
        uow.plans.add_version(plan, BASIC.replace("basic", "absurd"), world.clock.now())
        uow.commit()


def test_a_plan_that_cannot_be_priced_holds_its_subscription_only() -> None:
    # Issue item 1 and 12: a unit price of 1E+999999 overflows Decimal (x 40 m3);
    # 1E+30 gives an amount no invoice line may carry. Either subscription is held, by
    # id, and every other subscription is billed.
    world = two_customers()
    absurd_plan(world, "1E+999999")
    world.customer("cora", "USD", "UTC")
    world.device("p3", "cora", utc(2026, 3, 1))
    world.subscribe("sub-c", "cora", "absurd", utc(2026, 3, 1))
    world.usage("p1", utc(2026, 3, 10), m3=4)
    world.usage("p3", utc(2026, 3, 10), m3=40)
    report = world.bill(utc(2026, 4, 1))
    assert [(held.subscription, held.reason) for held in report.held] == [
        ("sub-c", "could not be priced (Overflow: [<class 'decimal.Overflow'>])")
    ]
    billed = {invoice.customer_id for invoice in world.invoices()}
    assert billed == {"acme", "bolt"}  # and nothing of cora's: no invoice, no number
    acme_march = next(i for i in world.invoices("acme") if "close" in i.id)
    assert lines(acme_march) == [("usage", "water", "4.00"), ("fixed_fee", "base", "10.00")]
    assert sorted(i.number or "" for i in world.invoices()) == [
        f"INV-2026-00000{n}" for n in range(1, 5)
    ]


def test_an_amount_beyond_a_line_holds_its_subscription_with_the_reason() -> None:
    world = two_customers()
    absurd_plan(world, "1E+30")
    world.device("p3", "bolt", utc(2026, 3, 1))
    world.subscribe("sub-c", "bolt", "absurd", utc(2026, 3, 1), device_id="p3")
    world.usage("p3", utc(2026, 3, 10), m3=4)
    report = world.bill(utc(2026, 4, 1))
    assert [(held.subscription, held.reason) for held in report.held] == [
        (
            "sub-c",
            "water: the amount 4E+30 is not below 10000000000000, the most one invoice line"
            " may carry",
        )
    ]
    assert sorted(i.subscription_id or "" for i in world.invoices()) == [
        "sub-a",
        "sub-a",
        "sub-b",
        "sub-b",
    ]


def test_a_device_clock_gone_wrong_does_not_bill_the_future() -> None:
    # Issue item 8: an event stamped more than a day after it was received is rejected;
    # one within the day's skew is taken.
    world = two_customers()
    world.clock_skew = timedelta(days=1)  # the default
    world.clock.set(utc(2026, 3, 10))
    ahead = world.usage("p1", utc(2026, 3, 11, 0, 0, 1), m3=7)
    assert [r.reason for r in ahead.rejected] == [
        "timestamp: is 1 day, 0:00:01 after it was received (2026-03-10T00:00:00+00:00);"
        " at most 1 day, 0:00:00 is allowed for clock skew"
    ]
    within = world.usage("p1", utc(2026, 3, 10) + timedelta(hours=23), m3=2)
    assert (within.accepted, within.rejected) == (1, ())
