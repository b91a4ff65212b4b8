"""``iotbill bill-run``: close every billing period that has ended, exactly once."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from iotbill.entrypoints.cli.errors import EXIT_INVALID_INPUT
from iotbill.entrypoints.cli.session import session, store_command

if TYPE_CHECKING:
    from iotbill.services.billing import BillRunReport


def register(app: typer.Typer) -> None:
    """Add the ``bill-run`` command to ``app``."""
    app.command("bill-run")(store_command(bill_run_command))


def bill_run_command(
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="Close periods ending by this instant (with an offset); default now."
        ),
    ] = None,
    grace_hours: Annotated[
        int | None,
        typer.Option(
            "--grace-hours",
            min=0,
            help="Hours an invoice stays a draft, so late events still count"
            " (default: $IOTBILL_GRACE_HOURS, else 0).",
        ),
    ] = None,
) -> None:
    """Issue the invoices of every period that ended by --as-of; finalize due drafts.

    Idempotent and restartable: run it twice, or again after it was
    interrupted, and every invoice exists exactly once, numbered without gaps.
    A subscription whose stored events its meters refuse is held (named on
    standard error with the event and the reason; exit 2) while the others are
    billed: void or correct the event, and the next run bills it.
    """
    from iotbill.entrypoints.cli.options import parse_instant
    from iotbill.entrypoints.cli.progress import progress_bar
    from iotbill.services.billing import bill_run

    current = session()
    now = current.now()
    cutoff = now if as_of is None else parse_instant(as_of, "--as-of")
    hours = current.settings.grace_hours if grace_hours is None else grace_hours
    with progress_bar("billing subscriptions", enabled=not current.as_json) as advance:
        report = bill_run(
            current.uow_factory,
            current.tenant,
            as_of=cutoff,
            now=now,
            grace=timedelta(hours=hours),
            progress=advance,
        )
    current.emit(report.as_json(), lambda: _print_report(report))
    for held in report.held:
        typer.echo(f"held {held.subscription}: {held.reason}", err=True)
    if report.held:
        raise typer.Exit(EXIT_INVALID_INPUT)


def _print_report(report: BillRunReport) -> None:
    """The counts, then each invoice the run issued, revised or finalized, with its customer
    and total."""
    from iotbill.entrypoints.cli.output import counted
    from iotbill.entrypoints.cli.render import print_invoice_summary
    from iotbill.services.customers import list_customers
    from iotbill.services.invoices import get_invoice

    current = session()
    held = f", {counted(len(report.held), 'subscription')} held" if report.held else ""
    typer.echo(
        f"{counted(len(report.issued), 'invoice')} issued, "
        f"{counted(len(report.revised), 'draft')} revised, "
        f"{len(report.finalized):,} finalized{held}"
    )
    touched = {}
    for reference in (*report.issued, *report.revised, *report.finalized):
        invoice = get_invoice(current.uow(), reference)
        touched[invoice.id] = invoice
    if touched:
        zones = {customer.id: customer.timezone for customer in list_customers(current.uow())}
        print_invoice_summary(list(touched.values()), zones, "Invoices of this run")
