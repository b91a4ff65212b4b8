"""``iotbill plans apply|list|show|archive``: the versioned catalog of plans."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from iotbill.entrypoints.cli.session import session, store_group

if TYPE_CHECKING:
    from iotbill.domain.catalog import Meter
    from iotbill.domain.pricing import PriceModel
    from iotbill.services.ports import StoredPlan

plans_app = store_group(help="Plans, stored with versions.")


def register(app: typer.Typer) -> None:
    """Add the ``plans`` group to ``app``."""
    app.add_typer(plans_app, name="plans")


@plans_app.command("apply")
def apply_command(
    file: Annotated[str, typer.Argument(help="Plan file, YAML or JSON (- for stdin).")],
) -> None:
    """Store a plan file as a new version of its plan, unless nothing changed.

    Editing a plan and applying it again stores the next version; existing
    subscriptions keep theirs until `subscriptions migrate`. Applying the same
    plan again stores nothing and says so. A plan keeps its currency and
    interval. Exit codes: 0 ok, 2 invalid plan (nothing stored).
    """
    from iotbill.adapters.event_files import read_bytes
    from iotbill.adapters.plan_files import parse_plan_document, plan_text
    from iotbill.entrypoints.views import plan_json
    from iotbill.services.catalog import apply_plan

    source = "<stdin>" if file == "-" else file
    text = plan_text(read_bytes(file), source)
    current = session()
    uow = current.uow()
    applied = apply_plan(uow, parse_plan_document(text, source), current.clock)
    stored = applied.stored
    current.emit(
        {**plan_json(stored, document=False), "created": applied.created},
        f"plan {stored.plan.code}: stored version {stored.version}"
        if applied.created
        else f"plan {stored.plan.code}: unchanged, the same as version {stored.version}"
        " (nothing stored)",
    )


@plans_app.command("list")
def list_command() -> None:
    """List every plan at its latest version."""
    from iotbill.entrypoints.cli.output import print_table, table
    from iotbill.entrypoints.views import plan_json
    from iotbill.services.catalog import archived_plans, list_plans

    current = session()
    plans = list_plans(current.uow())
    archived = archived_plans(current.uow())
    shown = table(
        "Plans", "Code", "Version>", "Name", "Currency", "Interval", "Applied (UTC)", "Archived"
    )
    for stored in plans:
        plan = stored.plan
        since = archived.get(plan.code)
        shown.add_row(
            plan.code,
            str(stored.version),
            plan.name,
            plan.currency.code,
            plan.interval,
            stored.created_at.strftime("%Y-%m-%d %H:%M"),
            "-" if since is None else since.strftime("%Y-%m-%d %H:%M UTC"),
        )
    current.emit(
        [
            {
                **plan_json(stored, document=False),
                "archived_at": None if (at := archived.get(stored.plan.code)) is None else _iso(at),
            }
            for stored in plans
        ],
        lambda: print_table(shown),
    )


@plans_app.command("archive")
def archive_command(
    code: Annotated[str, typer.Argument(help="Plan code.")],
    at: Annotated[
        str | None,
        typer.Option("--at", help="Archived from (default: now): a time with an offset."),
    ] = None,
) -> None:
    """Archive a plan: it takes no new subscriptions (subscriptions create, change and
    migrate refuse it), while the subscriptions on it keep billing at their versions.

    Exit codes: 0 ok, 2 invalid --at, 3 unknown plan, 4 archived already.
    """
    from iotbill.services.catalog import archive_plan

    current = session()
    moment = current.instant_or_now(at, "--at")
    archived = archive_plan(current.uow(), code, moment)
    current.emit(
        {"code": code, "archived_at": _iso(archived)},
        f"archived plan {code} from {_iso(archived)}: no new subscriptions; those on it keep"
        " billing",
    )


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat()


@plans_app.command("show")
def show_command(
    code: Annotated[str, typer.Argument(help="Plan code.")],
    version: Annotated[
        int | None, typer.Option("--version", min=1, help="Version (default: the latest).")
    ] = None,
) -> None:
    """Show one version of a plan: its fees and charges (--json adds the document as applied)."""
    from iotbill.entrypoints.views import plan_json
    from iotbill.services.catalog import plan_versions, show_plan

    current = session()
    stored = show_plan(current.uow(), code, version)
    versions = [found.version for found in plan_versions(current.uow(), code)]
    current.emit({**plan_json(stored), "versions": versions}, lambda: _print_plan(stored, versions))


def _print_plan(stored: StoredPlan, versions: list[int]) -> None:
    from iotbill.domain.money import format_money
    from iotbill.entrypoints.cli.output import print_table, table

    plan = stored.plan
    typer.echo(f"{plan.name} ({plan.code}) version {stored.version} of {versions[-1]}")
    typer.echo(f"{plan.currency.code}, billed every {plan.interval}")
    if plan.description:
        typer.echo(plan.description)
    shown = table(
        "Charges", "Code", "Name", "Kind", "Meter or timing", f"Price ({plan.currency.code})"
    )
    for fee in plan.fixed_fees:
        amount = format_money(fee.amount, plan.currency)
        shown.add_row(fee.code, fee.name or fee.code, "fixed fee", fee.timing, amount)
    meters = {meter.code: meter for meter in plan.meters}
    for charge in plan.charges:
        meter = meters.get(charge.meter or "")
        reads = "-" if meter is None else meter_reads(meter)
        price = "\n".join(price_lines(charge.model))
        shown.add_row(charge.code, charge.name or charge.code, "usage", reads, price)
    print_table(shown)
    if plan.thresholds:
        amounts = ", ".join(format_money(amount, plan.currency) for amount in plan.thresholds)
        typer.echo(f"Interim invoices when a period's usage reaches: {amounts}")
    for label, bound in (
        ("Minimum commitment", plan.commitment.minimum),
        ("Maximum", plan.commitment.maximum),
    ):
        if bound is not None:
            typer.echo(f"{label} of its charges: {format_money(bound, plan.currency)} a period")
    typer.echo(f"Versions: {', '.join(map(str, versions))}")


def price_lines(model: PriceModel) -> list[str]:
    """A price model in words, one line per tier: ``graduated``, ``0 to 1000: 0.50 each``,
    ``above 1000: 0.30 each``; amounts exactly as the plan gives them."""
    from iotbill.domain.pricing.dynamic import Dynamic
    from iotbill.domain.pricing.flat import Flat
    from iotbill.domain.pricing.graduated import Graduated
    from iotbill.domain.pricing.graduated_percentage import GraduatedPercentage
    from iotbill.domain.pricing.package import Package
    from iotbill.domain.pricing.per_unit import PerUnit
    from iotbill.domain.pricing.percentage import Percentage
    from iotbill.domain.pricing.volume import Volume
    from iotbill.domain.quantities import decimal_text as text

    if isinstance(model, Graduated | Volume | GraduatedPercentage):
        lines = [f"{model.name}:"]
        lower = "0"
        for tier in model.tiers:
            span = f"above {lower}" if tier.up_to is None else f"{lower} to {text(tier.up_to)}"
            fee = f" + {text(tier.flat_fee)}" if tier.flat_fee else ""
            price = (
                f"{text(tier.unit_price)} %"
                if isinstance(model, GraduatedPercentage)
                else f"{text(tier.unit_price)} each"
            )
            lines.append(f"{span}: {price}{fee}")
            lower = "" if tier.up_to is None else text(tier.up_to)
        return lines
    if isinstance(model, PerUnit):
        return [f"{text(model.unit_price)} per unit"]
    if isinstance(model, Flat):
        return [f"{text(model.amount)} flat"]
    if isinstance(model, Package):
        free = f", first {text(model.free_units)} free" if model.free_units else ""
        size = text(model.package_size)
        counted = "started" if model.round == "up" else "whole"
        return [f"{text(model.price_per_package)} per {counted} package of {size}{free}"]
    if isinstance(model, Percentage):
        fee = f" + {text(model.fixed_fee)} per event" if model.fixed_fee else ""
        allowances = [
            *([f"{model.free_events} events"] if model.free_events else []),
            *([f"{text(model.free_amount)} of the amount"] if model.free_amount else []),
        ]
        free = f", first {' or '.join(allowances)} free" if allowances else ""
        limits = [
            *([f"at least {text(model.min_per_event)}"] if model.min_per_event is not None else []),
            *([f"at most {text(model.max_per_event)}"] if model.max_per_event is not None else []),
        ]
        limited = f", {' and '.join(limits)} per event" if limits else ""
        return [f"{text(model.rate)} % of the amount{fee}{free}{limited}"]
    if isinstance(model, Dynamic):
        return [f"each event's {model.property_name}"]
    return [model.name]


def meter_reads(meter: Meter) -> str:
    """What a meter reads, as ``plans show`` says it: ``sum of m3 of pump.flow``, with its
    options that change the quantity (``recurring``, ``per day``, ``at most 250 per day``,
    ``rounded up to 0 decimals``)."""
    from iotbill.domain.quantities import decimal_text

    read = meter.event_type if meter.property is None else f"{meter.property} of {meter.event_type}"
    options = [
        *(["recurring"] if meter.recurring else []),
        *([f"per {meter.per}"] if meter.per else []),
        *([f"at most {decimal_text(meter.cap.max)} per {meter.cap.per}"] if meter.cap else []),
        *([meter.rounding.describe()] if meter.rounding else []),
    ]
    return f"{meter.aggregation} of {read}" + "".join(f", {option}" for option in options)
