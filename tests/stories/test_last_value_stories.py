"""A gateway reports now and then how many sensors it serves, and is billed every month on the
last count it reported: a recurring ``latest`` (a month without a report carries the last
count ever), with a report that arrives late."""

from __future__ import annotations

from decimal import Decimal

from tests.stories.test_subscription_stories import utc
from tests.stories.world import World, lines

PLAN = """
code: sensors
name: Sensors served
currency: EUR
interval: month
meters:
  - code: sensors
    event_type: gateway.status
    aggregation: latest
    property: sensors
    recurring: true
charges:
  - {code: sensors, meter: sensors, model: per_unit, unit_price: "1.50"}
"""


def gateway_world() -> World:
    world = World(utc(2026, 1, 1))
    world.plan(PLAN)
    world.customer("farm-co", "EUR", "UTC")
    world.device("gateway", "farm-co", utc(2026, 1, 1))
    world.subscribe("sub-1", "farm-co", "sensors", utc(2026, 1, 1))
    world.usage("gateway", utc(2026, 1, 10), "gateway.status", sensors=40)
    world.usage("gateway", utc(2026, 1, 20), "gateway.status", sensors=42)
    world.usage("gateway", utc(2026, 3, 5), "gateway.status", sensors=45)
    return world


def test_each_month_bills_the_last_count_ever_reported() -> None:
    """January's last report is 42 (63.00); February has none and carries the 42 (63.00,
    where a plain latest would bill 0); March's is 45 (67.50)."""
    world = gateway_world()
    world.bill(utc(2026, 4, 1))
    assert [lines(invoice) for invoice in world.invoices()] == [
        [("usage", "sensors", "63.00")],
        [("usage", "sensors", "63.00")],
        [("usage", "sensors", "67.50")],
    ]


def test_a_late_report_changes_the_months_it_was_the_last_of() -> None:
    """A count of 44 taken on 25 February reaches iotbill on 2 March, after February was
    invoiced on 42: February is 44 x 1.50 = 66.00, so March's close adds 3.00. January
    (its last report is older) and March (its own report of 45) are unchanged."""
    world = gateway_world()
    world.bill(utc(2026, 3, 1))
    world.clock.set(utc(2026, 3, 2))
    assert world.usage("gateway", utc(2026, 2, 25), "gateway.status", sensors=44).accepted == 1
    world.bill(utc(2026, 4, 1))
    january, february, march = world.invoices()
    assert lines(february) == [("usage", "sensors", "63.00")]
    assert lines(march) == [("usage", "sensors", "67.50"), ("adjustment", "sensors", "3.00")]
    assert january.total + february.total + march.total == Decimal("63.00") + Decimal(
        "66.00"
    ) + Decimal("67.50")
