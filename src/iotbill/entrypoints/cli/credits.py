"""``iotbill credits grant|list|history|thresholds|alerts``: a customer's credits.

Invoices use the credits when they are finalized, after tax (or before tax, as the
tenant chooses with ``tenants credits``): higher priority first, then the soonest
expiry, credits without expiry last. Every movement is an entry of the
double-entry ledger (``credits history``).
"""

from __future__ import annotations

from typing import Annotated

import typer

from iotbill.entrypoints.cli.session import session, store_group

credits_app = store_group(help="Credits on a customer's balance: granted free or purchased.")
Customer = Annotated[str, typer.Argument(help="Customer id.")]


def register(app: typer.Typer) -> None:
    """Add the ``credits`` group to ``app``."""
    app.add_typer(credits_app, name="credits")


@credits_app.command("grant")
def grant_command(
    customer: Customer,
    amount: Annotated[str, typer.Option("--amount", help="Amount, e.g. 50.00.")],
    purchased: Annotated[
        bool,
        typer.Option("--purchased", help="Bought: billed, untaxed, on the next invoice."),
    ] = False,
    expires: Annotated[
        str | None,
        typer.Option("--expires", help="Expiry: a date (the customer's midnight) or a time."),
    ] = None,
    priority: Annotated[
        int, typer.Option("--priority", help="Used before credits of lower priority.")
    ] = 0,
    description: Annotated[str, typer.Option("--description", help="What it is for.")] = "",
    at: Annotated[
        str | None, typer.Option("--at", help="Granted at (default: now): a date or a time.")
    ] = None,
) -> None:
    """Add a credit to a customer's balance.

    Exit codes: 0 ok, 2 invalid input (every problem listed), 3 unknown customer.
    """
    from iotbill.entrypoints.cli.options import parse_date_or_instant
    from iotbill.entrypoints.cli.output import flag_names
    from iotbill.services.balance import grant_credit
    from iotbill.services.customers import get_customer
    from iotbill.services.moments import instant_for

    current = session()
    found = get_customer(current.uow(), customer)
    granted_at = (
        current.now()
        if at is None
        else instant_for(parse_date_or_instant(at, "--at"), found, "--at")
    )
    expires_at = (
        None
        if expires is None
        else instant_for(parse_date_or_instant(expires, "--expires"), found, "--expires")
    )
    with flag_names(amount="--amount", expires_at="--expires", priority="--priority"):
        grant, charge = grant_credit(
            current.uow(),
            customer=customer,
            amount=amount,
            at=granted_at,
            purchased=purchased,
            expires_at=expires_at,
            priority=priority,
            description=description,
        )
    view = grant.as_json(grant.amount)
    granted = f"granted {view['amount']} {grant.currency} to {customer} as {grant.id}"
    billed = "" if charge is None else f"\nbilled as {charge.id}, untaxed, on the next invoice"
    current.emit(
        view | {"charge": None if charge is None else charge.as_json()},
        granted + billed,
    )


@credits_app.command("list")
def list_command(
    customer: Annotated[str | None, typer.Option("--customer", help="Only this one's.")] = None,
) -> None:
    """List the credits granted, with what is left of each."""
    from iotbill.entrypoints.cli.output import print_table, table
    from iotbill.services.balance import list_credits

    current = session()
    found = list_credits(current.uow(), customer)
    shown = table("Credits", "Id", "Kind", "Amount>", "Left>", "Priority>", "Expires", "Customer")
    for grant, left in found:
        view = grant.as_json(left)
        shown.add_row(
            grant.id,
            grant.kind,
            f"{view['amount']} {grant.currency}",
            view["remaining"],
            str(grant.priority),
            view["expires_at"] or "never",
            grant.customer_id,
        )
    current.emit([grant.as_json(left) for grant, left in found], lambda: print_table(shown))


@credits_app.command("history")
def history_command(
    customer: Customer,
) -> None:
    """The ledger entries of a customer's credits, oldest first. Exit code 3 if unknown."""
    from iotbill.entrypoints.cli.output import print_table, table
    from iotbill.services.balance import credit_history
    from iotbill.services.customers import get_customer

    current = session()
    money = get_customer(current.uow(), customer).currency
    entries = credit_history(current.uow(), customer)
    shown = table(f"Ledger of {customer}", "At", "Debit", "Credit", f"Amount ({money})>", "Memo")
    for entry in entries:
        view = entry.as_json(money)
        shown.add_row(view["at"], entry.debit, entry.credit, view["amount"], entry.memo)
    current.emit([entry.as_json(money) for entry in entries], lambda: print_table(shown))


@credits_app.command("thresholds")
def thresholds_command(
    customer: Customer,
    amounts: Annotated[
        list[str] | None,
        typer.Argument(help="Alert when the credits fall below each, e.g. 20.00 5.00."),
    ] = None,
) -> None:
    """Set the balance-alert thresholds of a customer (none: no alerts). Each time its
    credits fall below one, an alert is recorded once (and sent to webhooks).

    Exit codes: 0 ok, 2 invalid input (every problem listed), 3 unknown customer.
    """
    from iotbill.domain.money import format_money
    from iotbill.services.balance import set_alert_thresholds
    from iotbill.services.customers import get_customer

    current = session()
    money = get_customer(current.uow(), customer).currency
    thresholds = set_alert_thresholds(current.uow(), customer, amounts or [])
    shown = [format_money(amount, money) for amount in thresholds]
    current.emit(
        {"customer": customer, "thresholds": shown},
        f"{customer}: alerts below {', '.join(shown)}" if shown else f"{customer}: no alerts",
    )


@credits_app.command("alerts")
def alerts_command(
    customer: Annotated[str | None, typer.Option("--customer", help="Only this one's.")] = None,
) -> None:
    """The balance alerts recorded, oldest first: each crossing of a threshold, once."""
    from iotbill.entrypoints.cli.output import print_table, table
    from iotbill.services.balance import list_alerts

    current = session()
    found = list_alerts(current.uow(), customer)

    def show() -> None:
        shown = table("Balance alerts", "At", "Customer", "Below>", "Balance>", "Entry")
        for alert, money in found:
            view = alert.as_json(money)
            shown.add_row(view["at"], alert.customer_id, view["threshold"], view["balance"],
                          alert.entry_id)  # fmt: skip
        print_table(shown)

    current.emit([alert.as_json(money) for alert, money in found], show)
