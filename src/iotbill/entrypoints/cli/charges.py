"""``iotbill charges add|list``: one-off charges, billed once on the customer's next invoice.

A charge is ``--quantity`` units at ``--amount`` each, in the customer's
currency, recorded at ``--at`` (default: now). The bill run puts it on the
first invoice of the customer issued at or after that instant.
"""

from __future__ import annotations

from typing import Annotated

import typer

from iotbill.entrypoints.cli.session import session, store_group

charges_app = store_group(help="One-off charges: a device sold, a setup fee, a spare part.")


def register(app: typer.Typer) -> None:
    """Add the ``charges`` group to ``app``."""
    app.add_typer(charges_app, name="charges")


@charges_app.command("add")
def add_command(
    customer: Annotated[str, typer.Option("--customer", help="Who is charged.")],
    description: Annotated[
        str, typer.Option("--description", help="What is charged, as the invoice line says.")
    ],
    amount: Annotated[str, typer.Option("--amount", help="Price of one unit, e.g. 49.90.")],
    quantity: Annotated[str, typer.Option("--quantity", help="Units, e.g. 3.")] = "1",
    at: Annotated[
        str | None, typer.Option("--at", help="Recorded at (default: now): a date or a time.")
    ] = None,
) -> None:
    """Record a one-off charge against a customer, billed on its next invoice.

    Exit codes: 0 ok, 2 invalid input (every problem listed), 3 unknown customer.
    """
    from iotbill.entrypoints.cli.options import parse_date_or_instant
    from iotbill.entrypoints.cli.output import flag_names
    from iotbill.services.one_off_charges import add_one_off_charge

    current = session()
    moment = current.now() if at is None else parse_date_or_instant(at, "--at")
    with flag_names(
        description="--description", amount="--amount", quantity="--quantity", at="--at"
    ):
        charge = add_one_off_charge(
            current.uow(),
            customer=customer,
            description=description,
            amount=amount,
            quantity=quantity,
            at=moment,
        )
    view = charge.as_json()
    current.emit(
        view,
        f"recorded {charge.id}: {view['quantity']} x {view['unit_price']} = {view['amount']}"
        f" {view['currency']}, billed on {customer}'s next invoice",
    )


@charges_app.command("list")
def list_command(
    customer: Annotated[str | None, typer.Option("--customer", help="Only this one's.")] = None,
) -> None:
    """List the one-off charges, oldest first, with the invoice that billed each."""
    from iotbill.entrypoints.cli.output import print_table, table
    from iotbill.services.one_off_charges import list_one_off_charges

    current = session()
    found = list_one_off_charges(current.uow(), customer)

    def show() -> None:
        shown = table("One-off charges", "Id", "Description", "Quantity>", "Amount>", "Invoice")
        for charge, number in found:
            view = charge.as_json()
            shown.add_row(
                charge.id,
                charge.description,
                view["quantity"],
                f"{view['amount']} {charge.currency}",
                number or "not billed yet",
            )
        print_table(shown)

    current.emit([charge.as_json(number) for charge, number in found], show)
