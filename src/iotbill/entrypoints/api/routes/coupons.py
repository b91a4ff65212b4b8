"""Coupons: create, list, and redeem on a subscription (``/v1/coupons``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from iotbill.entrypoints.api.auth import BillingRead, BillingWrite
from iotbill.entrypoints.api.idempotency import IdempotentRoute
from iotbill.entrypoints.api.pagination import DEFAULT_LIMIT, Cursor, Limit, paginate
from iotbill.entrypoints.api.problems import responses
from iotbill.entrypoints.api.routes.common import (
    READ_PROBLEMS,
    WRITE_PROBLEMS,
    instant,
    path_id,
    reference,
    with_url_ids,
)
from iotbill.entrypoints.api.schemas import CouponIn, CouponOut, PageOf, RedemptionIn, RedemptionOut
from iotbill.services import coupons

router = APIRouter(prefix="/v1", tags=["coupons"], route_class=IdempotentRoute)


@router.post(
    "/coupons",
    status_code=201,
    response_model=CouponOut,
    summary="Create a coupon: a percentage or an amount off, for some periods or forever",
    responses=responses(*WRITE_PROBLEMS),
)
def create_coupon(body: CouponIn, access: BillingWrite) -> dict[str, Any]:
    created = coupons.create_coupon(
        access.uow(),
        code=body.code,
        at=access.clock.now(),
        percent=body.percent,
        amount=body.amount,
        currency=body.currency,
        plan=body.plan,
        charge=body.charge,
        periods=body.periods,
        max_redemptions=body.max_redemptions,
        name=body.name,
    )
    return created.as_json(0)


@router.get(
    "/coupons",
    response_model=PageOf[CouponOut],
    summary="List the coupons, by code, with how many times each was redeemed",
    responses=responses(*READ_PROBLEMS),
)
def list_coupons(
    access: BillingRead, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> dict[str, Any]:
    found = coupons.list_coupons(access.uow(read_only=True))
    page = paginate(found, key=lambda pair: [pair[0].code], cursor=cursor, limit=limit)
    return {
        "data": [coupon.as_json(redeemed) for coupon, redeemed in page.data],
        "next_cursor": page.next_cursor,
    }


@router.post(
    "/coupons/{code}/redemptions",
    status_code=201,
    response_model=RedemptionOut,
    summary="Redeem a coupon on a subscription, from the period that holds `at` on",
    responses=responses(*WRITE_PROBLEMS),
)
def redeem_coupon(code: str, body: RedemptionIn, access: BillingWrite) -> dict[str, Any]:
    subscription = reference(body.subscription)

    def owner() -> str:
        with access.uow(read_only=True) as uow:
            return uow.subscriptions.get(subscription).customer_id

    redeemed = coupons.apply_coupon(
        access.uow(),
        path_id(code, "coupon"),
        subscription=subscription,
        at=instant(access, body.at, "at", owner),
    )
    return with_url_ids(redeemed.as_json(), "id", "subscription", "customer")
