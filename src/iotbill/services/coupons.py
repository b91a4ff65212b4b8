"""Coupons: create them, apply them to subscriptions, list them.

The rules are the domain's (:mod:`iotbill.domain.coupons` for what a coupon
is, :mod:`iotbill.domain.discounts` for what it takes off); the bill run prices
the discounts with the lines they discount. Applying a coupon is refused
(:class:`Conflict`) when:

* the coupon was redeemed ``max_redemptions`` times already;
* the subscription has ended by the redemption;
* the subscription has another coupon for a period of the new one's window (one
  coupon at a time, so two never discount the same line);
* an invoice of the subscription was issued from the window's first period on
  (a coupon never changes an invoice already issued: redeem it for a later
  period).

A fixed-amount coupon in another currency than the customer's is invalid input.
Each function is one unit of work: it enters the ``uow`` it is given.
"""

from __future__ import annotations

from datetime import datetime

from iotbill.domain.coupons import Coupon, Redemption, redemption_id, window
from iotbill.domain.errors import Conflict, InvalidInput
from iotbill.domain.periods import require_aware
from iotbill.services.ports import UnitOfWork


def create_coupon(
    uow: UnitOfWork,
    *,
    code: str,
    at: datetime,
    percent: str | None = None,
    amount: str | None = None,
    currency: str | None = None,
    plan: str | None = None,
    charge: str | None = None,
    periods: int | None = None,
    max_redemptions: int | None = None,
    name: str = "",
) -> Coupon:
    """Store a new coupon. Every problem is reported at once, each at its field; an
    unknown plan is :class:`NotFound`; a code taken is a :class:`Conflict`."""
    with uow:
        coupon = Coupon.create(
            code=code,
            created_at=at,
            percent=percent,
            amount=amount,
            currency_code=currency,
            plan=plan,
            charge=charge,
            periods=periods,
            max_redemptions=max_redemptions,
            name=name,
        )
        if coupon.plan is not None:
            uow.plans.get(coupon.plan)
        uow.coupons.add(coupon)
        uow.commit()
    return coupon


def apply_coupon(uow: UnitOfWork, code: str, *, subscription: str, at: datetime) -> Redemption:
    """Redeem coupon ``code`` on ``subscription`` at ``at``; refused as the module says."""
    at = require_aware(at, "at")
    with uow:
        coupon = uow.coupons.get(code)
        found = uow.subscriptions.get(subscription)
        customer = uow.customers.get(found.customer_id)
        if coupon.currency is not None and coupon.currency != customer.currency:
            raise InvalidInput.at(
                "coupon",
                f"{code} takes {coupon.off} off, but {subscription} is billed in"
                f" {customer.currency}",
            )
        redeemed = uow.coupons.redemptions(coupon=code)
        if coupon.max_redemptions is not None and len(redeemed) >= coupon.max_redemptions:
            raise Conflict(f"coupon {code} was redeemed {len(redeemed)} times, its limit")
        if found.end is not None and found.end <= at:
            raise Conflict(f"subscription {subscription} has ended ({found.end.isoformat()})")
        cycle = found.cycle(customer.timezone)
        wanted = window(coupon, at, found, cycle)
        held = uow.coupons.redemptions(subscriptions=[subscription])
        coupons = {held_coupon.code: held_coupon for held_coupon in uow.coupons.list()}
        for other in held:
            if window(coupons[other.coupon], other.redeemed_at, found, cycle).overlaps(wanted):
                raise Conflict(
                    f"subscription {subscription} has coupon {other.coupon} for some of the"
                    f" periods from {wanted.first.start.isoformat()}"
                )
        issued = [
            summary
            for summary in uow.invoices.summaries([subscription])
            if summary.status != "void" and summary.issued_at >= wanted.first.start
        ]
        if issued:
            raise Conflict(
                f"subscription {subscription} has invoice {issued[0].id} from"
                f" {wanted.first.start.isoformat()} on; redeem the coupon for a later period"
            )
        redemption = Redemption(
            id=redemption_id(code, subscription, at),
            coupon=code,
            subscription_id=subscription,
            customer_id=customer.id,
            redeemed_at=at,
        )
        uow.coupons.redeem(redemption)
        uow.commit()
    return redemption


def list_coupons(uow: UnitOfWork) -> list[tuple[Coupon, int]]:
    """Every coupon, by code, with how many times it was redeemed."""
    with uow:
        redeemed = uow.coupons.redemptions()
        return [
            (coupon, sum(1 for redemption in redeemed if redemption.coupon == coupon.code))
            for coupon in uow.coupons.list()
        ]
