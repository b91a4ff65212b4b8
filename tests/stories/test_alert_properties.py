"""Property: never two open work orders for one device and rule, and one per incident,
whatever the alert job's frequency, with replayed and late-arriving readings (memory store).

A pump reports its vibration every 5 minutes for up to four hours: calm stretches and bursts above
7 mm/s. The readings reach the store late, out of order, and some twice; the job runs every
``job_minutes``; each work order is dispatched, on site and resolved ``visit_minutes``
after it was opened.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iotbill.domain.events import SourcedEvent, UsageEvent
from iotbill.services.alerts import run_alerts
from iotbill.services.ingest import ingest
from iotbill.services.work_orders import (
    arrive_work_order,
    dispatch_work_order,
    list_work_orders,
    resolve_work_order,
)
from tests.stories.world import TENANT, World

TEMPLATE = Path(__file__).parents[2] / "examples" / "models" / "service.yaml"
START = datetime(2026, 1, 5, 6, tzinfo=UTC)
STEP = timedelta(minutes=5)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.lists(st.sampled_from(["5", "6.9", "7", "7.1", "9"]), min_size=12, max_size=48),
    delays=st.lists(st.integers(min_value=0, max_value=12), min_size=1, max_size=30),
    replayed=st.lists(st.integers(min_value=0, max_value=1_000), max_size=10),
    job_minutes=st.integers(min_value=5, max_value=90),
    visit_minutes=st.integers(min_value=5, max_value=120),
)
def test_never_two_open_work_orders_and_one_per_incident(
    values: list[str],
    delays: list[int],
    replayed: list[int],
    job_minutes: int,
    visit_minutes: int,
) -> None:
    world = World(START)
    world.plan(TEMPLATE.read_text())
    world.customer("acme", "USD", "UTC")
    world.device("pump-1", "acme", START)
    world.subscribe("sub-1", "acme", "service", START)
    events = [
        UsageEvent(
            id=f"v{index}",
            type="pump.vibration",
            device="pump-1",
            timestamp=START + STEP * index,
            properties={"mm_s": Decimal(value)},
        )
        for index, value in enumerate(values)
    ]
    arrivals = [(e.timestamp + STEP * delays[i % len(delays)], e) for i, e in enumerate(events)]
    arrivals += [
        (e.timestamp + timedelta(hours=1), e) for e in (events[r % len(events)] for r in replayed)
    ]
    end = START + STEP * len(values) + timedelta(hours=2)
    received = START
    at = START
    while at <= end:
        world.clock.set(at)
        due = [event for arrived, event in arrivals if received < arrived <= at]
        if due:
            ingest(
                world.open,
                TENANT,
                [SourcedEvent(e, n) for n, e in enumerate(due, 1)],
                clock=world.clock,
            )
        received = at
        for order in list_work_orders(world.open(TENANT)):
            if order.status == "open" and order.opened_at + timedelta(minutes=visit_minutes) <= at:
                visited = order.opened_at + timedelta(minutes=visit_minutes)
                dispatch_work_order(world.open(TENANT), order.id, at=visited)
                arrive_work_order(world.open(TENANT), order.id, at=visited)
                resolve_work_order(world.open(TENANT), order.id, at=visited, parts={})
        run_alerts(world.open(TENANT), as_of=at)
        orders = list_work_orders(world.open(TENANT))
        assert sum(1 for order in orders if order.status != "resolved") <= 1
        at += timedelta(minutes=job_minutes)
    orders = list_work_orders(world.open(TENANT))
    for before, after in pairwise(orders):
        # Each incident after the visit before it was resolved: never one incident twice.
        assert before.resolved_at is not None and after.incident_start is not None
        assert after.incident_start > before.resolved_at
    for order in orders:  # each starts at a reading above 7 (a late one may end it after)
        assert order.incident_start is not None
        assert Decimal(values[int((order.incident_start - START) / STEP)]) > 7
