"""``iotbill bill-run``: close every billing period that has ended, exactly once."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated

import typer

from iotbill.entrypoints.cli.errors import report_errors
from iotbill.entrypoints.cli.store_options import (
    DEFAULT_TENANT,
    DatabaseOption,
    TenantOption,
    open_store,
)


def register(app: typer.Typer) -> None:
    """Add the ``bill-run`` command to ``app``."""
    app.command("bill-run")(bill_run_command)


@report_errors
def bill_run_command(
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="Close periods ending by this instant (with an offset); default now."
        ),
    ] = None,
    grace_hours: Annotated[
        int,
        typer.Option(
            "--grace-hours",
            min=0,
            envvar="IOTBILL_GRACE_HOURS",
            help="Hours an invoice stays a draft, so late events still count.",
        ),
    ] = 0,
    tenant: TenantOption = DEFAULT_TENANT,
    database: DatabaseOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Issue the invoices of every period that ended by --as-of; finalize due drafts.

    Idempotent and restartable: run it twice, or again after it was
    interrupted, and every invoice exists exactly once, numbered without gaps.
    A subscription whose stored events its meters refuse is held (named on
    standard error with the event and the reason; exit 2) while the others are
    billed: void or correct the event, and the next run bills it.
    """
    from iotbill.bootstrap import system_clock
    from iotbill.entrypoints.cli.options import parse_instant
    from iotbill.entrypoints.cli.progress import progress_bar
    from iotbill.services.billing import bill_run

    now = system_clock().now()
    cutoff = now if as_of is None else parse_instant(as_of, "--as-of")
    open_uow = open_store(database)
    with progress_bar("billing subscriptions", enabled=not as_json) as advance:
        report = bill_run(
            open_uow,
            tenant,
            as_of=cutoff,
            now=now,
            grace=timedelta(hours=grace_hours),
            progress=advance,
        )
    if as_json:
        typer.echo(json.dumps(report.as_json(), indent=2))
    else:
        typer.echo(
            f"{len(report.issued)} invoices issued, {len(report.revised)} drafts revised, "
            f"{len(report.finalized)} finalized"
            + (f", {len(report.held)} subscriptions held" if report.held else "")
        )
        for number in report.finalized:
            typer.echo(f"  {number}")
    for held in report.held:
        typer.echo(f"held {held.subscription}: {held.reason}", err=True)
    if report.held:
        raise typer.Exit(2)
