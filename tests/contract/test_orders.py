"""What is stored of reorders, and the withdrawal of an order's charge, alike on memory,
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from iotbill.domain.customers import Customer
from iotbill.domain.errors import Conflict, NotFound
from iotbill.domain.invoices import DocumentKind, Invoice
from iotbill.domain.models.orders import Order
from iotbill.domain.money import currency
from iotbill.domain.one_off_charges import OneOffCharge
from iotbill.domain.periods import Period
from iotbill.services.ports import UnitOfWorkFactory

JAN_1 = datetime(2026, 1, 1, tzinfo=UTC)


def order(number: int, customer: str, day: int) -> Order:
    id = f"{customer}/order/{number}"
    return Order(
        id=id,
        customer_id=customer,
        device_id=f"printer-{number}",
        consumable="ink",
        description="Ink cartridge",
        price=Decimal("24.905"),
        currency=currency("USD" if customer == "c1" else "EUR"),
        placed_at=JAN_1 + timedelta(days=day, microseconds=7),
        run_out=JAN_1 + timedelta(days=day + 2, hours=12, seconds=1),
        cycle_start=None if number == 1 else JAN_1 + timedelta(days=1, hours=12),
        charge_id=f"{id}/charge",
    )


def charge(id: str, customer: str) -> OneOffCharge:
    return OneOffCharge.create(
        id=id,
        customer_id=customer,
        description="Ink cartridge",
        unit_price="24.90",
        quantity="1",
        currency=currency("USD"),
        recorded_at=JAN_1,
    )


def test_orders_are_stored_exactly_with_each_step(store: UnitOfWorkFactory, tenant: str) -> None:
    first, second, other = order(1, "c1", 9), order(2, "c1", 2), order(1, "c2", 5)
    with store(tenant) as uow:
        for found in (first, second, other):
            uow.orders.add(found)
        uow.commit()
    with store(tenant) as uow:
        assert uow.orders.list() == [second, other, first]  # by placing time
        assert uow.orders.list("c2") == [other]
        assert uow.orders.get("c1/order/1") == first
    shipped = second.ship(JAN_1 + timedelta(days=3))
    cancelled = shipped.cancel(JAN_1 + timedelta(days=4), credit_id="c1/order/2/credit")
    delivered = first.ship(JAN_1 + timedelta(days=10)).deliver(JAN_1 + timedelta(days=11))
    with store(tenant) as uow:
        uow.orders.save(cancelled)
        uow.orders.save(delivered)
        uow.commit()
    with store(tenant) as uow:
        assert uow.orders.get("c1/order/2") == cancelled
        assert uow.orders.get("c1/order/1") == delivered
        assert uow.orders.list("c2") == [other]


def test_a_taken_id_an_unknown_customer_or_order_is_refused(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    with store(tenant) as uow:
        uow.orders.add(order(1, "c1", 1))
        uow.commit()
    with store(tenant) as uow, pytest.raises(Conflict):
        uow.orders.add(order(1, "c1", 2))
    with store(tenant) as uow, pytest.raises(NotFound):
        uow.orders.add(order(1, "c9", 2))
    with store(tenant) as uow, pytest.raises(NotFound):
        uow.orders.save(order(5, "c1", 2))
    with store(tenant) as uow, pytest.raises(NotFound):
        uow.orders.get("c1/order/5")
    with store(tenant) as uow:
        assert [found.id for found in uow.orders.list()] == ["c1/order/1"]


def test_a_charge_is_withdrawn_only_before_an_invoice_bills_it(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    pending, billed = charge("c1/order/1/charge", "c1"), charge("c1/order/2/charge", "c1")
    invoice = Invoice.draft(
        id="inv-1",
        kind=DocumentKind.PURCHASE,
        customer=Customer.create(id="c1", name="One", currency_code="USD", timezone="UTC"),
        subscription_id=None,
        period=Period(JAN_1, JAN_1 + timedelta(days=1)),
        lines=[billed.line()],
        issued_at=JAN_1,
    )
    with store(tenant) as uow:
        uow.one_off_charges.add(pending)
        uow.one_off_charges.add(billed)
        uow.invoices.add(invoice)
        uow.one_off_charges.mark_billed([billed.billed_on(invoice.id)])
        uow.commit()
    with store(tenant) as uow:
        uow.one_off_charges.withdraw(pending.id)
        uow.commit()
    with store(tenant) as uow, pytest.raises(Conflict):
        uow.one_off_charges.withdraw(billed.id)
    with store(tenant) as uow, pytest.raises(NotFound):
        uow.one_off_charges.withdraw(pending.id)
    with store(tenant) as uow:
        assert [found.id for found in uow.one_off_charges.list("c1")] == [billed.id]
