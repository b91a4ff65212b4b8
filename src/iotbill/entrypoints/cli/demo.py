"""``iotbill demo``: a month of IoT billing in a fresh embedded database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from iotbill.entrypoints.cli.output import counted, print_json

DEFAULT_DEMO_DATABASE = "iotbill-demo.db"


def register(app: typer.Typer) -> None:
    """Add the ``demo`` command to ``app``."""
    app.command("demo")(demo_command)


def demo_command(
    database: Annotated[
        Path, typer.Option("--database", help="The SQLite file to create (replaced if present).")
    ] = Path(DEFAULT_DEMO_DATABASE),
    seed: Annotated[int, typer.Option("--seed", help="Seed of the generated telemetry.")] = 2026,
    as_json: Annotated[bool, typer.Option("--json", help="Print the invoices as JSON.")] = False,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="Bill one business model over several periods instead (docs/models.md);"
            " 'all' for every model in one tenant.",
        ),
    ] = None,
) -> None:
    """Bill three IoT businesses for January 2026, end to end, in a new SQLite database.

    Creates the database, a tenant, customers in three currencies and time
    zones, their devices and subscriptions to the example plans; generates a
    month of seeded telemetry; ingests it; runs the bill run; prints the
    invoices. Running it again replaces the previous demo database. With
    ``--model NAME``, tells that business model's story instead, billing each
    of its periods; ``--model all`` tells every model's story in one tenant.
    Exit code 2 for an unknown model.
    """
    from iotbill.adapters.storage.sql.engine import create_engine_for, upgrade
    from iotbill.adapters.storage.sql.unit_of_work import sql_unit_of_work_factory
    from iotbill.demo.scenario import CUSTOMERS, TENANT, run_demo

    if model is not None:
        _model_demo(database, model, seed, as_json)
        return
    path = database.resolve()
    replaced = _remove_database(path)
    engine = create_engine_for(str(path))
    try:
        upgrade(engine)
        result = run_demo(sql_unit_of_work_factory(engine), seed)
    finally:
        engine.dispose()
    if as_json:
        print_json([invoice.as_json() for invoice in result.invoices])
        return
    from iotbill.entrypoints.cli.render import print_invoice_summary

    if replaced:
        typer.echo(f"Replaced the previous demo database at {path}.")
    events = result.events
    typer.echo(
        f"Ingested {counted(events.accepted, 'event')} "
        f"({counted(events.duplicates, 'duplicate')}, {len(events.rejected):,} rejected)"
        " and billed January 2026:"
    )
    print_invoice_summary(
        result.invoices, {customer.id: customer.timezone for customer in CUSTOMERS}
    )
    typer.echo(f"\nThe demo database is {path} (tenant {TENANT.code!r}). Look around:")
    typer.echo(f"  iotbill invoices list --database {path} --tenant {TENANT.code}")
    first = result.invoices[-1].number if result.invoices else "INV-2026-000001"
    typer.echo(f"  iotbill invoices show {first} --database {path} --tenant {TENANT.code}")


def _model_demo(database: Path, name: str, seed: int, as_json: bool) -> None:
    """Run the demo of the business model ``name`` in a new database at ``database``."""
    from iotbill.adapters.storage.sql.engine import create_engine_for, upgrade
    from iotbill.adapters.storage.sql.unit_of_work import sql_unit_of_work_factory
    from iotbill.demo.models import model_demos
    from iotbill.demo.models.runner import TENANT, run_models
    from iotbill.entrypoints.cli.invoices import print_invoice

    demos = model_demos(name)
    path = database.resolve()
    _remove_database(path)
    engine = create_engine_for(str(path))
    try:
        upgrade(engine)
        open_uow = sql_unit_of_work_factory(engine)
        result = run_models(open_uow, demos, seed)
        with open_uow(TENANT.code, read_only=True) as uow:  # with those a story's steps added
            zones = {customer.id: customer.timezone for customer in uow.customers.list()}
    finally:
        engine.dispose()
    if as_json:
        print_json([invoice.as_json() for invoice in result.invoices])
        return
    for demo in demos:
        typer.echo(f"{demo.name}: {demo.story}")
    typer.echo(
        f"Ingested {counted(result.events, 'event')} and billed"
        f" {counted(len(result.invoices), 'invoice')}:"
    )
    for invoice in result.invoices:
        print_invoice(invoice, zones[invoice.customer_id], [])
    typer.echo(f"\nThe demo database is {path} (tenant {TENANT.code!r}).")


def _remove_database(path: Path) -> bool:
    """Delete the SQLite file at ``path`` and its journal files; whether there was one."""
    from iotbill.domain.errors import InvalidInput

    if path.is_dir():
        raise InvalidInput.at("--database", f"{path} is a directory, not a database file")
    existed = path.exists()
    for suffix in ("", "-wal", "-shm", "-journal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    return existed
