"""Readable tables for the terminal."""

from __future__ import annotations

from collections.abc import Mapping
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

from iotbill.domain.invoices import Invoice
from iotbill.domain.money import format_money
from iotbill.domain.preview import Preview
from iotbill.domain.quantities import decimal_text


def print_preview(result: Preview, console: Console | None = None) -> None:
    """The preview as an invoice table, with the event counts beneath it."""
    console = console or Console()
    currency = result.plan.currency
    table = Table(
        title=f"{result.plan.name} ({result.plan.code}), {result.period}",
        title_justify="left",
    )
    table.add_column("Charge")
    table.add_column("Quantity", justify="right")
    table.add_column("Unit price", justify="right")
    table.add_column(f"Amount ({currency.code})", justify="right")
    for line in result.lines:
        table.add_row(
            line.description,
            decimal_text(line.quantity),
            "" if line.unit_price is None else decimal_text(line.unit_price),
            format_money(line.amount, currency),
        )
    table.add_section()
    table.add_row("[bold]Total[/bold]", "", "", f"[bold]{format_money(result.total, currency)}[/]")
    console.print(table)
    console.print(
        f"Events: {result.counted} counted, {result.duplicates} duplicates, "
        f"{len(result.conflicts)} conflicts"
    )


def print_invoice_summary(
    invoices: list[Invoice], zones: Mapping[str, ZoneInfo], console: Console | None = None
) -> None:
    """One row per invoice: number, customer, period in the customer's zone, totals."""
    console = console or Console()
    table = Table()
    table.add_column("Invoice", no_wrap=True)
    table.add_column("Customer", no_wrap=True)
    table.add_column("Period (local)", no_wrap=True)
    table.add_column("Total (tax incl.)", justify="right", no_wrap=True)
    for invoice in sorted(
        invoices, key=lambda invoice: (invoice.customer_id, invoice.number or "")
    ):
        money = invoice.currency
        local = zones.get(invoice.customer_id, ZoneInfo("UTC"))
        start, end = invoice.period.start.astimezone(local), invoice.period.end.astimezone(local)
        table.add_row(
            invoice.number or f"{invoice.id} (draft)",
            invoice.customer_id,
            f"{start:%Y-%m-%d} to {end:%m-%d}",
            f"{format_money(invoice.total, money)} {money.code}",
        )
    console.print(table)
