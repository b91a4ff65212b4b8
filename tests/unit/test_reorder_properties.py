"""Property: one order per run-out, whatever the job's frequency, with replayed and
late-arriving readings.

A device empties and is refilled several times (a sawtooth). Its readings
reach the store late, out of order, and some twice; the store keeps each id
once, in timestamp order. The reorder rule runs every ``job_hours`` on what has
arrived; each order is delivered or cancelled a day after it is placed. Each
cycle, from one refill to the next, gets exactly one order, placed within it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from iotbill.domain.catalog import Consumable
from iotbill.domain.models.depletion import Reading
from iotbill.domain.models.orders import Order
from iotbill.domain.models.reorder import decide_reorder
from iotbill.domain.money import currency

START = datetime(2026, 1, 1, tzinfo=UTC)
INK = Consumable(
    code="ink",
    meter="ink_level",
    event_type="printer.ink",
    property="level",
    price=Decimal("24.90"),
    lead_time=timedelta(days=3),
    horizon=timedelta(days=30),
    window=timedelta(days=14),
    refill_rise=Decimal(20),
)

cycles_strategy = st.lists(
    st.tuples(st.sampled_from([4, 5, 8, 10]), st.integers(min_value=0, max_value=2)),
    min_size=1,
    max_size=4,
)


def sawtooth(
    cycles: list[tuple[int, int]], every_hours: int
) -> tuple[list[tuple[str, Reading]], list[datetime], datetime]:
    """Readings every ``every_hours`` of cycles that each fall ``rate`` a day from 100 to 0,
    then wait ``gap`` days empty; the refills' instants; the end of the last cycle."""
    readings: list[tuple[str, Reading]] = []
    refills: list[datetime] = []
    at = START
    for rate, gap in cycles:
        refills.append(at)
        end = at + timedelta(days=100 // rate + gap)
        start = at
        while at < end:
            days = Decimal((at - start).total_seconds()) / 86_400
            level = max(Decimal(0), 100 - rate * days)
            readings.append((f"r{len(readings)}", Reading(at, level)))
            at += timedelta(hours=every_hours)
    return readings, refills, at


@settings(max_examples=60, deadline=None)
@given(
    cycles=cycles_strategy,
    every_hours=st.sampled_from([6, 12, 24]),
    job_hours=st.integers(min_value=1, max_value=36),
    delays=st.lists(st.integers(min_value=0, max_value=20), min_size=1, max_size=50),
    replayed=st.lists(st.integers(min_value=0, max_value=10_000), max_size=20),
    cancels=st.lists(st.booleans(), min_size=4, max_size=4),
)
def test_each_cycle_gets_exactly_one_order(
    cycles: list[tuple[int, int]],
    every_hours: int,
    job_hours: int,
    delays: list[int],
    replayed: list[int],
    cancels: list[bool],
) -> None:
    readings, refills, end = sawtooth(cycles, every_hours)
    arrivals: list[tuple[datetime, str, Reading]] = []
    for index, (id, reading) in enumerate(readings):
        arrivals.append((reading.at + timedelta(hours=delays[index % len(delays)]), id, reading))
    for pick in replayed:  # the same reading again, later
        _, id, reading = arrivals[pick % len(arrivals)]
        arrivals.append((reading.at + timedelta(hours=30), id, reading))

    orders: list[Order] = []
    at = START
    while at <= end + timedelta(days=2):
        stored = {id: reading for arrived, id, reading in arrivals if arrived <= at}
        seen = sorted(stored.values(), key=lambda reading: reading.at)
        orders = [_settle(order, at, cancels[index]) for index, order in enumerate(orders)]
        decision = decide_reorder(seen, orders, INK, at)
        if decision.place:
            assert decision.forecast is not None and decision.forecast.run_out is not None
            orders.append(_order(len(orders), at, decision.forecast.run_out))
        at += timedelta(hours=job_hours)

    bounds = [*refills, end + timedelta(days=3)]
    placed = [order.placed_at for order in orders]
    assert len(placed) == len(refills)
    for index, when in enumerate(placed):
        assert bounds[index] <= when < bounds[index + 1]


def _settle(order: Order, at: datetime, cancel: bool) -> Order:
    """A day after it was placed, the order is delivered (or cancelled)."""
    moved = order.placed_at + timedelta(days=1)
    if not order.in_progress or at < moved:
        return order
    return order.cancel(moved) if cancel else order.ship(moved).deliver(moved)


def _order(number: int, at: datetime, run_out: datetime) -> Order:
    return Order(
        id=f"acme/order/{number + 1}",
        customer_id="acme",
        device_id="printer-1",
        consumable="ink",
        description="Ink cartridge for printer-1",
        price=INK.price,
        currency=currency("USD"),
        placed_at=at,
        run_out=run_out,
        cycle_start=None,
        charge_id=f"acme/order/{number + 1}/charge",
    )
