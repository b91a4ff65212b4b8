"""Invoices and credit notes: list, show, finalize, pay, void, credit.

An invoice is named in a path by its id's URL form (:mod:`..ids`) or by its
number (``INV-2026-000123``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from iotbill.entrypoints.api.auth import BillingRead, BillingWrite
from iotbill.entrypoints.api.idempotency import IdempotentRoute
from iotbill.entrypoints.api.pagination import (
    DEFAULT_LIMIT,
    Cursor,
    Limit,
    by_instant_then_id,
    page_view,
    store_page,
)
from iotbill.entrypoints.api.problems import responses
from iotbill.entrypoints.api.routes.common import (
    READ_PROBLEMS,
    WRITE_PROBLEMS,
    credit_note_view,
    invoice_view,
    moment,
    optional_reference,
    path_id,
    reference,
)
from iotbill.entrypoints.api.schemas import (
    CreditNoteIn,
    CreditNoteOut,
    InvoiceOut,
    PageOf,
    PayIn,
)
from iotbill.services import invoices

router = APIRouter(prefix="/v1", route_class=IdempotentRoute)


@router.get(
    "/invoices",
    response_model=PageOf[InvoiceOut],
    tags=["invoices"],
    summary="List invoices by period start, then id (?customer=, ?subscription=, ?status=)",
    responses=responses(*READ_PROBLEMS),
)
def list_invoices(
    access: BillingRead,
    customer: Annotated[str | None, Query(max_length=400)] = None,
    subscription: Annotated[str | None, Query(max_length=400)] = None,
    status: Literal["draft", "finalized", "paid", "void"] | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, Any]:
    owner = access.customer_filter(optional_reference(customer))
    chosen = optional_reference(subscription)
    with access.uow(read_only=True) as uow:  # a filter naming another tenant's object: 404
        if owner is not None:
            uow.customers.get(owner)
        if chosen is not None:
            access.own(uow.subscriptions.get(chosen).customer_id, "subscription", chosen)
    return store_page(
        lambda paging: invoices.list_invoices(
            access.uow(read_only=True),
            customer=owner,
            subscription=chosen,
            status=status,
            paging=paging,
        ),
        key=lambda i: [i.period.start.isoformat(), i.id],
        after=by_instant_then_id,
        view=invoice_view,
        cursor=cursor,
        limit=limit,
    )


@router.get(
    "/invoices/{invoice_id}",
    response_model=InvoiceOut,
    tags=["invoices"],
    summary="Show an invoice with its lines",
    responses=responses(*READ_PROBLEMS),
)
def show_invoice(invoice_id: str, access: BillingRead) -> dict[str, Any]:
    found = invoices.get_invoice(access.uow(read_only=True), path_id(invoice_id, "invoice"))
    access.own(found.customer_id, "invoice", invoice_id)
    return invoice_view(found)


@router.post(
    "/invoices/{invoice_id}/finalize",
    response_model=InvoiceOut,
    tags=["invoices"],
    summary="Finalize a draft now: it gets its number and never changes again",
    responses=responses(*WRITE_PROBLEMS),
)
def finalize_invoice(invoice_id: str, access: BillingWrite) -> dict[str, Any]:
    finalized = invoices.finalize_invoice(
        access.uow(), path_id(invoice_id, "invoice"), at=access.clock.now()
    )
    return invoice_view(finalized)


@router.post(
    "/invoices/{invoice_id}/pay",
    response_model=InvoiceOut,
    tags=["invoices"],
    summary="Mark a finalized invoice paid (at: when; default now)",
    responses=responses(*WRITE_PROBLEMS),
)
def pay_invoice(invoice_id: str, body: PayIn, access: BillingWrite) -> dict[str, Any]:
    paid = invoices.pay_invoice(
        access.uow(),
        path_id(invoice_id, "invoice"),
        at=moment(body.at, "at", access.clock.now()),
    )
    return invoice_view(paid)


@router.post(
    "/invoices/{invoice_id}/void",
    response_model=InvoiceOut,
    tags=["invoices"],
    summary="Void a draft or finalized invoice without credit notes",
    responses=responses(*WRITE_PROBLEMS),
)
def void_invoice(invoice_id: str, access: BillingWrite) -> dict[str, Any]:
    voided = invoices.void_invoice(
        access.uow(), path_id(invoice_id, "invoice"), at=access.clock.now()
    )
    return invoice_view(voided)


@router.post(
    "/credit-notes",
    status_code=201,
    response_model=CreditNoteOut,
    tags=["credit notes"],
    summary="Credit an amount (before tax; none: all that is left) of a finalized invoice",
    responses=responses(*WRITE_PROBLEMS),
)
def create_credit_note(body: CreditNoteIn, access: BillingWrite) -> dict[str, Any]:
    note, _ = invoices.create_credit_note(
        access.uow(),
        reference(body.invoice),
        reason=body.reason,
        at=access.clock.now(),
        amount=body.amount,
        description=body.description,
    )
    return credit_note_view(note)


@router.get(
    "/credit-notes",
    response_model=PageOf[CreditNoteOut],
    tags=["credit notes"],
    summary="List credit notes by issue time (?invoice=)",
    responses=responses(*READ_PROBLEMS),
)
def list_credit_notes(
    access: BillingRead,
    invoice: Annotated[str | None, Query(max_length=400)] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, Any]:
    found = invoices.list_credit_notes(access.uow(read_only=True), optional_reference(invoice))
    return page_view(
        found,
        key=lambda n: [n.issued_at.isoformat(), n.id],
        view=credit_note_view,
        cursor=cursor,
        limit=limit,
    )


@router.get(
    "/credit-notes/{credit_note_id}",
    response_model=CreditNoteOut,
    tags=["credit notes"],
    summary="Show a credit note",
    responses=responses(*READ_PROBLEMS),
)
def show_credit_note(credit_note_id: str, access: BillingRead) -> dict[str, Any]:
    wanted = path_id(credit_note_id, "credit note")
    with access.uow(read_only=True) as uow:
        found = uow.credit_notes.get(wanted)
    return credit_note_view(found)
