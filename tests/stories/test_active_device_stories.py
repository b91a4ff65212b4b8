"""A connectivity provider bills each SIM active at a month's end: a recurring ``sum`` of
activations (``+1``) and deactivations (``-1``), carried from month to month, and an
activation that arrives late."""

from __future__ import annotations

from decimal import Decimal

from tests.stories.test_subscription_stories import utc
from tests.stories.world import World, lines

PLAN = """
code: sims
name: Active SIMs
currency: EUR
interval: month
meters:
  - code: active
    event_type: sim.activation
    aggregation: sum
    property: change
    allow_negative: true
    recurring: true
charges:
  - {code: active, meter: active, model: per_unit, unit_price: "2.00"}
"""


def sims_world() -> World:
    world = World(utc(2026, 1, 1))
    world.plan(PLAN)
    world.customer("fleet-co", "EUR", "UTC")
    world.device("gateway", "fleet-co", utc(2026, 1, 1))
    world.subscribe("sub-1", "fleet-co", "sims", utc(2026, 1, 1))
    for day in (5, 10, 20):
        world.usage("gateway", utc(2026, 1, day), "sim.activation", change=1)
    world.usage("gateway", utc(2026, 2, 14), "sim.activation", change=-1)
    return world


def test_each_month_bills_the_sims_active_at_its_end() -> None:
    """January ends with 3 SIMs (6.00), February with 2 (4.00), and March, without an event,
    carries the 2 (4.00)."""
    world = sims_world()
    world.bill(utc(2026, 4, 1))
    assert [lines(invoice) for invoice in world.invoices()] == [
        [("usage", "active", "6.00")],
        [("usage", "active", "4.00")],
        [("usage", "active", "4.00")],
    ]


def test_a_late_activation_counts_in_every_month_since() -> None:
    """A SIM activated on 25 January is reported on 2 March, after January and February
    were invoiced: each of them had one SIM more (2.00 each, adjusted on March's close),
    and March ends with 3 (6.00). In all 8.00 + 6.00 + 6.00 = 20.00."""
    world = sims_world()
    world.bill(utc(2026, 3, 1))
    world.clock.set(utc(2026, 3, 2))
    assert world.usage("gateway", utc(2026, 1, 25), "sim.activation", change=1).accepted == 1
    world.bill(utc(2026, 4, 1))
    world.bill(utc(2026, 4, 1))
    january, february, march = world.invoices()
    assert lines(march) == [
        ("usage", "active", "6.00"),
        ("adjustment", "active", "2.00"),
        ("adjustment", "active", "2.00"),
    ]
    assert january.total + february.total + march.total == Decimal("20.00")


def test_a_plan_change_inside_a_month_bills_each_part_the_sims_active_at_its_end() -> None:
    """Usage is rated per plan part (docs/billing.md): moving on 20 February to a plan at
    3.00 a SIM, February bills the 2 SIMs active at the change on the old plan (4.00) and
    the 2 active at the month's end on the new one (6.00), as a max or a latest would count
    in each part. March, whole on the new plan, bills 2 (6.00)."""
    world = sims_world()
    world.plan(PLAN.replace("code: sims\n", "code: sims-plus\n").replace('"2.00"', '"3.00"'))
    world.change("sub-1", "sims-plus", utc(2026, 2, 20), "immediate")
    world.bill(utc(2026, 4, 1))
    usage = [
        [line for line in lines(invoice) if line[0] == "usage"] for invoice in world.invoices()
    ]
    assert usage == [
        [("usage", "active", "6.00")],
        [("usage", "active", "4.00"), ("usage", "active", "6.00")],
        [("usage", "active", "6.00")],
    ]
