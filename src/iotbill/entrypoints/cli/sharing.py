"""``iotbill sharing buyers add|list`` and ``iotbill payouts statement`` (asset sharing).

A device on a plan with ``sharing`` terms sells its spare capacity; its buyers
are registered under the names its sale events give, each a customer invoiced
for what it buys (``--customer``) or a market that pays the operator directly
(``--paid-directly``). The bill run settles each period's sales; ``payouts
statement`` shows a customer, per asset, what was sold, at which prices, the
share and the credit.
"""

from __future__ import annotations

from typing import Annotated

import typer

from iotbill.domain.errors import InvalidInput
from iotbill.domain.models.asset_sharing import AssetBuyer
from iotbill.entrypoints.cli.options import AT_HELP, parse_date_or_instant
from iotbill.entrypoints.cli.session import session, store_group

sharing_app = store_group(help="Asset sharing: who buys a device's spare capacity.")
buyers_app = store_group(help="The buyers of devices' capacity: add, list.")
payouts_app = store_group(help="What customers' assets sold, and their share.")


def register(app: typer.Typer) -> None:
    """Add the ``sharing`` and ``payouts`` groups to ``app``."""
    sharing_app.add_typer(buyers_app, name="buyers")
    app.add_typer(sharing_app, name="sharing")
    app.add_typer(payouts_app, name="payouts")


@buyers_app.command("add")
def add_command(
    device: Annotated[str, typer.Option("--device", help="The shared device.")],
    buyer: Annotated[str, typer.Option("--buyer", help="The buyer's name in sale events.")],
    customer: Annotated[
        str | None,
        typer.Option("--customer", help="The customer invoiced for what it buys."),
    ] = None,
    paid_directly: Annotated[
        bool,
        typer.Option("--paid-directly", help="A market that pays the operator directly."),
    ] = False,
    at: Annotated[str | None, typer.Option("--at", help=AT_HELP)] = None,
) -> None:
    """Register a buyer of a device's capacity. Exit codes: 0 ok, 2 invalid input, 3 unknown
    device or customer, 4 no sharing plan covers the device, or the name is taken."""
    from iotbill.services.sharing import register_buyer

    if (customer is None) == (not paid_directly):
        raise InvalidInput.at("--customer", "give either --customer or --paid-directly")
    current = session()
    moment = current.instant_or_now(at, "--at")
    added = register_buyer(current.uow(), device=device, buyer=buyer, customer=customer, at=moment)
    current.emit(added.as_json(), _text(added))


@buyers_app.command("list")
def list_command(
    device: Annotated[str | None, typer.Option("--device", help="Only this one's.")] = None,
) -> None:
    """List the buyers, by device, then name."""
    from iotbill.entrypoints.cli.output import print_table, table
    from iotbill.services.sharing import list_buyers

    current = session()
    found = list_buyers(current.uow(), device)

    def show() -> None:
        shown = table("Buyers", "Device", "Buyer", "Invoiced customer", "Since")
        for buyer in found:
            shown.add_row(
                buyer.device_id,
                buyer.code,
                buyer.customer_id or "paid directly",
                buyer.added_at.isoformat(),
            )
        print_table(shown)

    current.emit([buyer.as_json() for buyer in found], show)


@payouts_app.command("statement")
def statement_command(
    customer: Annotated[str, typer.Option("--customer", help="The assets' owner.")],
    period: Annotated[
        str,
        typer.Option(
            "--period",
            help="The billing period holding this month (2026-03), date or instant.",
        ),
    ],
    asset: Annotated[str | None, typer.Option("--asset", help="Only this device.")] = None,
) -> None:
    """Show, per asset, what was sold in a period, at which prices, the share and the
    credit. Exit codes: 0 ok, 2 invalid input, 3 unknown customer or device."""
    from iotbill.domain.subscription_billing import span_text
    from iotbill.entrypoints.cli.output import flag_names, print_table, table
    from iotbill.services.sharing import payout_statement

    moment = parse_date_or_instant(f"{period}-01" if len(period) == 7 else period, "--period")
    current = session()
    with flag_names(period="--period", asset="--asset"):
        statement = payout_statement(current.uow(), customer=customer, period=moment, device=asset)
    data = statement.as_json()

    def show() -> None:
        money = data["currency"]
        if not statement.assets:
            typer.echo(f"{customer}: nothing sold in the period holding {data['on']}")
            return
        zone = statement.customer.zone
        periods = sorted({settlement.period for settlement in statement.settlements}, key=str)
        spans = ", ".join(span_text(period, zone) for period in periods)
        shown = table(
            f"{customer}: capacity sold, {spans}",
            "Asset",
            "Buyer",
            "Price>",
            "Quantity>",
            "Amount>",
            "Settled",
        )
        for view in data["assets"]:
            for line in view["sold"]:
                shown.add_row(
                    view["device"],
                    line["buyer"] + (" (paid directly)" if line["paid_directly"] else ""),
                    f"{line['price']} {money}",
                    line["quantity"],
                    f"{line['amount']} {money}",
                    "late" if line["late"] else "on time",
                )
        print_table(shown)
        share = ", ".join(f"{s} %" for s in data["share"])
        for view in data["assets"]:
            typer.echo(
                f"{view['device']}: sold {view['revenue']} {money}; share {share}: credit"
                f" {view['credit']} {money}; operator {view['operator']} {money}"
            )
        totals = data["totals"]
        typer.echo(
            f"Total: sold {totals['revenue']} {money}, credited {totals['credit']} {money},"
            f" operator {totals['operator']} {money}"
        )

    current.emit(data, show)


def _text(buyer: AssetBuyer) -> str:
    who = (
        "paid directly by the market" if buyer.paid_directly else f"invoiced to {buyer.customer_id}"
    )
    return f"{buyer.device_id}: buyer {buyer.code!r}, {who}, from {buyer.added_at.isoformat()}"
