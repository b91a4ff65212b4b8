"""Readable tables for the terminal."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

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
