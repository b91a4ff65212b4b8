"""``iotbill subscriptions create|change|cancel|migrate|list|show|upcoming``."""

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
    from iotbill.domain.subscriptions import Subscription
    from iotbill.services.moments import Moment

subscriptions_app = typer.Typer(
    help="Subscriptions: a customer (or device) on a plan version.", no_args_is_help=True
)
WHEN_HELP = "A date (local midnight in the customer's zone) or a time with an offset."
AT_HELP = f"When (default: now). {WHEN_HELP}"


def register(app: typer.Typer) -> None:
    """Add the ``subscriptions`` group to ``app``."""
    app.add_typer(subscriptions_app, name="subscriptions")


@subscriptions_app.command("create")
@report_errors
def create_command(
    customer: Annotated[str, typer.Option("--customer", help="The customer billed.")],
    plan: Annotated[str, typer.Option("--plan", help="Plan code.")],
    start: Annotated[str, typer.Option("--start", help=f"Starts. {WHEN_HELP}")],
    version: Annotated[
        int | None, typer.Option("--version", help="Plan version (default: the latest).")
    ] = None,
    billing: Annotated[
        str, typer.Option("--billing", help="calendar (periods from the 1st) or anniversary.")
    ] = "calendar",
    trial_days: Annotated[
        int | None, typer.Option("--trial-days", help="Free trial of this many local days.")
    ] = None,
    trial_end: Annotated[
        str | None, typer.Option("--trial-end", help=f"Free trial until. {WHEN_HELP}")
    ] = None,
    device: Annotated[
        str | None, typer.Option("--device", help="Subscribe one of the customer's devices.")
    ] = None,
    id: Annotated[
        str | None, typer.Option("--id", help="Subscription id (default: sub-NNNNNN).")
    ] = None,
    tenant: TenantOption = DEFAULT_TENANT,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Subscribe a customer, or one of its devices, to a plan from a start date.

    Refused (exit 2, nothing stored): an unknown customer, plan, version or
    device; a plan in another currency than the customer's; a device of
    another customer. Exit code 4 if the --id is taken.
    """
    from iotbill.entrypoints.cli.options import parse_date_or_instant
    from iotbill.entrypoints.cli.output import flag_names, print_json
    from iotbill.entrypoints.views import subscription_json
    from iotbill.services.subscriptions import create_subscription

    with flag_names(
        customer="--customer",
        plan="--plan",
        plan_version="--version",
        start="--start",
        billing_mode="--billing",
        trial_days="--trial-days",
        trial_end="--trial-end",
        device="--device",
        device_id="--device",
        id="--id",
    ):
        subscription = create_subscription(
            open_store(database)(tenant),
            customer=customer,
            plan=plan,
            plan_version=version,
            start=parse_date_or_instant(start, "--start"),
            billing_mode=billing,
            trial_days=trial_days,
            trial_end=None
            if trial_end is None
            else parse_date_or_instant(trial_end, "--trial-end"),
            device=device,
            id=id,
        )
    if as_json:
        print_json(subscription_json(subscription))
    else:
        phase = subscription.phases[0]
        typer.echo(f"created subscription {subscription.id}: {customer} on {phase} from {start}")


@subscriptions_app.command("change")
@report_errors
def change_command(
    id: Annotated[str, typer.Argument(help="Subscription id.")],
    plan: Annotated[str, typer.Option("--plan", help="The new plan's code.")],
    timing: Annotated[str, typer.Option("--timing", help="immediate (prorated) or period_end.")],
    version: Annotated[
        int | None, typer.Option("--version", help="Plan version (default: the latest).")
    ] = None,
    at: Annotated[str | None, typer.Option("--at", help=AT_HELP)] = None,
    tenant: TenantOption = DEFAULT_TENANT,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Move a subscription to another plan, immediately or at the end of the period.

    An immediate change credits the unused part of the advance fee and charges
    the new plan for the rest of the period (by second). Exit codes: 0 ok,
    2 invalid input, 3 unknown subscription, 4 it has ended by then.
    """
    from iotbill.entrypoints.cli.output import flag_names, print_json
    from iotbill.entrypoints.views import subscription_json
    from iotbill.services.subscriptions import change_subscription

    with flag_names(plan="--plan", plan_version="--version", timing="--timing", at="--at"):
        changed = change_subscription(
            open_store(database)(tenant),
            id,
            plan=plan,
            plan_version=version,
            timing=timing,
            at=_when(at),
        )
    if as_json:
        print_json(subscription_json(changed))
    else:
        phase = changed.phases[-1]
        typer.echo(f"subscription {changed.id}: on {phase} from {phase.start.isoformat()}")


@subscriptions_app.command("cancel")
@report_errors
def cancel_command(
    id: Annotated[str, typer.Argument(help="Subscription id.")],
    timing: Annotated[
        str, typer.Option("--timing", help="immediate (unused advance fee credited) or period_end.")
    ],
    at: Annotated[str | None, typer.Option("--at", help=AT_HELP)] = None,
    tenant: TenantOption = DEFAULT_TENANT,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Cancel a subscription, immediately or at the end of the period.

    Exit codes: 0 ok, 2 invalid input, 3 unknown subscription, 4 already cancelled.
    """
    from iotbill.entrypoints.cli.output import flag_names, print_json
    from iotbill.entrypoints.views import subscription_json
    from iotbill.services.subscriptions import cancel_subscription

    with flag_names(timing="--timing", at="--at"):
        cancelled = cancel_subscription(
            open_store(database)(tenant), id, timing=timing, at=_when(at)
        )
    if as_json:
        print_json(subscription_json(cancelled))
    else:
        end = cancelled.end
        assert end is not None
        typer.echo(f"subscription {cancelled.id}: service ends at {end.isoformat()}")


@subscriptions_app.command("migrate")
@report_errors
def migrate_command(
    plan: Annotated[str, typer.Argument(help="Plan code.")],
    at: Annotated[str, typer.Option("--from", help=f"Migrate from. {WHEN_HELP}")],
    tenant: TenantOption = DEFAULT_TENANT,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Move every subscription on an older version of PLAN to its latest version from a date.

    A date is local midnight in each customer's zone. Inside a billing period
    the move is billed like an immediate change. All or nothing: exit 2 and
    nothing stored if any subscription cannot take the new version; 3 if the
    plan is unknown.
    """
    from iotbill.entrypoints.cli.options import parse_date_or_instant
    from iotbill.entrypoints.cli.output import flag_names, print_json
    from iotbill.services.subscriptions import migrate_subscriptions

    with flag_names(at="--from"):
        migration = migrate_subscriptions(
            open_store(database)(tenant), plan, at=parse_date_or_instant(at, "--from")
        )
    target = f"{migration.target.plan.code} v{migration.target.version}"
    if as_json:
        print_json(
            {
                "plan": migration.target.plan.code,
                "version": migration.target.version,
                "migrated": [s.id for s in migration.migrated],
                "skipped": [{"id": s.subscription, "reason": s.reason} for s in migration.skipped],
            }
        )
        return
    typer.echo(f"{len(migration.migrated)} subscriptions moved to {target} from {at}")
    for subscription in migration.migrated:
        typer.echo(f"  {subscription.id} ({subscription.customer_id})")
    for skipped in migration.skipped:
        typer.echo(f"skipped {skipped.subscription}: {skipped.reason}")


@subscriptions_app.command("list")
@report_errors
def list_command(
    customer: Annotated[
        str | None, typer.Option("--customer", help="Only this customer's.")
    ] = None,
    plan: Annotated[str | None, typer.Option("--plan", help="Only those on this plan.")] = None,
    tenant: TenantOption = DEFAULT_TENANT,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """List subscriptions with their plan versions, in each customer's zone."""
    from iotbill.entrypoints.cli.output import print_json, print_table, table
    from iotbill.entrypoints.views import subscription_json
    from iotbill.services.customers import list_customers
    from iotbill.services.subscriptions import list_subscriptions

    open_uow = open_store(database)
    subscriptions = list_subscriptions(open_uow(tenant), customer=customer, plan=plan)
    if as_json:
        print_json([subscription_json(subscription) for subscription in subscriptions])
        return
    zones = {c.id: c.timezone for c in list_customers(open_uow(tenant))}
    shown = table("Subscriptions", "Id", "Customer", "Plans", "Billing", "Trial until", "Ends")
    for subscription in subscriptions:
        shown.add_row(*_row(subscription, zones[subscription.customer_id]))
    print_table(shown)


@subscriptions_app.command("show")
@report_errors
def show_command(
    id: Annotated[str, typer.Argument(help="Subscription id.")],
    tenant: TenantOption = DEFAULT_TENANT,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one subscription: its plans, billing, trial, end and invoices (in the order
    issued). Exit code 3 if unknown."""
    from iotbill.entrypoints.cli.output import local_text, print_json, print_table, table
    from iotbill.entrypoints.views import subscription_json
    from iotbill.services.customers import get_customer
    from iotbill.services.invoices import list_invoices
    from iotbill.services.subscriptions import get_subscription

    open_uow = open_store(database)
    subscription = get_subscription(open_uow(tenant), id)
    invoices = sorted(
        list_invoices(open_uow(tenant), subscription=subscription.id),
        key=lambda invoice: (invoice.issued_at, invoice.id),
    )
    if as_json:
        print_json(
            subscription_json(subscription)
            | {"invoices": [invoice.number or invoice.id for invoice in invoices]}
        )
        return
    timezone = get_customer(open_uow(tenant), subscription.customer_id).timezone
    _id, customer, _plans, billing, trial, ends = _row(subscription, timezone)
    typer.echo(f"Subscription {subscription.id}")
    typer.echo(f"  customer  {customer} ({timezone})")
    typer.echo(f"  billing   {billing}")
    typer.echo(f"  trial     {'none' if trial == '-' else 'until ' + trial}")
    typer.echo(f"  ends      {'not scheduled' if ends == '-' else ends}")
    if subscription.cancellation is not None:
        cancellation = subscription.cancellation
        typer.echo(
            f"  cancelled {cancellation.timing}, requested "
            f"{local_text(cancellation.requested_at, timezone)}"
        )
    phases = table("Plans", "Plan", "From")
    for phase in subscription.phases:
        phases.add_row(str(phase), local_text(phase.start, timezone))
    print_table(phases)
    if not invoices:
        typer.echo("No invoices yet.")
        return
    shown = table("Invoices", "Number or id", "Status", "Period", "Total>")
    for invoice in invoices:
        view = invoice.as_json()
        period = invoice.period
        shown.add_row(
            invoice.number or invoice.id,
            invoice.status,
            f"{local_text(period.start, timezone)} to {local_text(period.end, timezone)}",
            f"{view['total']} {invoice.currency}",
        )
    print_table(shown)


@subscriptions_app.command("upcoming")
@report_errors
def upcoming_command(
    id: Annotated[str, typer.Argument(help="Subscription id.")],
    at: Annotated[
        str | None,
        typer.Option("--at", help="The open period is the one containing this (default: now)."),
    ] = None,
    tenant: TenantOption = DEFAULT_TENANT,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """The invoice the open period would produce if it closed now; nothing is written.

    The same lines and arithmetic as the bill run's period-close invoice (with
    the events stored so far). Exit codes: 0 ok, 3 unknown subscription, 4 no
    open period (not started, or ended).
    """
    from iotbill.entrypoints.cli.invoices import print_invoice
    from iotbill.entrypoints.cli.options import parse_instant
    from iotbill.entrypoints.cli.output import flag_names, now, print_json
    from iotbill.services.customers import get_customer
    from iotbill.services.upcoming import upcoming_invoice

    instant = now() if at is None else parse_instant(at, "--at")
    open_uow = open_store(database)
    with flag_names(now="--at"):
        invoice = upcoming_invoice(open_uow(tenant), id, now=instant)
    if as_json:
        print_json(invoice.as_json())
        return
    timezone = get_customer(open_uow(tenant), invoice.customer_id).timezone
    print_invoice(invoice, timezone, [], upcoming=True)


def _row(subscription: Subscription, timezone: str) -> list[str]:
    from iotbill.entrypoints.cli.output import local_text

    plans = "; ".join(
        f"{phase} from {local_text(phase.start, timezone)}" for phase in subscription.phases
    )
    customer = subscription.customer_id
    if subscription.device_id is not None:
        customer += f" (device {subscription.device_id})"
    return [
        subscription.id,
        customer,
        plans,
        f"{subscription.billing_mode}, {subscription.interval}",
        local_text(subscription.trial_end, timezone),
        local_text(subscription.end, timezone),
    ]


def _when(text: str | None) -> Moment:
    from iotbill.entrypoints.cli.options import parse_date_or_instant
    from iotbill.entrypoints.cli.output import now

    return now() if text is None else parse_date_or_instant(text, "--at")
