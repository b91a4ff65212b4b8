"""A connected till billed per payment: a percentage with a free allowance and limits per
payment, a month closed, then a payment that arrives late and moves the allowance."""

from __future__ import annotations

from tests.stories.test_subscription_stories import utc
from tests.stories.world import World, lines

PLAN = """
code: till-fees
name: Till fees
currency: USD
interval: month
meters:
  - {code: volume, event_type: payment, aggregation: sum, property: usd}
charges:
  - code: fees
    meter: volume
    model: percentage
    rate: "1.2"
    fixed_fee: "0.10"
    free_events: 3
    free_amount: "500"
    min_per_event: "0.25"
    max_per_event: "5"
"""


def till_world() -> World:
    world = World(utc(2026, 4, 1))
    world.plan(PLAN)
    world.customer("cafe", "USD", "UTC")
    world.device("till-1", "cafe", utc(2026, 4, 1))
    world.subscribe("sub-1", "cafe", "till-fees", utc(2026, 4, 1))
    for day, usd in [(2, 200), (3, 100), (4, 100), (5, 50), (6, 1000), (7, 10)]:
        world.usage("till-1", utc(2026, 4, day), "payment", usd=usd)
    return world


def test_the_first_payments_are_free_and_each_paid_one_is_kept_within_its_limits() -> None:
    """200, 100 and 100 are free (3 payments, 400 of the 500); 50 pays 0.60 + 0.10; 1,000
    would pay 12.10, cut to 5; 10 would pay 0.22, raised to 0.25: 5.95 in all."""
    world = till_world()
    world.bill(utc(2026, 5, 1))
    [april] = world.invoices()
    assert lines(april) == [("usage", "fees", "5.95")]
    assert [(d.kind, str(d.units), str(d.amount)) for d in april.lines[0].detail] == [
        ("free_events", "3", "0"),
        ("free_amount", "400", "0"),
        ("percentage", "1060", "12.72"),  # 1.2 % of 50 + 1,000 + 10
        ("event_fees", "3", "0.30"),
        ("per_event_minimum", "1", "0.03"),  # 0.25 - 0.22
        ("per_event_maximum", "1", "-7.10"),  # 5 - 12.10
    ]


def test_a_late_payment_earlier_than_the_others_moves_the_allowance_and_is_billed_once() -> None:
    """A payment of 30 on 1 April arrives on 2 May, after April's invoice was finalized.
    Now 30, 200 and 100 are free; the second 100 pays 1.20 + 0.10; the rest as before:
    7.25 for April, so May's close carries 1.30 more. A bill run repeated adds nothing."""
    world = till_world()
    world.bill(utc(2026, 5, 1))
    world.clock.set(utc(2026, 5, 2))
    assert world.usage("till-1", utc(2026, 4, 1, 12), "payment", usd=30).accepted == 1
    world.bill(utc(2026, 6, 1))
    world.bill(utc(2026, 6, 1))
    april, may = world.invoices()
    assert lines(may) == [("usage", "fees", "0.00"), ("adjustment", "fees", "1.30")]
    assert [(d.kind, str(d.amount)) for d in may.lines[1].detail] == [
        ("repriced", "7.25"),
        ("billed", "-5.95"),
    ]
    assert april.total + may.total == 7.25  # what April costs with every payment
