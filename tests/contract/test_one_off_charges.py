"""What is stored of one-off charges, alike on memory, SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from iotbill.domain.customers import Customer
from iotbill.domain.errors import Conflict, NotFound
from iotbill.domain.invoices import DocumentKind, Invoice
from iotbill.domain.money import currency
from iotbill.domain.one_off_charges import OneOffCharge
from iotbill.domain.periods import Period
from iotbill.services.ports import UnitOfWorkFactory

JAN_1 = datetime(2026, 1, 1, tzinfo=UTC)


def charge(id: str, customer: str, day: int, price: str = "12.345") -> OneOffCharge:
    return OneOffCharge.create(
        id=id,
        customer_id=customer,
        description=f"Spare part {id}",
        unit_price=price,
        quantity="3",
        currency=currency("USD" if customer == "c1" else "EUR"),
        recorded_at=JAN_1 + timedelta(days=day, microseconds=7),
    )


def test_charges_are_stored_exactly_and_marked_once_with_their_invoice(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    first, second, other = (
        charge("c1/one-off/1", "c1", 9),
        charge("c1/one-off/2", "c1", 2),
        charge("c2/one-off/1", "c2", 5, "0.000000001"),
    )
    with store(tenant) as uow:
        for found in (first, second, other):
            uow.one_off_charges.add(found)
        uow.commit()
    with store(tenant) as uow:
        assert uow.one_off_charges.list() == [second, other, first]  # by recording time
        assert uow.one_off_charges.list("c2") == [other]
        assert uow.one_off_charges.pending(["c1"]) == [second, first]
        assert uow.one_off_charges.list("c2")[0].unit_price == Decimal("0.000000001")
    invoice = _invoice()
    with store(tenant) as uow:
        uow.invoices.add(invoice)
        uow.one_off_charges.mark_billed([second.billed_on(invoice.id)])
        uow.commit()
    with store(tenant) as uow:
        assert uow.one_off_charges.pending(["c1", "c2"]) == [other, first]
        assert uow.one_off_charges.list("c1")[0] == replace(second, invoice_id=invoice.id)


def test_a_taken_id_or_an_unknown_customer_is_refused(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    with store(tenant) as uow:
        uow.one_off_charges.add(charge("c1/one-off/1", "c1", 1))
        uow.commit()
    with store(tenant) as uow, pytest.raises(Conflict):
        uow.one_off_charges.add(charge("c1/one-off/1", "c1", 2))
    with store(tenant) as uow, pytest.raises(NotFound):
        uow.one_off_charges.add(charge("c9/one-off/1", "c9", 2))
    with store(tenant) as uow:
        assert [found.id for found in uow.one_off_charges.list()] == ["c1/one-off/1"]


def _invoice() -> Invoice:
    customer = Customer.create(id="c1", name="One", currency_code="USD", timezone="UTC")
    return Invoice.draft(
        id="inv-1",
        kind=DocumentKind.PURCHASE,
        customer=customer,
        subscription_id=None,
        period=Period(JAN_1, JAN_1 + timedelta(days=1)),
        lines=[charge("c1/one-off/2", "c1", 2).line()],
        issued_at=JAN_1,
    )


def test_charges_withdrawn_or_billed_since_a_bill_run_read_them_are_not_marked(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    """A bill run reads the pending charges (A); an order's cancellation withdraws one and
    commits, another run bills one and commits (B); A's marks are a Conflict naming both,
    so A's invoice, which bills them, rolls back with its transaction."""
    kept, withdrawn, billed = (charge(f"c1/one-off/{n}", "c1", n) for n in (1, 2, 3))
    with store(tenant) as uow:
        for found in (kept, withdrawn, billed):
            uow.one_off_charges.add(found)
        uow.commit()
    with store(tenant) as uow:
        read = uow.one_off_charges.pending(["c1"])
    first, second = _invoice(), replace(_invoice(), id="inv-2")
    with store(tenant) as uow:
        uow.one_off_charges.withdraw(withdrawn.id)
        uow.invoices.add(first)
        uow.one_off_charges.mark_billed([billed.billed_on(first.id)])
        uow.commit()
    with store(tenant) as uow:
        uow.invoices.add(second)
        with pytest.raises(Conflict, match="c1/one-off/2, c1/one-off/3"):
            uow.one_off_charges.mark_billed([found.billed_on(second.id) for found in read])
    with store(tenant) as uow:
        assert uow.one_off_charges.pending(["c1"]) == [kept]
        assert uow.one_off_charges.list("c1")[1] == replace(billed, invoice_id=first.id)
