"""Invoices and credit notes as HTML and PDF documents.

Owns: the spelling of amounts, numbers and dates in a customer's locale
(:mod:`.spelling`, through Babel, after the domain's rounding), the document
of an invoice or credit note (:mod:`.documents`), its HTML page (:mod:`.html`,
Jinja2) and its PDF (:mod:`.pdf`, WeasyPrint). It computes no money: amounts
come rounded from the domain and are only spelled here. It does not own what a
document shows (gathered by :mod:`iotbill.services.documents`) nor how a
document is asked for (the command line, the HTTP API).
"""

from __future__ import annotations

from iotbill.entrypoints.render.documents import (
    Document,
    credit_note_document,
    invoice_document,
)
from iotbill.entrypoints.render.html import document_html
from iotbill.entrypoints.render.pdf import document_pdf

__all__ = [
    "Document",
    "credit_note_document",
    "document_html",
    "document_pdf",
    "invoice_document",
]
