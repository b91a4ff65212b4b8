"""A battery operator bills the capacity its customers reserve, by the kWh-month: a
``weighted_sum`` meter of reservations and releases, the documented example billed over
two months, and a reservation that arrives late."""

from __future__ import annotations

from decimal import Decimal

from tests.stories.test_subscription_stories import utc
from tests.stories.world import World, lines

PLAN = """
code: reserve
name: Capacity reserved
currency: EUR
interval: month
meters:
  - code: reserved
    event_type: capacity.reserved
    aggregation: weighted_sum
    property: kwh
    allow_negative: true
charges:
  - {code: reserved, meter: reserved, model: per_unit, unit_price: "0.10"}
"""


def reserving(plan: str, month: int) -> World:
    """grid-co subscribed from the 1st of ``month``: 20 kWh reserved on the 16th, 10 more on
    the 17th, 5 released on the 11th of the next month."""
    world = World(utc(2026, month, 1))
    world.plan(plan)
    world.customer("grid-co", "EUR", "UTC")
    world.device("battery-1", "grid-co", utc(2026, month, 1))
    world.subscribe("sub-1", "grid-co", "reserve", utc(2026, month, 1))
    world.usage("battery-1", utc(2026, month, 16), "capacity.reserved", kwh=20)
    world.usage("battery-1", utc(2026, month, 17), "capacity.reserved", kwh=10)
    world.usage("battery-1", utc(2026, month + 1, 11), "capacity.reserved", kwh=-5)
    return world


def reserve_world() -> World:
    return reserving(PLAN, 3)


def test_each_month_weighs_its_own_changes_by_the_time_they_held() -> None:
    """March: 20 kWh for 1 day and 30 for 15, of 31 days: 470 / 31 = 15.161290323 kWh,
    1.52 EUR. April: -5 for 20 of 30 days, -3.333333333 kWh, -0.33 EUR: March's 30 kWh
    are not carried into April."""
    world = reserve_world()
    world.bill(utc(2026, 5, 1))
    march, april = world.invoices()
    assert lines(march) == [("usage", "reserved", "1.52")]
    assert str(march.lines[0].quantity) == "15.161290323"
    assert lines(april) == [("usage", "reserved", "-0.33")]
    assert str(april.lines[0].quantity) == "-3.333333333"


def test_a_late_reservation_is_weighted_from_its_own_timestamp() -> None:
    """12 kWh reserved on 1 March at 00:00 arrives on 2 April, after March's invoice: held
    the whole of March, it adds 12 kWh (1.20 EUR) to March's 15.161290323, which April's
    close carries as an adjustment. A bill run repeated adds nothing."""
    world = reserve_world()
    world.bill(utc(2026, 4, 1))
    world.clock.set(utc(2026, 4, 2))
    assert world.usage("battery-1", utc(2026, 3, 1), "capacity.reserved", kwh=12).accepted == 1
    world.bill(utc(2026, 5, 1))
    world.bill(utc(2026, 5, 1))
    march, april = world.invoices()
    assert lines(march) == [("usage", "reserved", "1.52")]  # finalized before the late one
    assert lines(april) == [("usage", "reserved", "-0.33"), ("adjustment", "reserved", "1.20")]
    assert [(d.kind, str(d.amount)) for d in april.lines[1].detail] == [
        ("repriced", "2.72"),
        ("billed", "-1.52"),
    ]


RECURRING = PLAN.replace(
    "    allow_negative: true\n", "    allow_negative: true\n    recurring: true\n"
)


def recurring_world() -> World:
    return reserving(RECURRING, 1)


def test_a_recurring_total_carries_from_month_to_month() -> None:
    """January: 470 / 31 = 15.161290323 kWh, 1.52 EUR. February (28 days) starts at 30;
    -5 for its last 18 days: 30 - 5 x 18 / 28 = 26.785714286 kWh, 2.68 EUR. March holds
    25 throughout: 2.50 EUR."""
    world = recurring_world()
    world.bill(utc(2026, 4, 1))
    january, february, march = world.invoices()
    assert [str(invoice.lines[0].quantity) for invoice in (january, february, march)] == [
        "15.161290323",
        "26.785714286",
        "25",
    ]
    assert [lines(invoice) for invoice in (january, february, march)] == [
        [("usage", "reserved", "1.52")],
        [("usage", "reserved", "2.68")],
        [("usage", "reserved", "2.50")],
    ]


def test_a_late_change_reprices_every_month_it_carried_into() -> None:
    """12 kWh reserved on 1 January at 00:00 arrives on 2 March, after January and February
    were finalized: it adds 12 kWh to each (1.20 EUR each, as adjustments on March's close),
    and March starts at 37: 3.70 EUR. In all 2.72 + 3.88 + 3.70 = 10.30, what the three
    months cost with every change."""
    world = recurring_world()
    world.bill(utc(2026, 3, 1))
    world.clock.set(utc(2026, 3, 2))
    assert world.usage("battery-1", utc(2026, 1, 1), "capacity.reserved", kwh=12).accepted == 1
    world.bill(utc(2026, 4, 1))
    world.bill(utc(2026, 4, 1))
    january, february, march = world.invoices()
    assert lines(january) == [("usage", "reserved", "1.52")]
    assert lines(february) == [("usage", "reserved", "2.68")]
    assert lines(march) == [
        ("usage", "reserved", "3.70"),
        ("adjustment", "reserved", "1.20"),
        ("adjustment", "reserved", "1.20"),
    ]
    assert january.total + february.total + march.total == Decimal("10.30")


def test_each_part_of_a_month_that_a_plan_change_splits_weighs_its_own_days() -> None:
    """Moving on 20 January to a plan at 0.20 a kWh: the old plan's part (19 days) holds 20
    kWh for 4 days and 30 for 3, (20 x 4 + 10 x 3) / 19 = 5.789473684 kWh (0.58); the new
    plan's part (12 days) starts from the 30 carried in, 30 kWh (6.00). Not recurring, the
    new part would start from 0, with no change of its own: 0."""
    world = recurring_world()
    world.plan(RECURRING.replace("code: reserve\n", "code: reserve-plus\n").replace("0.10", "0.20"))
    world.change("sub-1", "reserve-plus", utc(2026, 1, 20), "immediate")
    world.bill(utc(2026, 2, 1))
    [january] = world.invoices()
    usage = [line for line in january.lines if line.kind == "usage"]
    assert [(str(line.quantity), str(line.amount)) for line in usage] == [
        ("5.789473684", "0.58"),
        ("30", "6.00"),
    ]
