"""``iotbill db upgrade``, ``iotbill tenants add|list`` and ``iotbill ingest``."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from iotbill.entrypoints.cli.errors import EXIT_INVALID_INPUT, report_errors
from iotbill.entrypoints.cli.store_options import (
    DEFAULT_TENANT,
    DatabaseOption,
    TenantOption,
    open_engine,
    open_store,
)

if TYPE_CHECKING:
    from iotbill.services.ports import Tenant

MAX_SHOWN = 50
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]

db_app = typer.Typer(help="The store's schema.", no_args_is_help=True)
tenants_app = typer.Typer(
    help="Tenants: the companies billing with this store.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    """Add ``db``, ``tenants`` and ``ingest`` to ``app``."""
    app.add_typer(db_app, name="db")
    app.add_typer(tenants_app, name="tenants")
    app.command("ingest")(ingest_command)


@db_app.command("upgrade")
@report_errors
def upgrade_command(database: DatabaseOption = None) -> None:
    """Create the schema, or migrate it to the latest version (safe to repeat)."""
    from iotbill.adapters.storage.sql.engine import upgrade

    engine = open_engine(database)
    upgrade(engine)
    typer.echo(f"{engine.url.render_as_string(hide_password=True)}: schema is up to date")


@tenants_app.command("add")
@report_errors
def add_tenant_command(
    code: Annotated[str, typer.Argument(help="Tenant code, e.g. acme.")],
    name: Annotated[str | None, typer.Option("--name", help="Display name.")] = None,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a tenant."""
    from iotbill.domain.errors import InvalidInput
    from iotbill.domain.input_rules import id_problem, text_problem
    from iotbill.services.ports import Tenant

    if not code.strip():
        raise InvalidInput.at("code", "must be a non-empty string")
    if (wrong := id_problem("tenant", code)) is not None:
        raise InvalidInput.at("code", wrong)
    if name is not None and (wrong := text_problem(name)) is not None:
        raise InvalidInput.at("--name", wrong)
    tenant = Tenant(code, name or code)
    with open_store(database)(DEFAULT_TENANT) as uow:
        uow.tenants.add(tenant)
        uow.commit()
    typer.echo(json.dumps(_tenant_json(tenant)) if as_json else f"added tenant {code}")


@tenants_app.command("list")
@report_errors
def list_tenants_command(database: DatabaseOption = None, as_json: JsonOption = False) -> None:
    """List the tenants."""
    with open_store(database)(DEFAULT_TENANT) as uow:
        tenants = uow.tenants.list()
    if as_json:
        typer.echo(json.dumps([_tenant_json(tenant) for tenant in tenants], indent=2))
        return
    for tenant in tenants:
        typer.echo(f"{tenant.code}\t{tenant.name}")


def _tenant_json(tenant: Tenant) -> dict[str, str]:
    return {"code": tenant.code, "name": tenant.name}


@report_errors
def ingest_command(
    file: Annotated[str, typer.Argument(help="Usage events, JSON Lines (- for stdin).")],
    atomic: Annotated[
        bool, typer.Option("--atomic", help="Store nothing if any line is rejected.")
    ] = False,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Most events per transaction.")
    ] = 100_000,
    writers: Annotated[
        int,
        typer.Option(
            "--writers",
            min=1,
            help="Batches stored at once, each on its own connection "
            "(PostgreSQL writes them side by side; SQLite one at a time).",
        ),
    ] = 2,
    clock_skew_hours: Annotated[
        int,
        typer.Option(
            "--clock-skew-hours",
            min=0,
            help="How far after now an event may be stamped (a device clock running fast); "
            "later events are rejected.",
        ),
    ] = 24,
    tenant: TenantOption = DEFAULT_TENANT,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Store usage events; report accepted, duplicates and rejected lines.

    Each event is billed to its device's owner at the event's timestamp; events
    of unknown devices, and events a meter billing them refuses (e.g. a negative
    quantity where the meter forbids it), are rejected with their line.
    Re-ingesting a file stores nothing twice. An id repeated with other content is
    a conflict: the first event stands, and the line is listed under 'conflicts'.
    Exit codes: 0 all stored (or duplicates), 2 some lines rejected (with --atomic:
    then nothing is stored) or in conflict.
    """
    from iotbill.adapters.event_import import EventFile
    from iotbill.bootstrap import system_clock
    from iotbill.services.ingest import ingest_lines

    uow_factory = open_store(database)
    events = EventFile(file)
    from iotbill.entrypoints.cli.progress import progress_bar

    with progress_bar("ingesting", events.lines, enabled=not as_json) as advance:
        report = ingest_lines(
            uow_factory,
            tenant,
            events,
            clock=system_clock(),
            atomic=atomic,
            batch_size=batch_size,
            writers=writers,
            on_progress=advance,
            clock_skew=timedelta(hours=clock_skew_hours),
        )
    if as_json:
        typer.echo(json.dumps(report.as_json(), indent=2))
    else:
        note = " (--atomic: nothing stored)" if atomic and report.rejected else ""
        typer.echo(
            f"{report.accepted} accepted, {report.duplicates} duplicates, "
            f"{len(report.conflicts)} conflicts, {len(report.rejected)} rejected{note}"
        )
        source = "<stdin>" if file == "-" else file
        problems = sorted(
            [(r.line, r.reason) for r in report.rejected]
            + [(c.line, c.reason) for c in report.conflicts]
        )
        for line, reason in problems[:MAX_SHOWN]:
            typer.echo(f"{source}:{line}: {reason}", err=True)
        if len(problems) > MAX_SHOWN:
            typer.echo(f"... and {len(problems) - MAX_SHOWN} more", err=True)
    if report.rejected or report.conflicts:
        raise typer.Exit(EXIT_INVALID_INPUT)
