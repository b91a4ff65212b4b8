"""``iotbill coupons create|apply|list``: discounts on subscriptions.

A coupon takes a percentage or an amount off a subscription's lines (all of
them, one plan's or one charge's), before tax and as lines of their own, for a
number of billing periods from its redemption or forever (docs/billing.md,
Coupons).
"""

from __future__ import annotations

from typing import Annotated

import typer

from iotbill.entrypoints.cli.session import session, store_group

coupons_app = store_group(help="Coupons: a percentage or an amount off, for some periods.")
Code = Annotated[str, typer.Argument(help="Coupon code, e.g. LAUNCH20.")]


def register(app: typer.Typer) -> None:
    """Add the ``coupons`` group to ``app``."""
    app.add_typer(coupons_app, name="coupons")


@coupons_app.command("create")
def create_command(
    code: Code,
    percent: Annotated[
        str | None, typer.Option("--percent", help="Percentage off, more than 0, at most 100.")
    ] = None,
    amount: Annotated[
        str | None, typer.Option("--amount", help="Amount off each period, e.g. 10.00.")
    ] = None,
    currency: Annotated[
        str | None, typer.Option("--currency", help="The amount's currency (ISO 4217).")
    ] = None,
    plan: Annotated[str | None, typer.Option("--plan", help="Only this plan's lines.")] = None,
    charge: Annotated[
        str | None, typer.Option("--charge", help="Only this charge's (or fee's) lines.")
    ] = None,
    periods: Annotated[
        int | None, typer.Option("--periods", help="Billing periods it lasts (default: forever).")
    ] = None,
    max_redemptions: Annotated[
        int | None, typer.Option("--max-redemptions", help="How many times it may be applied.")
    ] = None,
    name: Annotated[str, typer.Option("--name", help="What it is for.")] = "",
) -> None:
    """Create a coupon.

    Exit codes: 0 ok, 2 invalid input (every problem listed), 3 unknown plan, 4 code taken.
    """
    from iotbill.entrypoints.cli.output import flag_names
    from iotbill.services.coupons import create_coupon

    current = session()
    with flag_names(
        percent="--percent",
        amount="--amount",
        currency="--currency",
        plan="--plan",
        charge="--charge",
        periods="--periods",
        max_redemptions="--max-redemptions",
    ):
        coupon = create_coupon(
            current.uow(),
            code=code,
            at=current.now(),
            percent=percent,
            amount=amount,
            currency=currency,
            plan=plan,
            charge=charge,
            periods=periods,
            max_redemptions=max_redemptions,
            name=name,
        )
    current.emit(coupon.as_json(0), f"created coupon {coupon.code}: {coupon.terms}")


@coupons_app.command("apply")
def apply_command(
    code: Code,
    subscription: Annotated[str, typer.Option("--subscription", help="Subscription id.")],
    at: Annotated[
        str | None,
        typer.Option("--at", help="Redeemed at (default: now): a date (local midnight) or a time."),
    ] = None,
) -> None:
    """Apply a coupon to a subscription, from the first period not yet invoiced.

    Exit codes: 0 ok, 2 invalid input, 3 unknown coupon or subscription, 4 refused (limit
    reached, another coupon then, periods already invoiced, subscription ended).
    """
    from iotbill.entrypoints.cli.options import parse_date_or_instant
    from iotbill.services.coupons import apply_coupon
    from iotbill.services.customers import get_customer
    from iotbill.services.moments import instant_for
    from iotbill.services.subscriptions import get_subscription

    current = session()
    if at is None:
        redeemed_at = current.now()
    else:
        found = get_subscription(current.uow(), subscription)
        customer = get_customer(current.uow(), found.customer_id)
        redeemed_at = instant_for(parse_date_or_instant(at, "--at"), customer, "--at")
    redemption = apply_coupon(current.uow(), code, subscription=subscription, at=redeemed_at)
    current.emit(
        redemption.as_json(),
        f"applied coupon {code} to {subscription} at {redemption.redeemed_at.isoformat()}",
    )


@coupons_app.command("list")
def list_command() -> None:
    """List the coupons, with how many times each was redeemed."""
    from iotbill.entrypoints.cli.output import print_table, table
    from iotbill.services.coupons import list_coupons

    current = session()
    found = list_coupons(current.uow())

    def show() -> None:
        shown = table("Coupons", "Code", "Terms", "Redeemed>", "Limit>", "Name")
        for coupon, redeemed in found:
            limit = "none" if coupon.max_redemptions is None else str(coupon.max_redemptions)
            shown.add_row(coupon.code, coupon.terms, str(redeemed), limit, coupon.name)
        print_table(shown)

    current.emit([coupon.as_json(redeemed) for coupon, redeemed in found], show)
