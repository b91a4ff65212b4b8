"""What is stored of work orders, alike on memory, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from iotbill.domain.catalog import Part, ServiceTerms
from iotbill.domain.errors import Conflict, NotFound
from iotbill.domain.models.work_orders import WorkOrder
from iotbill.services.ports import UnitOfWorkFactory

JAN_1 = datetime(2026, 1, 1, tzinfo=UTC)
TERMS = ServiceTerms(
    Decimal("90.00"),
    timedelta(minutes=15),
    (Part("bearing", Decimal("18.50")), Part("seal", Decimal("7.25"))),
)


def opened(number: int, customer: str, day: int) -> WorkOrder:
    at = JAN_1 + timedelta(days=day, microseconds=7)
    return WorkOrder(
        id=f"{customer}/work-order/{number}",
        customer_id=customer,
        device_id=f"pump-{number}",
        summary="Vibration above 7 mm/s",
        opened_at=at,
        alert_rule="vibration" if number == 2 else None,
        incident_start=at - timedelta(minutes=13, microseconds=3) if number == 2 else None,
    )


def test_work_orders_are_stored_exactly_with_each_step_and_their_parts(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    first, second, other = opened(1, "c1", 9), opened(2, "c1", 2), opened(1, "c2", 5)
    with store(tenant) as uow:
        for found in (first, second, other):
            uow.work_orders.add(found)
        uow.commit()
    with store(tenant) as uow:
        assert uow.work_orders.list() == [second, other, first]  # by opening time
        assert uow.work_orders.list("c2") == [other]
        assert uow.work_orders.get("c1/work-order/1") == first
    day = second.opened_at
    resolved = (
        second.dispatch(day + timedelta(hours=1))
        .arrive(day + timedelta(hours=3))
        .resolve(day + timedelta(hours=4), {"seal": 1, "bearing": 2}, TERMS)
    )
    with store(tenant) as uow:
        uow.work_orders.save(resolved)
        uow.commit()
    with store(tenant) as uow:
        assert uow.work_orders.get("c1/work-order/2") == resolved
        assert resolved.parts == (("bearing", 2), ("seal", 1))


def test_a_taken_id_an_unknown_customer_or_work_order_is_refused(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    with store(tenant) as uow:
        uow.work_orders.add(opened(1, "c1", 1))
        uow.commit()
    with store(tenant) as uow, pytest.raises(Conflict):
        uow.work_orders.add(opened(1, "c1", 2))
    with store(tenant) as uow, pytest.raises(NotFound):
        uow.work_orders.add(opened(1, "c9", 2))
    with store(tenant) as uow, pytest.raises(NotFound):
        uow.work_orders.save(opened(5, "c1", 2))
    with store(tenant) as uow, pytest.raises(NotFound):
        uow.work_orders.get("c1/work-order/5")
    with store(tenant) as uow:
        assert [found.id for found in uow.work_orders.list()] == ["c1/work-order/1"]


def test_an_sla_credit_is_stored_exactly_and_a_batch_reads_its_customers_orders(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    first, second, other = opened(1, "c1", 9), opened(2, "c1", 2), opened(1, "c2", 5)
    with store(tenant) as uow:
        for found in (first, second, other):
            uow.work_orders.add(found)
        uow.commit()
    credited = first.credited("sub-1/close/2026-02-01T00:00:00+00:00", Decimal("12.5"))
    with store(tenant) as uow:
        uow.work_orders.save(credited)
        uow.commit()
    with store(tenant) as uow:
        assert uow.work_orders.for_customers(["c1"]) == [second, credited]
        assert uow.work_orders.for_customers(["c2", "c1", "c9"]) == [second, other, credited]
        assert uow.work_orders.for_customers([]) == []
        stored = uow.work_orders.get(first.id)
    assert (str(stored.sla_percent), stored.sla_invoice_id) == (
        "12.5",
        "sub-1/close/2026-02-01T00:00:00+00:00",
    )
