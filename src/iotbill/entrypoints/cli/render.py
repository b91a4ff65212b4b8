"""Tables of several commands: a preview, and a summary of invoices."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import typer

from iotbill.domain.money import format_money
from iotbill.domain.quantities import decimal_text
from iotbill.entrypoints.cli.output import bold, counted, period_text, print_table, table

if TYPE_CHECKING:
    from rich.console import Console

    from iotbill.domain.invoices import Invoice
    from iotbill.domain.preview import Preview


def print_preview(result: Preview, console: Console | None = None) -> None:
    """The preview as an invoice table, with the event counts beneath it."""
    currency = result.plan.currency
    shown = table(
        f"{result.plan.name} ({result.plan.code}), {result.period}",
        "Charge",
        "Quantity>",
        "Unit price>",
        f"Amount ({currency.code})>",
        key_first=False,
    )
    for line in result.lines:
        shown.add_row(
            line.description,
            decimal_text(line.quantity),
            "" if line.unit_price is None else decimal_text(line.unit_price),
            format_money(line.amount, currency),
        )
    shown.add_section()
    shown.add_row(bold("Total"), "", "", bold(format_money(result.total, currency)))
    print_table(shown, console)
    counts = (
        f"Events: {result.counted:,} counted, {counted(result.duplicates, 'duplicate')}, "
        f"{counted(len(result.conflicts), 'conflict')}"
    )
    if console is None:
        typer.echo(counts)
    else:
        console.print(counts)


def print_invoice_summary(
    invoices: list[Invoice],
    zones: Mapping[str, str],
    title: str = "Invoices",
    console: Console | None = None,
) -> None:
    """One row per invoice, by customer then number: number (or id, for a draft), status,
    customer, period in the customer's zone (``zones``: customer id to IANA zone), total
    with tax."""
    shown = table(title, "Invoice", "Status", "Customer", "Period (local)", "Total (tax incl.)>")
    for invoice in sorted(
        invoices, key=lambda invoice: (invoice.customer_id, invoice.number or "")
    ):
        money = invoice.currency
        shown.add_row(
            invoice.number or invoice.id,
            invoice.status,
            invoice.customer_id,
            period_text(invoice.period, zones.get(invoice.customer_id, "UTC")),
            f"{format_money(invoice.total, money)} {money.code}",
        )
    print_table(shown, console)
