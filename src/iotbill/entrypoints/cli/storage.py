"""``iotbill db upgrade`` and ``iotbill tenants add|list``: the store itself."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from iotbill.entrypoints.cli.session import session, store_group

if TYPE_CHECKING:
    from iotbill.services.ports import Tenant

db_app = typer.Typer(help="The store's schema.", no_args_is_help=True)
tenants_app = store_group(help="Tenants: the companies billing with this store.", for_tenant=False)


def register(app: typer.Typer) -> None:
    """Add ``db`` and ``tenants`` to ``app``."""
    app.add_typer(db_app, name="db")
    app.add_typer(tenants_app, name="tenants")


@db_app.command("upgrade")
def upgrade_command(
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            help="Store URL or SQLite file (default: $IOTBILL_DATABASE_URL, else ./iotbill.db).",
        ),
    ] = None,
) -> None:
    """Create the schema, or migrate it to the latest version (safe to repeat); says which.

    Exit codes: 0 ok, 5 the store cannot be created or reached (one line naming
    --database and why).
    """
    from iotbill.adapters.storage.sql.engine import schema_is_current, upgrade
    from iotbill.bootstrap import load_settings, open_engine

    engine = open_engine(load_settings(database_url=database))
    try:
        current = schema_is_current(engine)
        before = () if current else upgrade(engine)
    finally:
        engine.dispose()
    shown = engine.url.render_as_string(hide_password=True)
    if current:
        typer.echo(f"{shown}: schema is up to date")
    elif before:
        typer.echo(f"{shown}: schema migrated from revision {', '.join(before)} to the latest")
    else:
        typer.echo(f"{shown}: schema created")


@tenants_app.command("add")
def add_tenant_command(
    code: Annotated[str, typer.Argument(help="Tenant code, e.g. acme.")],
    name: Annotated[str | None, typer.Option("--name", help="Display name.")] = None,
) -> None:
    """Add a tenant."""
    from iotbill.domain.errors import InvalidInput
    from iotbill.domain.input_rules import id_problem, text_problem
    from iotbill.services.ports import DEFAULT_TENANT, Tenant

    if not code.strip():
        raise InvalidInput.at("code", "must be a non-empty string")
    if (wrong := id_problem("tenant", code)) is not None:
        raise InvalidInput.at("code", wrong)
    if name is not None and (wrong := text_problem(name)) is not None:
        raise InvalidInput.at("--name", wrong)
    tenant = Tenant(code, name or code)
    current = session()
    with current.uow_factory(DEFAULT_TENANT) as uow:  # the directory of tenants is shared
        uow.tenants.add(tenant)
        uow.commit()
    current.emit(_tenant_json(tenant), f"added tenant {code}")


@tenants_app.command("credits")
def tenant_credits_command(
    code: Annotated[str, typer.Argument(help="Tenant code.")],
    timing: Annotated[
        str, typer.Argument(help="after_tax (default: credits settle what is due) or before_tax.")
    ],
) -> None:
    """Choose when the tenant's invoices use customers' credits: after tax, on what is due,
    or before tax, as a line that lowers the taxed subtotal.

    Exit codes: 0 ok, 2 invalid input, 3 unknown tenant.
    """
    from iotbill.entrypoints.cli.output import flag_names
    from iotbill.services.balance import set_credit_timing

    current = session()
    with flag_names(credits="TIMING"):
        tenant = set_credit_timing(current.uow_factory(code), timing)
    current.emit(_tenant_json(tenant), f"tenant {code} uses credits {timing.replace('_', ' ')}")


@tenants_app.command("list")
def list_tenants_command() -> None:
    """List the tenants."""
    from iotbill.services.ports import DEFAULT_TENANT

    current = session()
    with current.uow_factory(DEFAULT_TENANT) as uow:
        tenants = uow.tenants.list()
    current.emit(
        [_tenant_json(tenant) for tenant in tenants],
        "\n".join(f"{tenant.code}\t{tenant.name}" for tenant in tenants) or None,
    )


def _tenant_json(tenant: Tenant) -> dict[str, str]:
    return {"code": tenant.code, "name": tenant.name, "credits": tenant.credits}
