"""Invoices and credit notes as documents: ``GET /v1/invoices/{id}.pdf`` and ``.html``.

The same documents as ``iotbill invoices pdf`` (:mod:`iotbill.entrypoints.render`):
in the customer's locale, a finalized invoice's PDF byte-stable. An invoice is
named by its id's URL form or its number, a credit note by its number. Another
tenant's invoice is not there (404), as for every route. This router is listed
before the invoices router, so that ``INV-2026-000001.pdf`` is a document and
not an invoice id.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from iotbill.entrypoints.api.auth import BillingRead
from iotbill.entrypoints.api.problems import responses
from iotbill.entrypoints.api.routes.common import READ_PROBLEMS, path_id
from iotbill.services.documents import credit_note_sheet, invoice_sheet

router = APIRouter(prefix="/v1")

PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "The document as PDF"}
}
HTML: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {}}, "description": "The document as one HTML page"}
}


@router.get(
    "/invoices/{invoice_id}.pdf",
    tags=["invoices"],
    summary="An invoice as PDF, in its customer's locale",
    response_class=Response,
    responses={**PDF, **responses(*READ_PROBLEMS)},
)
def invoice_pdf(invoice_id: str, access: BillingRead) -> Response:
    from iotbill.entrypoints.render import document_pdf, invoice_document

    sheet = invoice_sheet(access.uow(read_only=True), path_id(invoice_id, "invoice"))
    access.own(sheet.customer.id, "invoice", invoice_id)
    return _attachment(document_pdf(invoice_document(sheet)), sheet.invoice.number, "pdf")


@router.get(
    "/invoices/{invoice_id}.html",
    tags=["invoices"],
    summary="An invoice as one self-contained HTML page",
    response_class=Response,
    responses={**HTML, **responses(*READ_PROBLEMS)},
)
def invoice_html(invoice_id: str, access: BillingRead) -> Response:
    from iotbill.entrypoints.render import document_html, invoice_document

    sheet = invoice_sheet(access.uow(read_only=True), path_id(invoice_id, "invoice"))
    access.own(sheet.customer.id, "invoice", invoice_id)
    return Response(document_html(invoice_document(sheet)), media_type="text/html")


@router.get(
    "/credit-notes/{credit_note_id}.pdf",
    tags=["invoices"],
    summary="A credit note as PDF, in its customer's locale",
    response_class=Response,
    responses={**PDF, **responses(*READ_PROBLEMS)},
)
def credit_note_pdf(credit_note_id: str, access: BillingRead) -> Response:
    from iotbill.entrypoints.render import credit_note_document, document_pdf

    sheet = credit_note_sheet(access.uow(read_only=True), path_id(credit_note_id, "credit note"))
    access.own(sheet.customer.id, "credit note", credit_note_id)
    return _attachment(document_pdf(credit_note_document(sheet)), sheet.credit_note.number, "pdf")


@router.get(
    "/credit-notes/{credit_note_id}.html",
    tags=["invoices"],
    summary="A credit note as one self-contained HTML page",
    response_class=Response,
    responses={**HTML, **responses(*READ_PROBLEMS)},
)
def credit_note_html(credit_note_id: str, access: BillingRead) -> Response:
    from iotbill.entrypoints.render import credit_note_document, document_html

    sheet = credit_note_sheet(access.uow(read_only=True), path_id(credit_note_id, "credit note"))
    access.own(sheet.customer.id, "credit note", credit_note_id)
    return Response(document_html(credit_note_document(sheet)), media_type="text/html")


def _attachment(content: bytes, number: str | None, kind: str) -> Response:
    name = f"{number or 'draft-invoice'}.{kind}"
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )
