"""A document's HTML printed to PDF by WeasyPrint, byte for byte the same every time.

WeasyPrint writes no render time of its own: a PDF's dates are the document's
(``created``: when the invoice was finalized, or issued while a draft;
``modified``: its latest payment, voiding or credit note), taken from the
page's ``dcterms`` metadata, and the file identifier is derived from the
content. So rendering a finalized invoice twice, with the same status, credits
and payments, gives the same bytes (tested), on the same WeasyPrint and fonts.
"""

from __future__ import annotations

from iotbill.entrypoints.render.documents import Document
from iotbill.entrypoints.render.html import document_html


def document_pdf(document: Document) -> bytes:
    """The document as PDF bytes (A4)."""
    from weasyprint import HTML

    pdf = HTML(string=document_html(document)).write_pdf(uncompressed_pdf=False)
    assert isinstance(pdf, bytes)
    return pdf
