"""``iotbill reorders run`` and ``iotbill orders list|show|ship|deliver|cancel``.

The reorder job (razor-blade model) places one order per forecast run-out of
a device's consumable; each order is billed once, as a one-off charge on the
customer's next invoice. ``orders`` moves an order on: shipped, delivered, or
cancelled (its charge withdrawn, or credited back if already invoiced).
"""

from __future__ import annotations

from typing import Annotated

import typer

from iotbill.domain.models.orders import Order
from iotbill.entrypoints.cli.options import AT_HELP
from iotbill.entrypoints.cli.session import session, store_group

reorders_app = store_group(help="The reorder job: one order per run-out of a consumable.")
orders_app = store_group(help="Orders of consumables: list, show, ship, deliver, cancel.")


def register(app: typer.Typer) -> None:
    """Add the ``reorders`` and ``orders`` groups to ``app``."""
    app.add_typer(reorders_app, name="reorders")
    app.add_typer(orders_app, name="orders")


@reorders_app.command("run")
def run_command(
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Forecast at this instant (with an offset); default now."),
    ] = None,
) -> None:
    """Forecast every device's consumables and place the orders due, each once.

    Exit codes: 0 ok, 2 invalid input.
    """
    from iotbill.entrypoints.cli.output import print_table, table
    from iotbill.services.orders import run_reorders

    current = session()
    moment = current.instant_or_now(as_of, "--as-of")
    checks = run_reorders(current.uow(), as_of=moment)
    placed = [check.order for check in checks if check.order is not None]
    data = {
        "as_of": moment.isoformat(),
        "placed": [order.as_json() for order in placed],
        "checks": [
            {
                "customer": check.customer,
                "device": check.device,
                "consumable": check.consumable,
                "decision": check.decision.reason,
                "run_out": None
                if check.decision.run_out is None
                else check.decision.run_out.isoformat(),
            }
            for check in checks
        ],
    }

    def show() -> None:
        shown = table(
            f"Reorders at {moment.isoformat()}", "Device", "Consumable", "Run-out", "Decision"
        )
        for check in checks:
            run_out = check.decision.run_out
            shown.add_row(
                check.device,
                check.consumable,
                "none forecast" if run_out is None else run_out.isoformat(),
                check.decision.reason.replace("_", " ")
                + ("" if check.order is None else f": {check.order.id}"),
            )
        print_table(shown)
        typer.echo(f"{len(placed)} order(s) placed")

    current.emit(data, show)


@orders_app.command("list")
def list_command(
    customer: Annotated[str | None, typer.Option("--customer", help="Only this one's.")] = None,
) -> None:
    """List the orders, oldest first."""
    from iotbill.entrypoints.cli.output import print_table, table
    from iotbill.services.orders import list_orders

    current = session()
    found = list_orders(current.uow(), customer)

    def show() -> None:
        shown = table("Orders", "Id", "Device", "Consumable", "Status", "Placed", "Price>")
        for order in found:
            view = order.as_json()
            shown.add_row(
                order.id,
                order.device_id,
                order.consumable,
                order.status,
                view["placed_at"],
                f"{view['price']} {order.currency}",
            )
        print_table(shown)

    current.emit([order.as_json() for order in found], show)


@orders_app.command("show")
def show_command(order: Annotated[str, typer.Argument(help="The order's id.")]) -> None:
    """Show one order and each of its steps. Exit codes: 0 ok, 3 unknown order."""
    from iotbill.services.orders import get_order

    current = session()
    _emit(get_order(current.uow(), order))


@orders_app.command("ship")
def ship_command(
    order: Annotated[str, typer.Argument(help="The order's id.")],
    at: Annotated[str | None, typer.Option("--at", help=AT_HELP)] = None,
) -> None:
    """Record that an order was shipped. Exit codes: 0 ok, 2 invalid input, 3 unknown order,
    4 not placed."""
    from iotbill.services.orders import ship_order

    current = session()
    moment = current.instant_or_now(at, "--at")
    _emit(ship_order(current.uow(), order, at=moment))


@orders_app.command("deliver")
def deliver_command(
    order: Annotated[str, typer.Argument(help="The order's id.")],
    at: Annotated[str | None, typer.Option("--at", help=AT_HELP)] = None,
) -> None:
    """Record that an order was delivered. Exit codes: 0 ok, 2 invalid input, 3 unknown
    order, 4 not shipped."""
    from iotbill.services.orders import deliver_order

    current = session()
    moment = current.instant_or_now(at, "--at")
    _emit(deliver_order(current.uow(), order, at=moment))


@orders_app.command("cancel")
def cancel_command(
    order: Annotated[str, typer.Argument(help="The order's id.")],
    at: Annotated[str | None, typer.Option("--at", help=AT_HELP)] = None,
) -> None:
    """Cancel an order in progress: not billed, or credited back if already invoiced.
    Exit codes: 0 ok, 2 invalid input, 3 unknown order, 4 delivered or cancelled."""
    from iotbill.services.orders import cancel_order

    current = session()
    moment = current.instant_or_now(at, "--at")
    _emit(cancel_order(current.uow(), order, at=moment))


def _emit(order: Order) -> None:
    view = order.as_json()
    steps = ", ".join(
        f"{step} {view[f'{step}_at']}"
        for step in ("placed", "shipped", "delivered", "cancelled")
        if view[f"{step}_at"] is not None
    )
    credit = "" if order.credit_id is None else f"; credited back as {order.credit_id}"
    session().emit(
        view,
        f"{order.id}: {order.description}, {view['price']} {order.currency}, "
        f"{order.status} ({steps}){credit}",
    )
