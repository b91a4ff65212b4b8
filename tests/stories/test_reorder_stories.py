"""Razor blade: a printer's ink reordered once per run-out, billed once (memory store).

The plan bills 9.00 a month in advance; its consumable ``ink`` is read from
``printer.ink`` events' ``level`` (percent), costs 24.90 an order, is ordered
3 days before its forecast run-out, and a rise above 20 points is a refill.
The printer reads its level every day at noon; it uses 5 points a day, so a
full cartridge (100) lasts 20 days. The reorder job runs every day at
midnight, before the day's reading.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from iotbill.domain.errors import Conflict
from iotbill.services.orders import (
    cancel_order,
    deliver_order,
    list_orders,
    run_reorders,
    ship_order,
)
from tests.stories.world import TENANT, World, lines

PLAN = """\
code: printer
name: Printer with ink
model: razor_blade
currency: USD
interval: month
fixed_fees: [{code: base, name: Printer service, amount: "9.00"}]
meters: [{code: ink_level, event_type: printer.ink, aggregation: latest, property: level}]
consumables:
  - {code: ink, name: Ink cartridge, meter: ink_level, price: "24.90",
     lead_time_days: 3, horizon_days: 30, window_days: 14, refill_rise: 20}
"""
JAN_1 = datetime(2026, 1, 1, tzinfo=UTC)
NOON = timedelta(hours=12)


def day(month: int, number: int) -> datetime:
    return datetime(2026, month, number, tzinfo=UTC)


# A cartridge is full at noon on each of these days, then falls 5 a day, to 0 at most.
REFILLS = (day(1, 1) + NOON, day(1, 22) + NOON, day(2, 12) + NOON)


def level(at: datetime) -> int:
    start = max(refill for refill in REFILLS if refill <= at)
    return max(0, 100 - 5 * (at - start).days)


@pytest.fixture
def world() -> World:
    world = World(JAN_1)
    world.plan(PLAN)
    world.customer("acme", "USD", "UTC", tax_rate="10")
    world.device("printer-1", "acme", JAN_1)
    world.subscribe("sub-1", "acme", "printer", JAN_1)
    return world


def live(world: World, until: datetime, steps: dict[datetime, Callable[[], object]]) -> None:
    """Every day from 1 January to ``until``: at midnight, the steps of that instant (bill
    runs, order steps) and the reorder job; at noon, the reading."""
    at = JAN_1
    while at <= until:
        world.clock.set(at)
        if at in steps:
            steps[at]()
        run_reorders(world.open(TENANT), as_of=at)
        world.clock.set(at + NOON)
        world.usage("printer-1", at + NOON, "printer.ink", level=level(at + NOON))
        at += timedelta(days=1)


def test_one_order_per_run_out_billed_once_and_not_when_cancelled(world: World) -> None:
    def step(
        action: Callable[..., object], number: int, month: int, date: int
    ) -> Callable[[], object]:
        return lambda: action(world.open(TENANT), f"acme/order/{number}", at=day(month, date))

    live(
        world,
        day(5, 1),
        {
            day(1, 20): step(ship_order, 1, 1, 20),
            day(1, 22): step(deliver_order, 1, 1, 22),
            day(2, 1): lambda: world.bill(day(2, 1)),
            day(2, 10): step(cancel_order, 2, 2, 10),
            day(3, 1): lambda: world.bill(day(3, 1)),
            day(3, 3): step(ship_order, 3, 3, 3),
            day(4, 1): lambda: world.bill(day(4, 1)),
            day(4, 5): step(cancel_order, 3, 4, 5),
            day(5, 1): lambda: world.bill(day(5, 1)),
        },
    )
    orders = list_orders(world.open(TENANT))
    # Cycle 1: 100 at noon on 1 Jan, 15 at noon on 18 Jan: run-out at noon on 21 Jan. At
    # midnight on 18 Jan it is 3.5 days away (later); on 19 Jan 2.5 days: ordered once.
    # Cycle 2 (refilled at noon on 22 Jan): run-out at noon on 11 Feb, ordered on 9 Feb,
    # cancelled the next day. Cycle 3 (refilled by hand at noon on 12 Feb): run-out at noon
    # on 4 Mar, ordered on 2 Mar, shipped, then lost and cancelled on 5 Apr. No refill
    # follows, so no fourth order.
    assert [(o.id, o.status, o.placed_at, o.run_out, o.cycle_start) for o in orders] == [
        ("acme/order/1", "delivered", day(1, 19), day(1, 21) + NOON, None),
        ("acme/order/2", "cancelled", day(2, 9), day(2, 11) + NOON, REFILLS[1]),
        ("acme/order/3", "cancelled", day(3, 2), day(3, 4) + NOON, REFILLS[2]),
    ]
    opening, february, march, april, may = world.invoices()
    assert lines(opening) == [("fixed_fee", "base", "9.00")]
    # Order 1 (placed 19 Jan) on the next invoice: 9.00 + 24.90 = 33.90, tax 3.39.
    assert lines(february) == [
        ("fixed_fee", "base", "9.00"),
        ("one_off", "acme/order/1/charge", "24.90"),
    ]
    assert str(february.total) == "37.29"
    # Order 2 was cancelled before any invoice billed it: never billed.
    assert lines(march) == [("fixed_fee", "base", "9.00")]
    # Order 3 (placed 2 Mar) billed in April, then cancelled: 24.90 credited back.
    assert lines(april) == [
        ("fixed_fee", "base", "9.00"),
        ("one_off", "acme/order/3/charge", "24.90"),
    ]
    assert orders[2].credit_id == "acme/order/3/credit"
    # What the customer paid for it comes back: 24.90 and its tax at April's 10 %, 2.49.
    with world.open(TENANT) as uow:
        (grant,) = uow.credits.grants(["acme"])
    assert (grant.id, str(grant.amount)) == ("acme/order/3/credit", "27.39")
    assert grant.description == (
        "Cancelled order acme/order/3: Ink cartridge for printer-1"
        f" (24.90 and its tax 2.49 at 10 % on invoice {april.number})"
    )
    # May's 9.00 + 0.90 tax is paid from the 27.39 credited: nothing due, 17.49 left.
    assert lines(may) == [("fixed_fee", "base", "9.00")]
    assert (str(may.total), str(may.balance_applied), str(may.amount_due)) == (
        "9.90",
        "9.90",
        "0.00",
    )


def test_a_step_out_of_order_is_refused_and_changes_nothing(world: World) -> None:
    live(world, day(1, 19), {})
    (order,) = list_orders(world.open(TENANT))
    with pytest.raises(Conflict, match="placed: it cannot be delivered"):
        deliver_order(world.open(TENANT), order.id, at=day(1, 20))
    cancel_order(world.open(TENANT), order.id, at=day(1, 20))
    with pytest.raises(Conflict, match="cancelled: it cannot be shipped"):
        ship_order(world.open(TENANT), order.id, at=day(1, 21))
    (stored,) = list_orders(world.open(TENANT))
    assert (stored.status, stored.cancelled_at, stored.shipped_at) == (
        "cancelled",
        day(1, 20),
        None,
    )
