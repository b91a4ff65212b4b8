"""A water utility bills whole cubic metres: a meter that rounds the month's quantity down
before the tiers price it, and a reading that arrives late."""

from __future__ import annotations

from decimal import Decimal

from tests.stories.test_subscription_stories import utc
from tests.stories.world import World, lines

PLAN = """
code: water
name: Water, whole cubic metres
currency: EUR
interval: month
meters:
  - {code: water, event_type: water.flow, aggregation: sum, property: m3,
     rounding: {function: floor}}
charges:
  - code: water
    meter: water
    model: graduated
    tiers: [{up_to: 10, unit_price: "1.00"}, {up_to: null, unit_price: "1.50"}]
"""


def water_world() -> World:
    world = World(utc(2026, 1, 1))
    world.plan(PLAN)
    world.customer("household", "EUR", "UTC")
    world.device("meter-7", "household", utc(2026, 1, 1))
    world.subscribe("sub-1", "household", "water", utc(2026, 1, 1))
    world.usage("meter-7", utc(2026, 1, 9), "water.flow", m3="6.4")
    world.usage("meter-7", utc(2026, 1, 23), "water.flow", m3="4.3")
    world.usage("meter-7", utc(2026, 2, 14), "water.flow", m3="12.9")
    return world


def test_each_month_bills_its_whole_cubic_metres() -> None:
    """January's 10.7 m3 bill 10 (10.00; unrounded, the 0.7 would enter the second tier);
    February's 12.9 bill 12: 10 x 1.00 + 2 x 1.50 = 13.00."""
    world = water_world()
    world.bill(utc(2026, 3, 1))
    january, february = world.invoices()
    assert lines(january) == [("usage", "water", "10.00")]
    assert lines(february) == [("usage", "water", "13.00")]
    assert [detail.note for detail in january.lines[0].detail if detail.kind == "rounding"] == [
        "10.7 rounded down to 0 decimals: 10"
    ]


def test_a_late_reading_rounds_with_the_whole_month() -> None:
    """0.5 m3 from 30 January arrives on 2 February, after January was invoiced: January is
    11.2 m3, 11 whole, 11.50, so February's close adds 1.50. The month is rounded whole,
    never the late part alone (0.5 rounded down would add nothing)."""
    world = water_world()
    world.bill(utc(2026, 2, 1))
    world.clock.set(utc(2026, 2, 2))
    assert world.usage("meter-7", utc(2026, 1, 30), "water.flow", m3="0.5").accepted == 1
    world.bill(utc(2026, 3, 1))
    january, february = world.invoices()
    assert lines(january) == [("usage", "water", "10.00")]
    assert lines(february) == [("usage", "water", "13.00"), ("adjustment", "water", "1.50")]
    assert january.total + february.total == Decimal("11.50") + Decimal("13.00")


def test_each_part_of_a_month_that_a_plan_change_splits_is_rounded_on_its_own() -> None:
    """Moving on 15 January to a plan at 2.00 a cubic metre (rounded down too), with 0.5 m3
    more on 10 and on 24 January: the 6.9 m3 before the move bill 6 on the old plan (6.00),
    the 4.8 after it 4 on the new one (8.00). Each part is rated on its own plan, so each
    is rounded on its own: 10 m3 in all, where the whole month's 11.7 would round to 11."""
    world = water_world()
    world.usage("meter-7", utc(2026, 1, 10), "water.flow", m3="0.5")
    world.usage("meter-7", utc(2026, 1, 24), "water.flow", m3="0.5")
    world.plan(
        PLAN.replace("code: water\nname", "code: water-2\nname")
        .replace('"1.00"', '"2.00"')
        .replace('"1.50"', '"2.00"')
    )
    world.change("sub-1", "water-2", utc(2026, 1, 15), "immediate")
    world.bill(utc(2026, 2, 1))
    usage = [line for invoice in world.invoices() for line in lines(invoice) if line[0] == "usage"]
    assert usage == [("usage", "water", "6.00"), ("usage", "water", "8.00")]
