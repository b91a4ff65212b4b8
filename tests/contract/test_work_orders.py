"""What is stored of work orders, alike on memory, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from iotbill.domain.catalog import Part, ServiceTerms
from iotbill.domain.errors import Conflict, NotFound
from iotbill.domain.models.work_orders import WorkOrder
from iotbill.services.ports import UnitOfWork, UnitOfWorkFactory

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
        uow.work_orders.save(credited)  # a step's save never writes the SLA mark
        uow.commit()
    with store(tenant) as uow:
        assert uow.work_orders.get(first.id) == first
        assert uow.work_orders.mark_credited(
            first.id, invoice="sub-1/close/2026-02-01T00:00:00+00:00", percent=Decimal("12.5")
        )
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


FEB_INVOICE = "sub-1/close/2026-02-01T00:00:00+00:00"
MAR_INVOICE = "sub-1/close/2026-03-01T00:00:00+00:00"


def test_a_breach_is_marked_once_and_the_mark_changes_nothing_else(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    order = opened(1, "c1", 9)
    with store(tenant) as uow:
        uow.work_orders.add(order)
        uow.commit()
    with store(tenant) as uow:
        assert uow.work_orders.mark_credited(order.id, invoice=FEB_INVOICE, percent=Decimal("25"))
        uow.commit()
    with store(tenant) as uow:
        assert not uow.work_orders.mark_credited(
            order.id, invoice=MAR_INVOICE, percent=Decimal("50")
        )
        uow.commit()
    with store(tenant) as uow, pytest.raises(NotFound):
        uow.work_orders.mark_credited("c1/work-order/9", invoice=FEB_INVOICE, percent=Decimal(1))
    with store(tenant) as uow:
        assert uow.work_orders.get(order.id) == order.credited(FEB_INVOICE, Decimal("25"))


def _read_then(
    store: UnitOfWorkFactory,
    tenant: str,
    overlapping: bool,
    id: str,
    meanwhile: Callable[[UnitOfWork], None],
    then: Callable[[UnitOfWork, WorkOrder], None],
) -> None:
    """Read work order ``id`` in a unit of work A; ``meanwhile`` in B, committed; ``then``
    in A with the copy A read, committed. ``overlapping``: A is one unit of work open
    across B's; else A reads in one and writes in the next (on SQLite writers take turns,
    so B would wait for an open A: a copy read before B is what A can hold there)."""
    if overlapping:
        with store(tenant) as first:
            read = first.work_orders.get(id)
            _commit(store, tenant, meanwhile)
            then(first, read)
            first.commit()
        return
    with store(tenant) as first:
        read = first.work_orders.get(id)
    _commit(store, tenant, meanwhile)
    _commit(store, tenant, lambda uow: then(uow, read))


def _commit(store: UnitOfWorkFactory, tenant: str, write: Callable[[UnitOfWork], None]) -> None:
    with store(tenant) as uow:
        write(uow)
        uow.commit()


@pytest.fixture(params=["one after the other", "overlapping"])
def overlapping(request: pytest.FixtureRequest) -> bool:
    if request.param == "overlapping" and request.node.callspec.params["store"] == "sqlite":
        pytest.skip("SQLite writers take turns: B would wait for A to end")
    return bool(request.param == "overlapping")


def test_a_step_saved_from_an_older_copy_keeps_the_mark_a_bill_run_committed_since(
    store: UnitOfWorkFactory, tenant: str, overlapping: bool
) -> None:
    order = opened(1, "c1", 9).dispatch(JAN_1 + timedelta(days=9, hours=1))
    with store(tenant) as uow:
        uow.work_orders.add(opened(1, "c1", 9))
        uow.work_orders.save(order)
        uow.commit()
    resolve_at = JAN_1 + timedelta(days=9, hours=5)
    _read_then(
        store,
        tenant,
        overlapping,
        order.id,
        lambda uow: assert_marked(uow, order.id),
        lambda uow, read: uow.work_orders.save(
            read.arrive(resolve_at).resolve(resolve_at, {"seal": 1}, TERMS)
        ),
    )
    with store(tenant) as uow:
        stored = uow.work_orders.get(order.id)
        assert (stored.status, stored.parts) == ("resolved", (("seal", 1),))
        assert (stored.sla_invoice_id, stored.sla_percent) == (FEB_INVOICE, Decimal("25"))
        assert not uow.work_orders.mark_credited(  # the next run credits it no more
            order.id, invoice=MAR_INVOICE, percent=Decimal("25")
        )


def test_a_mark_from_an_older_copy_keeps_the_step_recorded_since(
    store: UnitOfWorkFactory, tenant: str, overlapping: bool
) -> None:
    order = opened(1, "c1", 9).dispatch(JAN_1 + timedelta(days=9, hours=1))
    resolve_at = JAN_1 + timedelta(days=9, hours=5)
    resolved = order.arrive(resolve_at).resolve(resolve_at, {"bearing": 2}, TERMS)
    with store(tenant) as uow:
        uow.work_orders.add(opened(1, "c1", 9))
        uow.work_orders.save(order)
        uow.commit()
    _read_then(
        store,
        tenant,
        overlapping,
        order.id,
        lambda uow: uow.work_orders.save(resolved),
        lambda uow, read: assert_marked(uow, read.id),
    )
    with store(tenant) as uow:
        assert uow.work_orders.get(order.id) == resolved.credited(FEB_INVOICE, Decimal("25"))


def assert_marked(uow: UnitOfWork, id: str) -> None:
    assert uow.work_orders.mark_credited(id, invoice=FEB_INVOICE, percent=Decimal("25"))
