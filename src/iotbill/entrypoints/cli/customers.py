"""``iotbill customers add|list|show|update|import|set-locale``: who receives invoices."""

from __future__ import annotations

from typing import Annotated

import typer

from iotbill.entrypoints.cli.imports import AtomicOption, FormatOption
from iotbill.entrypoints.cli.session import session, store_group

customers_app = store_group(
    help="Customers: currency, time zone, billing address, tax rate, locale."
)


def register(app: typer.Typer) -> None:
    """Add the ``customers`` group to ``app``."""
    app.add_typer(customers_app, name="customers")


@customers_app.command("add")
def add_command(
    id: Annotated[str, typer.Argument(help="Customer id, e.g. acme.")],
    currency: Annotated[str, typer.Option("--currency", help="ISO 4217 code, e.g. EUR.")],
    timezone: Annotated[str, typer.Option("--timezone", help="IANA zone, e.g. Europe/Berlin.")],
    name: Annotated[str | None, typer.Option("--name", help="Name (default: the id).")] = None,
    address: Annotated[str, typer.Option("--address", help="Billing address.")] = "",
    tax_rate: Annotated[
        str, typer.Option("--tax-rate", help="Tax rate in percent, exactly: 19, 8.875.")
    ] = "0",
    net_terms: Annotated[
        int,
        typer.Option("--net-terms", help="Days an invoice is due after it is finalized."),
    ] = 0,
    locale: Annotated[
        str, typer.Option("--locale", help="Locale of its invoices: en_US, de_DE, ja_JP.")
    ] = "en",
) -> None:
    """Add a customer. Billing periods start at local midnight in its time zone.

    Its invoices are written in --locale: how amounts, numbers and dates read.

    Exit codes: 0 ok, 2 invalid input (every problem listed), 4 the id exists.
    """
    from iotbill.entrypoints.cli.output import flag_names
    from iotbill.entrypoints.views import customer_json
    from iotbill.services.customers import add_customer

    current = session()
    with flag_names(
        id="ID",
        name="--name",
        currency="--currency",
        timezone="--timezone",
        billing_address="--address",
        tax_rate="--tax-rate",
        net_terms="--net-terms",
        locale="--locale",
    ):
        customer = add_customer(
            current.uow(),
            id=id,
            name=id if name is None else name,
            currency=currency,
            timezone=timezone,
            billing_address=address,
            tax_rate=tax_rate,
            net_terms=net_terms,
            locale=locale,
        )
    current.emit(
        customer_json(customer),
        f"added customer {customer.id} ({customer.currency}, {customer.timezone})",
    )


@customers_app.command("list")
def list_command() -> None:
    """List the customers."""
    from iotbill.entrypoints.cli.output import print_table, table
    from iotbill.entrypoints.views import customer_json
    from iotbill.services.customers import list_customers

    current = session()
    customers = list_customers(current.uow())
    shown = table("Customers", "Id", "Name", "Currency", "Time zone", "Tax rate (%)>")
    for customer in customers:
        shown.add_row(
            customer.id,
            customer.name,
            customer.currency.code,
            customer.timezone,
            customer_json(customer)["tax_rate"],
        )
    current.emit([customer_json(customer) for customer in customers], lambda: print_table(shown))


@customers_app.command("show")
def show_command(
    id: Annotated[str, typer.Argument(help="Customer id.")],
) -> None:
    """Show a customer with its devices and subscriptions. Exit code 3 if unknown."""
    from iotbill.domain.money import format_money
    from iotbill.domain.quantities import decimal_text
    from iotbill.entrypoints.cli.output import local_text
    from iotbill.entrypoints.views import customer_json
    from iotbill.services.balance import customer_balance
    from iotbill.services.customers import get_customer, list_devices
    from iotbill.services.subscriptions import list_subscriptions

    current = session()
    customer = get_customer(current.uow(), id)
    devices = [d.id for d in list_devices(current.uow(), customer=id) if d.owner == id]
    subscriptions = [s.id for s in list_subscriptions(current.uow(), customer=id)]
    balance = format_money(customer_balance(current.uow(), id), customer.currency)
    view = customer_json(customer)
    shown = (
        ("Customer", f"{customer.name} ({customer.id})"),
        ("Currency", view["currency"]),
        ("Time zone", view["timezone"]),
        ("Billing address", view["billing_address"] or "-"),
        (
            "Tax rate",
            f"{view['tax_rate']} %"
            + "".join(
                f"; {decimal_text(change.rate)} % from"
                f" {local_text(change.start, customer.timezone)}"
                for change in customer.tax_changes
            ),
        ),
        ("Net terms", f"{customer.net_terms} days"),
        ("Balance", f"{balance} {customer.currency} in credits"),
        ("Locale", view["locale"]),
        ("Devices", ", ".join(devices) or "-"),
        ("Subscriptions", ", ".join(subscriptions) or "-"),
    )
    current.emit(
        {**view, "balance": balance, "devices": devices, "subscriptions": subscriptions},
        "\n".join(f"{label + ':':<17}{value}" for label, value in shown),
    )


@customers_app.command("update")
def update_command(
    id: Annotated[str, typer.Argument(help="Customer id.")],
    name: Annotated[str | None, typer.Option("--name", help="New name.")] = None,
    address: Annotated[str | None, typer.Option("--address", help="New billing address.")] = None,
    net_terms: Annotated[
        int | None, typer.Option("--net-terms", help="Days an invoice is due after it is final.")
    ] = None,
    tax_rate: Annotated[
        str | None, typer.Option("--tax-rate", help="New tax rate in percent, e.g. 21.")
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="With --tax-rate: in force from then, a date (the customer's midnight) or a"
            " time with an offset.",
        ),
    ] = None,
) -> None:
    """Change a customer: name, address and net terms from now on; the tax rate from --from.

    An invoice is taxed, whole, at the rate in force when it is issued; a new
    rate must start after the latest finalized invoice was issued. Exit codes: 0
    ok, 2 invalid input (every problem listed, nothing stored), 3 unknown customer.
    """
    from iotbill.domain.quantities import decimal_text
    from iotbill.entrypoints.cli.options import parse_date_or_instant
    from iotbill.entrypoints.cli.output import flag_names
    from iotbill.entrypoints.views import customer_json
    from iotbill.services.customer_updates import update_customer

    current = session()
    with flag_names(
        name="--name",
        billing_address="--address",
        net_terms="--net-terms",
        tax_rate="--tax-rate",
        **{"from": "--from"},
    ):
        customer = update_customer(
            current.uow(),
            id,
            name=name,
            billing_address=address,
            net_terms=net_terms,
            tax_rate=tax_rate,
            tax_from=None if start is None else parse_date_or_instant(start, "--from"),
        )
    changes = [
        {"from": change.start.isoformat(), "rate": decimal_text(change.rate)}
        for change in customer.tax_changes
    ]
    latest = customer.tax_changes[-1] if customer.tax_changes else None
    rate = (
        ""
        if tax_rate is None or latest is None
        else f"; taxed at {decimal_text(latest.rate)} % from {latest.start.isoformat()}"
    )
    current.emit(
        {**customer_json(customer), "tax_changes": changes},
        f"updated customer {customer.id}{rate}",
    )


@customers_app.command("import")
def import_command(
    file: Annotated[str, typer.Argument(help="Customers, CSV or JSON Lines (- for stdin).")],
    format: FormatOption = None,
    atomic: AtomicOption = False,
) -> None:
    """Add the customers of a file: fields id, currency, timezone, and optionally name,
    billing_address, tax_rate, locale (as customers list --json prints them).

    Every row is checked; each problem is reported with its line and field. A
    customer already stored with the same values is left as it is (a re-run
    changes nothing); one stored with other values is a conflict, never
    changed. Exit codes: 0 ok, 2 rows rejected, 4 conflicts (with --atomic:
    then nothing is stored).
    """
    from iotbill.entrypoints.cli.imports import run_import
    from iotbill.services.imports import CUSTOMER_FIELDS, import_customers

    run_import(file, CUSTOMER_FIELDS, format, import_customers, atomic=atomic)


@customers_app.command("set-locale")
def set_locale_command(
    id: Annotated[str, typer.Argument(help="Customer id.")],
    locale: Annotated[str, typer.Argument(help="Locale of its invoices: en_US, de_DE, ja_JP.")],
) -> None:
    """Write a customer's invoices in another locale (amounts stay what they are).

    Exit codes: 0 ok, 2 unknown locale, 3 unknown customer.
    """
    from iotbill.entrypoints.cli.output import flag_names
    from iotbill.entrypoints.views import customer_json
    from iotbill.services.customers import set_customer_locale

    current = session()
    with flag_names(locale="LOCALE"):
        customer = set_customer_locale(current.uow(), id, locale)
    current.emit(
        customer_json(customer),
        f"customer {customer.id} now reads its invoices in {customer.locale}",
    )
