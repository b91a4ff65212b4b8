"""``iotbill subscriptions create|change|cancel|migrate|list|show|upcoming``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from iotbill.entrypoints.cli.session import session, store_group

if TYPE_CHECKING:
    from iotbill.domain.invoices import Invoice
    from iotbill.domain.subscriptions import Subscription
    from iotbill.services.moments import Moment

subscriptions_app = store_group(help="Subscriptions: a customer (or device) on a plan version.")
WHEN_HELP = "A date (local midnight in the customer's zone) or a time with an offset."
AT_HELP = f"When (default: now). {WHEN_HELP}"


def register(app: typer.Typer) -> None:
    """Add the ``subscriptions`` group to ``app``."""
    app.add_typer(subscriptions_app, name="subscriptions")


@subscriptions_app.command("create")
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
    term: Annotated[
        int | None, typer.Option("--term", help="A lease term of this many billing periods.")
    ] = None,
    at_term_end: Annotated[
        str | None, typer.Option("--at-term-end", help="renew, evergreen (default) or cancel.")
    ] = None,
    termination_fee: Annotated[
        str | None,
        typer.Option(
            "--termination-fee",
            help="Ending before the term: an amount (500.00) or a percent of the fees left (50%).",
        ),
    ] = None,
    buy_out: Annotated[
        str | None, typer.Option("--buy-out", help="The device's price at term end.")
    ] = None,
) -> None:
    """Subscribe a customer, or one of its devices, to a plan from a start date.

    --term, --at-term-end, --termination-fee and --buy-out give the subscription lease
    terms of its own, in place of the plan's (docs/plans.md, contract terms).

    Refused (exit 2, nothing stored): an unknown customer, plan, version or
    device; a plan in another currency than the customer's; a device of
    another customer; bad lease terms. Exit code 4 if the --id is taken.
    """
    from iotbill.entrypoints.cli.options import parse_date_or_instant
    from iotbill.entrypoints.cli.output import flag_names
    from iotbill.entrypoints.views import subscription_json
    from iotbill.services.subscriptions import create_subscription

    current = session()
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
        term="--term",
        at_term_end="--at-term-end",
        early_termination_fee="--termination-fee",
        buy_out="--buy-out",
    ):
        subscription = create_subscription(
            current.uow(),
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
            contract=_contract(term, at_term_end, termination_fee, buy_out),
        )
    phase = subscription.phases[0]
    current.emit(
        subscription_json(subscription),
        f"created subscription {subscription.id}: {customer} on {phase} from {start}",
    )


@subscriptions_app.command("change")
def change_command(
    id: Annotated[str, typer.Argument(help="Subscription id.")],
    plan: Annotated[str, typer.Option("--plan", help="The new plan's code.")],
    timing: Annotated[str, typer.Option("--timing", help="immediate (prorated) or period_end.")],
    version: Annotated[
        int | None, typer.Option("--version", help="Plan version (default: the latest).")
    ] = None,
    at: Annotated[str | None, typer.Option("--at", help=AT_HELP)] = None,
) -> None:
    """Move a subscription to another plan, immediately or at the end of the period.

    An immediate change credits the unused part of the advance fee and charges
    the new plan for the rest of the period (by second). Exit codes: 0 ok,
    2 invalid input, 3 unknown subscription, 4 it has ended by then.
    """
    from iotbill.entrypoints.cli.output import flag_names
    from iotbill.entrypoints.views import subscription_json
    from iotbill.services.subscriptions import change_subscription

    current = session()
    with flag_names(plan="--plan", plan_version="--version", timing="--timing", at="--at"):
        changed = change_subscription(
            current.uow(),
            id,
            plan=plan,
            plan_version=version,
            timing=timing,
            at=_when(at),
        )
    phase = changed.phases[-1]
    current.emit(
        subscription_json(changed),
        f"subscription {changed.id}: on {phase} from {phase.start.isoformat()}",
    )


@subscriptions_app.command("cancel")
def cancel_command(
    id: Annotated[str, typer.Argument(help="Subscription id.")],
    timing: Annotated[
        str, typer.Option("--timing", help="immediate (unused advance fee credited) or period_end.")
    ],
    at: Annotated[str | None, typer.Option("--at", help=AT_HELP)] = None,
) -> None:
    """Cancel a subscription, immediately or at the end of the period.

    Exit codes: 0 ok, 2 invalid input, 3 unknown subscription, 4 already cancelled.
    """
    from iotbill.entrypoints.cli.output import flag_names
    from iotbill.entrypoints.views import subscription_json
    from iotbill.services.subscriptions import cancel_subscription

    current = session()
    with flag_names(timing="--timing", at="--at"):
        cancelled = cancel_subscription(current.uow(), id, timing=timing, at=_when(at))
    end = cancelled.end
    assert end is not None
    current.emit(
        subscription_json(cancelled),
        f"subscription {cancelled.id}: service ends at {end.isoformat()}",
    )


@subscriptions_app.command("buy-out")
def buy_out_command(
    id: Annotated[str, typer.Argument(help="Subscription id.")],
    at: Annotated[str | None, typer.Option("--at", help=AT_HELP)] = None,
) -> None:
    """Sell the leased device to the customer at the plan's buy-out price: service (and the
    lease fees) end then, the price is billed on the final invoice, and the customer owns
    the device.

    Exit codes: 0 ok, 2 invalid input, 3 unknown subscription, 4 no buy-out offered, before
    the end of the term, or service ended.
    """
    from iotbill.entrypoints.cli.output import flag_names
    from iotbill.entrypoints.views import subscription_json
    from iotbill.services.subscriptions import buy_out_subscription

    current = session()
    with flag_names(at="--at"):
        bought = buy_out_subscription(current.uow(), id, at=_when(at))
    end = bought.end
    assert end is not None
    current.emit(
        subscription_json(bought),
        f"subscription {bought.id}: bought out at {end.isoformat()}; the customer owns the device",
    )


@subscriptions_app.command("pause")
def pause_command(
    id: Annotated[str, typer.Argument(help="Subscription id.")],
    at: Annotated[str | None, typer.Option("--at", help=AT_HELP)] = None,
) -> None:
    """Pause a subscription: the advance fee is credited for the paused part of the
    period, and nothing is billed until it is resumed.

    Exit codes: 0 ok, 2 invalid input, 3 unknown subscription, 4 refused (paused already,
    ended, a plan change after it, or invoices issued after it).
    """
    from iotbill.entrypoints.cli.output import flag_names
    from iotbill.entrypoints.views import subscription_json
    from iotbill.services.subscriptions import pause_subscription

    current = session()
    with flag_names(at="--at"):
        paused = pause_subscription(current.uow(), id, at=_when(at))
    since = paused.pauses[-1].start.isoformat()
    current.emit(subscription_json(paused), f"subscription {paused.id}: paused from {since}")


@subscriptions_app.command("resume")
def resume_command(
    id: Annotated[str, typer.Argument(help="Subscription id.")],
    at: Annotated[str | None, typer.Option("--at", help=AT_HELP)] = None,
) -> None:
    """Resume a paused subscription: the advance fee is billed for the rest of the period.

    Exit codes: 0 ok, 2 invalid input (not paused, or before the pause), 3 unknown
    subscription, 4 refused (invoices issued after it).
    """
    from iotbill.entrypoints.cli.output import flag_names
    from iotbill.entrypoints.views import subscription_json
    from iotbill.services.subscriptions import resume_subscription

    current = session()
    with flag_names(at="--at"):
        resumed = resume_subscription(current.uow(), id, at=_when(at))
    end = resumed.pauses[-1].end
    assert end is not None
    current.emit(
        subscription_json(resumed), f"subscription {resumed.id}: resumed at {end.isoformat()}"
    )


@subscriptions_app.command("migrate")
def migrate_command(
    plan: Annotated[str, typer.Argument(help="Plan code.")],
    at: Annotated[str, typer.Option("--from", help=f"Migrate from. {WHEN_HELP}")],
) -> None:
    """Move every subscription on an older version of PLAN to its latest version from a date.

    A date is local midnight in each customer's zone. Inside a billing period
    the move is billed like an immediate change. All or nothing: exit 2 and
    nothing stored if any subscription cannot take the new version; 3 if the
    plan is unknown.
    """
    from iotbill.entrypoints.cli.options import parse_date_or_instant
    from iotbill.entrypoints.cli.output import counted, flag_names
    from iotbill.services.subscriptions import migrate_subscriptions

    current = session()
    with flag_names(at="--from"):
        migration = migrate_subscriptions(
            current.uow(), plan, at=parse_date_or_instant(at, "--from")
        )
    target = f"{migration.target.plan.code} v{migration.target.version}"
    current.emit(
        {
            "plan": migration.target.plan.code,
            "version": migration.target.version,
            "migrated": [s.id for s in migration.migrated],
            "skipped": [{"id": s.subscription, "reason": s.reason} for s in migration.skipped],
        },
        "\n".join(
            [
                f"{counted(len(migration.migrated), 'subscription')} moved to {target} from {at}",
                *(f"  {s.id} ({s.customer_id})" for s in migration.migrated),
                *(f"skipped {s.subscription}: {s.reason}" for s in migration.skipped),
            ]
        ),
    )


@subscriptions_app.command("list")
def list_command(
    customer: Annotated[
        str | None, typer.Option("--customer", help="Only this customer's.")
    ] = None,
    plan: Annotated[str | None, typer.Option("--plan", help="Only those on this plan.")] = None,
) -> None:
    """List subscriptions with their plan versions, in each customer's zone."""
    from iotbill.entrypoints.cli.output import print_table, table
    from iotbill.entrypoints.views import subscription_json
    from iotbill.services.customers import list_customers
    from iotbill.services.subscriptions import list_subscriptions

    current = session()
    subscriptions = list_subscriptions(current.uow(), customer=customer, plan=plan)

    def print_subscriptions() -> None:
        zones = {c.id: c.timezone for c in list_customers(current.uow())}
        shown = table("Subscriptions", "Id", "Customer", "Plans", "Billing", "Trial until", "Ends")
        for subscription in subscriptions:
            shown.add_row(*_row(subscription, zones[subscription.customer_id]))
        print_table(shown)

    current.emit([subscription_json(s) for s in subscriptions], print_subscriptions)


@subscriptions_app.command("show")
def show_command(
    id: Annotated[str, typer.Argument(help="Subscription id.")],
) -> None:
    """Show one subscription: its plans, billing, trial, end and invoices (in the order
    issued). Exit code 3 if unknown."""
    from iotbill.entrypoints.views import subscription_json
    from iotbill.services.customers import get_customer
    from iotbill.services.invoices import list_invoices
    from iotbill.services.subscriptions import get_subscription

    current = session()
    subscription = get_subscription(current.uow(), id)
    invoices = sorted(
        list_invoices(current.uow(), subscription=subscription.id),
        key=lambda invoice: (invoice.issued_at, invoice.id),
    )
    current.emit(
        subscription_json(subscription)
        | {"invoices": [invoice.number or invoice.id for invoice in invoices]},
        lambda: _print_subscription(
            subscription, invoices, get_customer(current.uow(), subscription.customer_id).timezone
        ),
    )


def _print_subscription(subscription: Subscription, invoices: list[Invoice], timezone: str) -> None:
    from iotbill.entrypoints.cli.output import local_text, print_table, table

    _id, customer, _plans, billing, trial, ends = _row(subscription, timezone)
    typer.echo(f"Subscription {subscription.id}")
    typer.echo(f"  customer  {customer} ({timezone})")
    typer.echo(f"  billing   {billing}")
    typer.echo(f"  trial     {'none' if trial == '-' else 'until ' + trial}")
    typer.echo(f"  ends      {'not scheduled' if ends == '-' else ends}")
    cancellation = subscription.cancellation
    if cancellation is not None and cancellation.reason == "buy_out":
        owned = local_text(cancellation.effective_at, timezone)
        typer.echo(f"  bought    the device is the customer's since {owned} (buy-out)")
    elif cancellation is not None and cancellation.reason == "term_end":
        typer.echo("  ends      with its term (at_term_end: cancel)")
    elif cancellation is not None:
        typer.echo(
            f"  cancelled {cancellation.timing}, requested "
            f"{local_text(cancellation.requested_at, timezone)}"
        )
    for pause in subscription.pauses:
        until = "not resumed yet" if pause.end is None else local_text(pause.end, timezone)
        typer.echo(f"  paused    from {local_text(pause.start, timezone)} to {until}")
    if subscription.contract is not None:
        terms = subscription.contract.as_json()
        fee = terms["early_termination_fee"]
        shown_fee = "none" if fee is None else fee.get("amount") or f"{fee['percent']} %"
        typer.echo(
            f"  contract  {terms['term']} periods, then {terms['at_term_end']}; ending early:"
            f" {shown_fee}; buy-out: {terms['buy_out'] or 'none'} (its own terms)"
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
def upcoming_command(
    id: Annotated[str, typer.Argument(help="Subscription id.")],
    at: Annotated[
        str | None,
        typer.Option("--at", help="The open period is the one containing this (default: now)."),
    ] = None,
) -> None:
    """The invoice the open period would produce if it closed now; nothing is written.

    The same lines and arithmetic as the bill run's period-close invoice (with
    the events stored so far). Exit codes: 0 ok, 3 unknown subscription, 4 no
    open period (not started, or ended).
    """
    from iotbill.entrypoints.cli.invoices import print_invoice
    from iotbill.entrypoints.cli.output import flag_names
    from iotbill.services.customers import get_customer
    from iotbill.services.upcoming import upcoming_invoice

    current = session()
    instant = current.instant_or_now(at, "--at")
    with flag_names(now="--at"):
        invoice = upcoming_invoice(current.uow(), id, now=instant)
    current.emit(
        invoice.as_json(),
        lambda: print_invoice(
            invoice,
            get_customer(current.uow(), invoice.customer_id).timezone,
            [],
            upcoming=True,
        ),
    )


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


def _contract(
    term: int | None, at_term_end: str | None, fee: str | None, buy_out: str | None
) -> dict[str, Any] | None:
    """The lease terms given on the command line, as a plan writes them; ``None``: none."""
    given: dict[str, Any] = {
        "term": term,
        "at_term_end": at_term_end,
        "early_termination_fee": None
        if fee is None
        else {"percent": fee.removesuffix("%")}
        if fee.endswith("%")
        else {"amount": fee},
        "buy_out": buy_out,
    }
    terms = {name: value for name, value in given.items() if value is not None}
    return terms or None


def _when(text: str | None) -> Moment:
    from iotbill.entrypoints.cli.options import parse_date_or_instant

    return session().now() if text is None else parse_date_or_instant(text, "--at")
