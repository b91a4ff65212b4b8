"""An EV charging site billed a demand charge: the sum of each local day's peak power, a
``max`` meter with ``per: day``, in the customer's time zone."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.stories.world import World, lines

PLAN = """
code: demand
name: Demand charge
currency: USD
interval: month
meters:
  - {code: peak, event_type: power, aggregation: max, property: kw, per: day}
charges:
  - {code: demand, meter: peak, model: per_unit, unit_price: "0.50"}
"""


def at(day: int, hour: int, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def test_the_peaks_of_the_customers_own_days_are_summed() -> None:
    """In Chicago, 05:00 and 07:00 UTC on 2 March are 23:00 on 1 March and 01:00 on 2 March:
    two local days, peaks of 6 and 8 kW; 10 kW on 10 March (4 kW earlier that day): 24 kW,
    12.00. Counted in UTC days the two first readings would share a day: 18 kW."""
    world = World(datetime(2026, 3, 1, 6, tzinfo=UTC))  # midnight in Chicago (CST)
    world.plan(PLAN)
    world.customer("site-7", "USD", "America/Chicago")
    world.device("charger-1", "site-7", at(1, 6))
    world.subscribe("sub-1", "site-7", "demand", at(1, 6))
    for moment, kw in [(at(2, 5), 6), (at(2, 7), 8), (at(10, 15), 4), (at(10, 18), 10)]:
        world.usage("charger-1", moment, "power", kw=kw)
    world.bill(datetime(2026, 4, 1, 5, tzinfo=UTC))  # midnight in Chicago (CDT)
    [march] = world.invoices()
    assert lines(march) == [("usage", "demand", "12.00")]
    assert str(march.lines[0].quantity) == "24"
