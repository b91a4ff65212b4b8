"""Invoices through the use cases: gap-free numbers at finalization, payment, void, credits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from iotbill.domain.errors import Conflict, InvalidInput, NotFound
from iotbill.domain.invoices import DocumentKind, Invoice
from iotbill.domain.invoicing import InvoiceLine
from iotbill.domain.periods import Period
from iotbill.services.invoices import (
    assign_number,
    create_credit_note,
    finalize_invoice,
    get_invoice,
    list_credit_notes,
    list_invoices,
    pay_invoice,
    void_invoice,
)
from tests.service_layer.conftest import NewUnitOfWork
from tests.service_layer.documents import add_customers

ISSUED = datetime(2026, 2, 1, 5, tzinfo=UTC)
LATER = datetime(2026, 2, 9, 12, tzinfo=UTC)
JANUARY = Period(datetime(2026, 1, 1, 5, tzinfo=UTC), ISSUED)


def draft(uow: NewUnitOfWork, id: str, *amounts: str) -> Invoice:
    """A stored draft for acme (USD, 8.875 % tax) with one line per amount."""
    with uow() as unit:
        customer = unit.customers.get("acme")
        invoice = Invoice.draft(
            id=id,
            kind=DocumentKind.CLOSE,
            customer=customer,
            subscription_id=None,
            period=JANUARY,
            lines=[
                InvoiceLine.rounded(
                    customer.currency,
                    charge=f"fee{index}",
                    kind="fixed_fee",
                    description=f"Fee {index}",
                    quantity=Decimal(1),
                    unit_price=Decimal(amount),
                    exact_amount=Decimal(amount),
                )
                for index, amount in enumerate(amounts)
            ],
            issued_at=ISSUED,
            grace=timedelta(days=3),
        )
        unit.invoices.add(invoice)
        unit.commit()
    return invoice


@pytest.fixture
def drafts(uow: NewUnitOfWork) -> None:
    add_customers(uow)
    for id in ("inv-a", "inv-b", "inv-c", "inv-d"):
        draft(uow, id, "100.00", "20.00")


@pytest.mark.usefixtures("drafts")
def test_numbers_are_gap_free_whatever_is_voided_or_refused(uow: NewUnitOfWork) -> None:
    first = finalize_invoice(uow(), "inv-a", at=LATER)
    void_invoice(uow(), "inv-b", at=LATER)  # a voided draft has no number: no gap
    second = finalize_invoice(uow(), "inv-c", at=LATER)
    with pytest.raises(Conflict, match="cannot finalize invoice INV-2026-000001: it is finalized"):
        finalize_invoice(uow(), "inv-a", at=LATER)
    third = finalize_invoice(uow(), "inv-d", at=LATER)

    assert [first.number, second.number, third.number] == [
        "INV-2026-000001",
        "INV-2026-000002",
        "INV-2026-000003",
    ]
    assert get_invoice(uow(), "INV-2026-000002").id == "inv-c"  # by number, too
    assert [i.id for i in list_invoices(uow(), status="void")] == ["inv-b"]
    assert get_invoice(uow(), "inv-b").number is None


@pytest.mark.usefixtures("drafts")
def test_a_number_taken_in_a_rolled_back_transaction_is_given_again(uow: NewUnitOfWork) -> None:
    with uow() as unit:
        abandoned = assign_number(unit, unit.invoices.get("inv-a"), LATER)
        assert abandoned.number == "INV-2026-000001"
        # no commit: the bill run was killed here

    with uow() as unit:
        acme = unit.customers.get("acme")
        kept = assign_number(unit, unit.invoices.get("inv-b"), LATER, customer=acme)
        unit.invoices.save(kept)
        unit.commit()

    assert kept.number == "INV-2026-000001"
    assert get_invoice(uow(), "inv-a").status == "draft"
    assert get_invoice(uow(), "inv-b").finalized_at == LATER


@pytest.mark.usefixtures("drafts")
def test_each_year_in_the_customers_zone_has_its_own_series(uow: NewUnitOfWork) -> None:
    new_years_eve = finalize_invoice(uow(), "inv-a", at=datetime(2027, 1, 1, 4, 59, tzinfo=UTC))
    new_year = finalize_invoice(uow(), "inv-b", at=datetime(2027, 1, 1, 5, tzinfo=UTC))

    # 23:59 on 31 December in New York, then midnight there
    assert [new_years_eve.number, new_year.number] == ["INV-2026-000001", "INV-2027-000001"]


@pytest.mark.usefixtures("drafts")
def test_an_invoice_is_paid_once_finalized_and_is_then_never_voided(uow: NewUnitOfWork) -> None:
    with pytest.raises(Conflict, match="cannot pay invoice inv-a: it is draft"):
        pay_invoice(uow(), "inv-a", at=LATER)
    finalize_invoice(uow(), "inv-a", at=LATER)
    with pytest.raises(InvalidInput, match="at: must not be before INV-2026-000001 was finalized"):
        pay_invoice(uow(), "inv-a", at=ISSUED)

    paid = pay_invoice(uow(), "INV-2026-000001", at=LATER + timedelta(days=1))

    assert (paid.status, paid.paid_at) == ("paid", LATER + timedelta(days=1))
    with pytest.raises(Conflict, match="cannot void invoice INV-2026-000001: it is paid"):
        void_invoice(uow(), "inv-a", at=LATER)
    assert get_invoice(uow(), "inv-a") == paid
    with pytest.raises(NotFound, match="no invoice has the id or number 'INV-2026-000009'"):
        pay_invoice(uow(), "INV-2026-000009", at=LATER)


@pytest.mark.usefixtures("drafts")
def test_credit_notes_credit_part_then_the_rest_with_tax(uow: NewUnitOfWork) -> None:
    # 120.00 + 8.875 % tax (10.65) = 130.65
    finalize_invoice(uow(), "inv-a", at=LATER)

    partial, after_partial = create_credit_note(
        uow(), "INV-2026-000001", reason="pump offline 3 days", amount="10.00", at=LATER
    )
    assert partial.number == partial.id == "CN-2026-000001"
    assert partial.as_json()["total"] == "10.89"  # 10.00 + 0.89 tax (0.8875)
    assert after_partial.as_json()["amount_due"] == "119.76"

    rest, after_rest = create_credit_note(uow(), "inv-a", reason="contract ended", at=LATER)

    assert rest.number == "CN-2026-000002"
    assert rest.as_json()["lines"][0]["amount"] == "110.00"
    assert rest.as_json()["total"] == "119.76"  # 110.00 + 9.7625 rounded to 9.76
    assert after_rest.as_json()["amount_due"] == "0.00"
    stored = get_invoice(uow(), "inv-a")
    assert (stored.credits, stored.status) == (Decimal("130.65"), "finalized")
    assert [n.number for n in list_credit_notes(uow(), "INV-2026-000001")] == [
        "CN-2026-000001",
        "CN-2026-000002",
    ]


@pytest.mark.usefixtures("drafts")
def test_a_refused_credit_note_stores_nothing_and_takes_no_number(uow: NewUnitOfWork) -> None:
    with pytest.raises(Conflict, match="cannot credit invoice inv-a: it is draft"):
        create_credit_note(uow(), "inv-a", reason="x", amount="1.00", at=LATER)
    finalize_invoice(uow(), "inv-a", at=LATER)
    with pytest.raises(InvalidInput) as too_much:
        create_credit_note(uow(), "inv-a", reason="goodwill", amount="120.01", at=LATER)
    with pytest.raises(InvalidInput, match=r"amount: 0\.001 has more decimals than USD allows"):
        create_credit_note(uow(), "inv-a", reason="goodwill", amount="0.001", at=LATER)
    with pytest.raises(InvalidInput, match="reason: must say why"):
        create_credit_note(uow(), "inv-a", reason=" ", amount="1.00", at=LATER)

    (problem,) = too_much.value.problems
    assert problem.location == "amount"
    assert "only 130.65 of INV-2026-000001 is left to credit" in problem.message
    assert list_credit_notes(uow()) == []
    assert get_invoice(uow(), "inv-a").credits == 0
    note, _ = create_credit_note(uow(), "inv-a", reason="goodwill", amount="1.00", at=LATER)
    assert note.number == "CN-2026-000001"


@pytest.mark.usefixtures("drafts")
def test_listing_filters_and_refuses_an_unknown_status(uow: NewUnitOfWork) -> None:
    finalize_invoice(uow(), "inv-c", at=LATER)

    assert [i.id for i in list_invoices(uow(), status="finalized")] == ["inv-c"]
    assert [i.id for i in list_invoices(uow(), customer="acme", status="draft")] == [
        "inv-a",
        "inv-b",
        "inv-d",
    ]
    with pytest.raises(InvalidInput, match="status: must be one of draft, finalized, paid, void"):
        list_invoices(uow(), status="open")
