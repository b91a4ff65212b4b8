"""``iotbill entitlements check|alerts``: what a customer's plan grants, and usage alerts.

``check`` answers whether a customer may use a feature now (or at ``--as-of``):
for a metered feature also how much is used, the limit and what remains in
the billing period. ``alerts`` lists the alert thresholds reached, each
recorded once per period and subscription (and sent as an
``entitlement.threshold_crossed`` webhook).
"""

from __future__ import annotations

from typing import Annotated

import typer

from iotbill.entrypoints.cli.session import session, store_group

entitlements_app = store_group(help="Entitlements: features granted by plans, and usage alerts.")


def register(app: typer.Typer) -> None:
    """Add the ``entitlements`` group to ``app``."""
    app.add_typer(entitlements_app, name="entitlements")


@entitlements_app.command("check")
def check_command(
    customer: Annotated[str, typer.Option("--customer", help="Whose entitlement.")],
    feature: Annotated[str, typer.Option("--feature", help="The feature's code on the plan.")],
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="When (default: now): a date (local midnight) or a time."),
    ] = None,
) -> None:
    """May the customer use the feature: has_access, and for a metered feature used, limit,
    remaining and the period.

    Exit codes: 0 answered (yes or no; the answer is has_access), 2 invalid input,
    3 unknown customer.
    """
    from iotbill.entrypoints.cli.options import parse_date_or_instant
    from iotbill.entrypoints.cli.output import flag_names
    from iotbill.services.customers import get_customer
    from iotbill.services.entitlements import check_entitlement, check_json
    from iotbill.services.moments import instant_for

    current = session()
    found = get_customer(current.uow(), customer)
    when = (
        current.now()
        if as_of is None
        else instant_for(parse_date_or_instant(as_of, "--as-of"), found, "--as-of")
    )
    with flag_names(feature="--feature", as_of="--as-of"):
        answer = check_entitlement(current.uow(), customer=customer, feature=feature, as_of=when)
    view = check_json(answer)

    def text() -> None:
        typer.echo(f"{feature} for {customer}: {'yes' if answer.has_access else 'no'}")
        if view["value"] is not None:
            typer.echo(f"value: {view['value']}")
        if view["used"] is not None:
            typer.echo(
                f"used {view['used']} of {view['limit']}, remaining {view['remaining']}"
                f" (overage: {view['overage']})"
            )
        if view["period"] is not None:
            typer.echo(
                f"period {view['period']['start']} to {view['period']['end']},"
                f" counted from {view['counted_from']} on {view['plan']}"
            )
        if answer.reason is not None:
            typer.echo(f"why: {answer.reason}")

    current.emit(view, text)


@entitlements_app.command("alerts")
def alerts_command(
    customer: Annotated[str | None, typer.Option("--customer", help="Only this one's.")] = None,
) -> None:
    """The alert thresholds reached, oldest first. Exit code 3 for an unknown customer."""
    from iotbill.entrypoints.cli.output import print_table, table
    from iotbill.services.entitlements import alert_json, list_alerts

    current = session()
    found = [alert_json(alert) for alert in list_alerts(current.uow(), customer)]

    def text() -> None:
        shown = table(
            "Entitlement alerts",
            "Reached",
            "Customer",
            "Subscription",
            "Feature",
            "Counted from",
            "Percent>",
            "Used>",
            "Allowance>",
        )
        for view in found:
            shown.add_row(
                view["reached_at"],
                view["customer"],
                view["subscription"],
                view["feature"],
                view["counted_from"],
                view["percent"],
                view["used"],
                view["allowance"],
            )
        print_table(shown)

    current.emit(found, text)
