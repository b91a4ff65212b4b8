"""What an invoice or credit note document shows, read in one unit of work.

A document needs more than the invoice: who sells (the tenant), who buys (the
customer, with its locale, zone and address) and, for an invoice, the credit
notes issued against it. These functions gather them, consistent with one
another, for the renderers in :mod:`iotbill.entrypoints.render`; they write
nothing. An invoice is named by its id or number, a credit note by its number
(which is its id); :class:`~iotbill.domain.errors.NotFound` if there is none.
"""

from __future__ import annotations

from dataclasses import dataclass

from iotbill.domain.customers import Customer
from iotbill.domain.invoices import CreditNote, Invoice
from iotbill.services.invoices import find_invoice
from iotbill.services.ports import Tenant, UnitOfWork


@dataclass(frozen=True, slots=True)
class InvoiceSheet:
    """An invoice with its seller, its customer and the credit notes against it."""

    seller: Tenant
    customer: Customer
    invoice: Invoice
    credit_notes: tuple[CreditNote, ...]


@dataclass(frozen=True, slots=True)
class CreditNoteSheet:
    """A credit note with its seller, its customer and the invoice it credits."""

    seller: Tenant
    customer: Customer
    credit_note: CreditNote
    invoice: Invoice


def invoice_sheet(uow: UnitOfWork, reference: str) -> InvoiceSheet:
    """The invoice with id or number ``reference``, and what its document shows."""
    with uow:
        invoice = find_invoice(uow, reference)
        return InvoiceSheet(
            seller=uow.tenants.get(uow.tenant),
            customer=uow.customers.get(invoice.customer_id),
            invoice=invoice,
            credit_notes=tuple(uow.credit_notes.list(invoice.id)),
        )


def credit_note_sheet(uow: UnitOfWork, number: str) -> CreditNoteSheet:
    """The credit note numbered ``number``, and what its document shows."""
    with uow:
        note = uow.credit_notes.get(number)
        invoice = uow.invoices.get(note.invoice_id)
        return CreditNoteSheet(
            seller=uow.tenants.get(uow.tenant),
            customer=uow.customers.get(invoice.customer_id),
            credit_note=note,
            invoice=invoice,
        )
