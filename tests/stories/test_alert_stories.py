"""Service: vibration above 7 mm/s for 10 minutes opens a work order, once per incident
(memory store).

The template examples/models/service.yaml; the pump reports its vibration every 5 minutes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from iotbill.services.alerts import run_alerts
from iotbill.services.work_orders import (
    arrive_work_order,
    dispatch_work_order,
    list_work_orders,
    resolve_work_order,
)
from tests.stories.world import TENANT, World

TEMPLATE = Path(__file__).parents[2] / "examples" / "models" / "service.yaml"
JAN_1 = datetime(2026, 1, 1, tzinfo=UTC)
TEN = datetime(2026, 1, 5, 10, tzinfo=UTC)


def minutes(count: int) -> datetime:
    return TEN + timedelta(minutes=count)


@pytest.fixture
def world() -> World:
    world = World(JAN_1)
    world.plan(TEMPLATE.read_text())
    world.customer("acme", "USD", "UTC", tax_rate="10")
    world.device("pump-1", "acme", JAN_1)
    world.subscribe("sub-1", "acme", "service", JAN_1)
    return world


def vibrate(world: World, start: int, *values: float) -> None:
    for index, value in enumerate(values):
        at = minutes(start + 5 * index)
        world.clock.set(at)
        world.usage("pump-1", at, "pump.vibration", mm_s=value)


def test_one_work_order_per_incident_however_often_the_job_runs(world: World) -> None:
    # 10:00 to 10:25: 6.5, 7.2, 8.1, 7.9, 6.8, 7.5. The run 7.2, 8.1, 7.9 lasts 10 minutes
    # (10:05 to 10:15): an incident from 10:05. 7.5 at 10:25 alone is no incident.
    vibrate(world, 0, 6.5, 7.2, 8.1, 7.9, 6.8, 7.5)
    assert run_alerts(world.open(TENANT), as_of=minutes(10))[0].incident_start is None
    first = run_alerts(world.open(TENANT), as_of=minutes(25))
    assert [(c.incident_start, c.opened.id if c.opened else None) for c in first] == [
        (minutes(5), "acme/work-order/1")
    ]
    vibrate(world, 30, 9, 9, 9, 9)  # a second incident while the first is open
    again = run_alerts(world.open(TENANT), as_of=minutes(45))
    assert [(c.incident_start, c.blocked_by) for c in again] == [(minutes(5), "acme/work-order/1")]
    (order,) = list_work_orders(world.open(TENANT))
    assert (order.summary, order.alert_rule, order.opened_at) == (
        "Vibration above 7 mm/s for 10 minutes",
        "vibration",
        minutes(25),
    )
    dispatch_work_order(world.open(TENANT), order.id, at=minutes(50))
    arrive_work_order(world.open(TENANT), order.id, at=minutes(120))
    resolve_work_order(world.open(TENANT), order.id, at=minutes(150), parts={"bearing": 1})
    # Still above 7 after the visit: a new incident, counted from the resolution at 12:30.
    vibrate(world, 155, 8, 8, 8)
    after = run_alerts(world.open(TENANT), as_of=minutes(170))
    assert [(c.incident_start, c.opened.id if c.opened else None) for c in after] == [
        (minutes(155), "acme/work-order/2")
    ]
    for _ in range(2):  # run again: nothing new
        assert run_alerts(world.open(TENANT), as_of=minutes(170))[0].opened is None
    assert [o.incident_start for o in list_work_orders(world.open(TENANT))] == [
        minutes(5),
        minutes(155),
    ]
