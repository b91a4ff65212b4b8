"""``iotbill plans apply|list|show``: the versioned catalog of plans."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

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
    from iotbill.services.ports import StoredPlan

plans_app = typer.Typer(help="Plans, stored with versions.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the ``plans`` group to ``app``."""
    app.add_typer(plans_app, name="plans")


@plans_app.command("apply")
@report_errors
def apply_command(
    file: Annotated[str, typer.Argument(help="Plan file, YAML or JSON (- for stdin).")],
    tenant: TenantOption = DEFAULT_TENANT,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Store a plan file as a new version of its plan, unless nothing changed.

    Editing a plan and applying it again stores the next version; existing
    subscriptions keep theirs until `subscriptions migrate`. Applying the same
    plan again stores nothing and says so. A plan keeps its currency and
    interval. Exit codes: 0 ok, 2 invalid plan (nothing stored).
    """
    from iotbill.adapters.event_files import read_bytes
    from iotbill.adapters.plan_files import parse_plan_document
    from iotbill.bootstrap import system_clock
    from iotbill.domain.errors import InvalidInput
    from iotbill.entrypoints.cli.output import print_json
    from iotbill.entrypoints.views import plan_json
    from iotbill.services.catalog import apply_plan

    source = "<stdin>" if file == "-" else file
    try:
        text = read_bytes(file).decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidInput.at(source, f"is not UTF-8 text ({error.reason})") from None
    uow = open_store(database)(tenant)
    applied = apply_plan(uow, parse_plan_document(text, source), system_clock())
    stored = applied.stored
    if as_json:
        print_json({**plan_json(stored, document=False), "created": applied.created})
    elif applied.created:
        typer.echo(f"plan {stored.plan.code}: stored version {stored.version}")
    else:
        typer.echo(
            f"plan {stored.plan.code}: unchanged, the same as version {stored.version}"
            " (nothing stored)"
        )


@plans_app.command("list")
@report_errors
def list_command(
    tenant: TenantOption = DEFAULT_TENANT,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """List every plan at its latest version."""
    from iotbill.entrypoints.cli.output import print_json, print_table, table
    from iotbill.entrypoints.views import plan_json
    from iotbill.services.catalog import list_plans

    plans = list_plans(open_store(database)(tenant))
    if as_json:
        print_json([plan_json(stored, document=False) for stored in plans])
        return
    shown = table("Plans", "Code", "Version>", "Name", "Currency", "Interval", "Applied (UTC)")
    for stored in plans:
        plan = stored.plan
        shown.add_row(
            plan.code,
            str(stored.version),
            plan.name,
            plan.currency.code,
            plan.interval,
            stored.created_at.strftime("%Y-%m-%d %H:%M"),
        )
    print_table(shown)


@plans_app.command("show")
@report_errors
def show_command(
    code: Annotated[str, typer.Argument(help="Plan code.")],
    version: Annotated[
        int | None, typer.Option("--version", min=1, help="Version (default: the latest).")
    ] = None,
    tenant: TenantOption = DEFAULT_TENANT,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one version of a plan: its fees and charges (--json adds the document as applied)."""
    from iotbill.entrypoints.cli.output import print_json
    from iotbill.entrypoints.views import plan_json
    from iotbill.services.catalog import plan_versions, show_plan

    open_uow = open_store(database)
    stored = show_plan(open_uow(tenant), code, version)
    versions = [found.version for found in plan_versions(open_uow(tenant), code)]
    if as_json:
        print_json({**plan_json(stored), "versions": versions})
        return
    _print_plan(stored, versions)


def _print_plan(stored: StoredPlan, versions: list[int]) -> None:
    from iotbill.entrypoints.cli.output import print_table, table
    from iotbill.entrypoints.views import plan_json

    view = plan_json(stored)
    plan = stored.plan
    typer.echo(f"{plan.name} ({plan.code}) version {stored.version} of {versions[-1]}")
    typer.echo(f"{plan.currency.code}, billed every {plan.interval}")
    if plan.description:
        typer.echo(plan.description)
    shown = table("Charges", "Code", "Name", "Kind", "Meter or timing", "Price")
    for fee in view["fixed_fees"]:
        shown.add_row(fee["code"], fee["name"], "fixed fee", fee["timing"], fee["amount"])
    meters = {meter["code"]: meter for meter in view["meters"]}
    for charge in view["charges"]:
        meter = meters.get(charge["meter"])
        reads = "-" if meter is None else f"{meter['aggregation']} of {meter['event_type']}"
        shown.add_row(charge["code"], charge["name"], "usage", reads, charge["model"])
    print_table(shown)
    typer.echo(f"Versions: {', '.join(map(str, versions))}")
