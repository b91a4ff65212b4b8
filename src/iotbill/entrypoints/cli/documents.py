"""``iotbill invoices pdf|html`` and ``iotbill credit-notes pdf|html``: documents to files.

A document is written whole or not at all: it is written to a temporary file
beside ``--output`` and renamed into place, so an existing file is replaced
only by a complete document. ``--json`` prints what was written.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from iotbill.entrypoints.cli.errors import report_errors
from iotbill.entrypoints.cli.storage import JsonOption
from iotbill.entrypoints.cli.store_options import (
    DEFAULT_TENANT,
    DatabaseOption,
    TenantOption,
    open_store,
)

if TYPE_CHECKING:
    from iotbill.entrypoints.render import Document

Format = Literal["pdf", "html"]
InvoiceReference = Annotated[str, typer.Argument(help="Invoice number (INV-2026-000001) or id.")]
NoteReference = Annotated[str, typer.Argument(help="Credit note number (CN-2026-000001).")]
OutputOption = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="File to write (default: NUMBER.pdf or NUMBER.html)."),
]


def register(invoices_app: typer.Typer, credit_notes_app: typer.Typer) -> None:
    """Add ``pdf`` and ``html`` to the ``invoices`` and ``credit-notes`` groups."""
    invoices_app.command("pdf")(invoice_pdf_command)
    invoices_app.command("html")(invoice_html_command)
    credit_notes_app.command("pdf")(credit_note_pdf_command)
    credit_notes_app.command("html")(credit_note_html_command)


@report_errors
def invoice_pdf_command(
    reference: InvoiceReference,
    output: OutputOption = None,
    tenant: TenantOption = DEFAULT_TENANT,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write an invoice as PDF, in its customer's locale. Exit code 3 if unknown.

    A finalized invoice gives the same bytes every time while its status,
    credits and payments stay the same.
    """
    _write_invoice(reference, "pdf", output, tenant, database, as_json)


@report_errors
def invoice_html_command(
    reference: InvoiceReference,
    output: OutputOption = None,
    tenant: TenantOption = DEFAULT_TENANT,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write an invoice as one self-contained HTML page. Exit code 3 if unknown."""
    _write_invoice(reference, "html", output, tenant, database, as_json)


@report_errors
def credit_note_pdf_command(
    reference: NoteReference,
    output: OutputOption = None,
    tenant: TenantOption = DEFAULT_TENANT,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write a credit note as PDF, in its customer's locale. Exit code 3 if unknown."""
    _write_credit_note(reference, "pdf", output, tenant, database, as_json)


@report_errors
def credit_note_html_command(
    reference: NoteReference,
    output: OutputOption = None,
    tenant: TenantOption = DEFAULT_TENANT,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write a credit note as one self-contained HTML page. Exit code 3 if unknown."""
    _write_credit_note(reference, "html", output, tenant, database, as_json)


def _write_invoice(
    reference: str,
    kind: Format,
    output: Path | None,
    tenant: str,
    database: str | None,
    as_json: bool,
) -> None:
    from iotbill.entrypoints.render import invoice_document
    from iotbill.services.documents import invoice_sheet

    sheet = invoice_sheet(open_store(database)(tenant), reference)
    name = sheet.invoice.number or sheet.invoice.id.replace("/", "_")
    _write(invoice_document(sheet), name, kind, output, as_json)


def _write_credit_note(
    reference: str,
    kind: Format,
    output: Path | None,
    tenant: str,
    database: str | None,
    as_json: bool,
) -> None:
    from iotbill.entrypoints.render import credit_note_document
    from iotbill.services.documents import credit_note_sheet

    sheet = credit_note_sheet(open_store(database)(tenant), reference)
    _write(credit_note_document(sheet), sheet.credit_note.number, kind, output, as_json)


def _write(document: Document, name: str, kind: Format, output: Path | None, as_json: bool) -> None:
    from iotbill.domain.errors import InvalidInput
    from iotbill.entrypoints.cli.output import print_json
    from iotbill.entrypoints.render import document_html, document_pdf

    target = output if output is not None else Path(f"{name}.{kind}")
    content = document_pdf(document) if kind == "pdf" else document_html(document).encode()
    partial = target.with_name(f".{target.name}.partial")
    try:
        partial.write_bytes(content)
        partial.replace(target)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise InvalidInput.at("--output", f"cannot write {target}: {error.strerror}") from None
    if as_json:
        print_json({"document": name, "format": kind, "file": str(target), "bytes": len(content)})
    else:
        typer.echo(f"wrote {document.title} to {target} ({len(content):,} bytes)")
