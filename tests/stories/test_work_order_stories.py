"""Service: a technician's visits to a pump, billed once on the next invoice (memory store).

The template examples/models/service.yaml: 49.00 a month in advance; labour at 90.00 an hour
in started quarter hours; a bearing 18.50, a seal 7.25. The customer is in UTC, tax 10 %.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from iotbill.domain.errors import Conflict, InvalidInput
from iotbill.services.work_orders import (
    arrive_work_order,
    dispatch_work_order,
    list_work_orders,
    open_work_order,
    resolve_work_order,
)
from tests.stories.world import TENANT, World, lines

TEMPLATE = Path(__file__).parents[2] / "examples" / "models" / "service.yaml"
JAN_1 = datetime(2026, 1, 1, tzinfo=UTC)


def at(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def world() -> World:
    world = World(JAN_1)
    world.plan(TEMPLATE.read_text())
    world.customer("acme", "USD", "UTC", tax_rate="10")
    world.device("pump-1", "acme", JAN_1)
    world.subscribe("sub-1", "acme", "service", JAN_1)
    return world


def visit(
    world: World, opened: datetime, arrived: timedelta, stayed: timedelta, **parts: int
) -> str:
    """A visit opened at ``opened``, dispatched at once, on site ``arrived`` later for
    ``stayed``, resolved with ``parts``."""
    order = open_work_order(world.open(TENANT), device="pump-1", summary="Vibration", at=opened)
    dispatch_work_order(world.open(TENANT), order.id, at=opened)
    arrive_work_order(world.open(TENANT), order.id, at=opened + arrived)
    resolve_work_order(world.open(TENANT), order.id, at=opened + arrived + stayed, parts=parts)
    return order.id


def test_each_visit_bills_its_labour_and_parts_once_on_the_next_invoice(world: World) -> None:
    world.bill(JAN_1)
    first = visit(world, at(1, 10, 8), timedelta(hours=2), timedelta(minutes=80), bearing=2)
    second = visit(world, at(1, 20, 8), timedelta(hours=1), timedelta(minutes=75), seal=1)
    world.bill(at(2, 1))
    world.bill(at(2, 1))  # again: nothing is billed twice
    third = visit(world, at(2, 3, 8), timedelta(hours=1), timedelta(minutes=1))
    world.bill(at(3, 1))
    opening, february, march = world.invoices()
    assert lines(opening) == [("fixed_fee", "monitoring", "49.00")]
    # 80 minutes: 6 started quarters, 1.5 h x 90.00 = 135.00; 2 bearings x 18.50 = 37.00.
    # 75 minutes: exactly 5 quarters, 1.25 h x 90.00 = 112.50; a seal 7.25.
    assert lines(february) == [
        ("fixed_fee", "monitoring", "49.00"),
        ("one_off", f"{first}/labour", "135.00"),
        ("one_off", f"{first}/part/bearing", "37.00"),
        ("one_off", f"{second}/labour", "112.50"),
        ("one_off", f"{second}/part/seal", "7.25"),
    ]
    assert str(february.total) == "374.83"  # 340.75 + 34.075 tax, rounded once: 34.08
    # One minute on site is a started quarter hour: 0.25 h x 90.00 = 22.50.
    assert lines(march) == [
        ("fixed_fee", "monitoring", "49.00"),
        ("one_off", f"{third}/labour", "22.50"),
    ]
    assert [order.status for order in list_work_orders(world.open(TENANT))] == ["resolved"] * 3


def test_a_device_never_has_two_open_work_orders_and_bad_steps_change_nothing(
    world: World,
) -> None:
    order = open_work_order(world.open(TENANT), device="pump-1", summary="Noise", at=at(1, 5))
    with pytest.raises(Conflict, match="has a work order not resolved yet: acme/work-order/1"):
        open_work_order(world.open(TENANT), device="pump-1", summary="Again", at=at(1, 6))
    with pytest.raises(Conflict, match="open: it cannot be on_site"):
        arrive_work_order(world.open(TENANT), order.id, at=at(1, 6))
    dispatch_work_order(world.open(TENANT), order.id, at=at(1, 5, 1))
    arrive_work_order(world.open(TENANT), order.id, at=at(1, 5, 3))
    with pytest.raises(InvalidInput) as error:
        resolve_work_order(
            world.open(TENANT), order.id, at=at(1, 5, 4), parts={"gear": 1, "seal": 0}
        )
    assert [str(problem) for problem in error.value.problems] == [
        "parts.gear: unknown part (the plan's parts: bearing, seal)",
        "parts.seal: must be a whole number from 1, not 0",
    ]
    with pytest.raises(InvalidInput, match="at: must not be before"):
        resolve_work_order(world.open(TENANT), order.id, at=at(1, 5, 2), parts={})
    (stored,) = list_work_orders(world.open(TENANT))
    assert (stored.status, stored.resolved_at) == ("on_site", None)
    with world.open(TENANT) as uow:
        assert uow.one_off_charges.list("acme") == []
