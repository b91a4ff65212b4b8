"""Subscriptions: create, list, show, change plan, cancel (``/v1/subscriptions``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from iotbill.domain.errors import Conflict
from iotbill.entrypoints.api.auth import BillingRead, BillingWrite
from iotbill.entrypoints.api.idempotency import IdempotentRoute
from iotbill.entrypoints.api.pagination import (
    DEFAULT_LIMIT,
    Cursor,
    Limit,
    by_id,
    store_page,
)
from iotbill.entrypoints.api.problems import responses
from iotbill.entrypoints.api.routes.common import (
    READ_PROBLEMS,
    WRITE_PROBLEMS,
    invoice_view,
    moment,
    optional_reference,
    path_id,
    reference,
    step_at,
    subscription_view,
    usage_view,
)
from iotbill.entrypoints.api.schemas import (
    InvoiceOut,
    PageOf,
    SubscriptionCancelIn,
    SubscriptionChangeIn,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPauseIn,
    UsageOut,
)
from iotbill.services import customers, subscriptions
from iotbill.services.upcoming import upcoming_invoice
from iotbill.services.usage import usage

router = APIRouter(prefix="/v1", tags=["subscriptions"], route_class=IdempotentRoute)


@router.post(
    "/subscriptions",
    status_code=201,
    response_model=SubscriptionOut,
    summary="Subscribe a customer (or one of its devices) to a plan",
    responses=responses(*WRITE_PROBLEMS),
)
def create_subscription(body: SubscriptionIn, access: BillingWrite) -> dict[str, Any]:
    now = access.clock.now()
    created = subscriptions.create_subscription(
        access.uow(),
        customer=reference(body.customer),
        plan=body.plan,
        start=moment(body.start, "start", now),
        plan_version=body.plan_version,
        billing_mode=body.billing_mode,
        trial_days=body.trial_days,
        trial_end=None if body.trial_end is None else moment(body.trial_end, "trial_end", now),
        device=optional_reference(body.device),
        id=body.id,
    )
    return subscription_view(created)


@router.get(
    "/subscriptions",
    response_model=PageOf[SubscriptionOut],
    summary="List subscriptions, by id (?customer=, ?plan=)",
    responses=responses(*READ_PROBLEMS),
)
def list_subscriptions(
    access: BillingRead,
    customer: Annotated[str | None, Query(max_length=400)] = None,
    plan: Annotated[str | None, Query(max_length=128)] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, Any]:
    owner = access.customer_filter(optional_reference(customer))
    if owner is not None:
        customers.get_customer(access.uow(read_only=True), owner)  # another tenant's: 404
    return store_page(
        lambda paging: subscriptions.list_subscriptions(
            access.uow(read_only=True), customer=owner, plan=plan, paging=paging
        ),
        key=lambda s: [s.id],
        after=by_id,
        view=subscription_view,
        cursor=cursor,
        limit=limit,
    )


@router.get(
    "/subscriptions/{subscription_id}",
    response_model=SubscriptionOut,
    summary="Show a subscription",
    responses=responses(*READ_PROBLEMS),
)
def show_subscription(subscription_id: str, access: BillingRead) -> dict[str, Any]:
    wanted = path_id(subscription_id, "subscription")
    with access.uow(read_only=True) as uow:
        found = uow.subscriptions.get(wanted)
    access.own(found.customer_id, "subscription", wanted)
    return subscription_view(found)


@router.post(
    "/subscriptions/{subscription_id}/change",
    response_model=SubscriptionOut,
    summary="Move a subscription to another plan, now or at its period end",
    responses=responses(*WRITE_PROBLEMS),
)
def change_subscription(
    subscription_id: str, body: SubscriptionChangeIn, access: BillingWrite
) -> dict[str, Any]:
    changed = subscriptions.change_subscription(
        access.uow(),
        path_id(subscription_id, "subscription"),
        plan=body.plan,
        timing=body.timing,
        at=moment(body.at, "at", access.clock.now()),
        plan_version=body.plan_version,
    )
    return subscription_view(changed)


@router.post(
    "/subscriptions/{subscription_id}/cancel",
    response_model=SubscriptionOut,
    summary="Cancel a subscription, now or at its period end",
    responses=responses(*WRITE_PROBLEMS),
)
def cancel_subscription(
    subscription_id: str, body: SubscriptionCancelIn, access: BillingWrite
) -> dict[str, Any]:
    cancelled = subscriptions.cancel_subscription(
        access.uow(),
        path_id(subscription_id, "subscription"),
        timing=body.timing,
        at=moment(body.at, "at", access.clock.now()),
    )
    return subscription_view(cancelled)


@router.post(
    "/subscriptions/{subscription_id}/pause",
    response_model=SubscriptionOut,
    summary="Pause a subscription: no fee or usage billed until it resumes",
    responses=responses(*WRITE_PROBLEMS),
)
def pause_subscription(
    subscription_id: str, access: BillingWrite, body: SubscriptionPauseIn | None = None
) -> dict[str, Any]:
    paused = subscriptions.pause_subscription(
        access.uow(),
        path_id(subscription_id, "subscription"),
        at=moment(step_at(body), "at", access.clock.now()),
    )
    return subscription_view(paused)


@router.post(
    "/subscriptions/{subscription_id}/resume",
    response_model=SubscriptionOut,
    summary="Resume a paused subscription",
    responses=responses(*WRITE_PROBLEMS),
)
def resume_subscription(
    subscription_id: str, access: BillingWrite, body: SubscriptionPauseIn | None = None
) -> dict[str, Any]:
    resumed = subscriptions.resume_subscription(
        access.uow(),
        path_id(subscription_id, "subscription"),
        at=moment(step_at(body), "at", access.clock.now()),
    )
    return subscription_view(resumed)


@router.get(
    "/subscriptions/{subscription_id}/usage",
    response_model=UsageOut,
    summary="The usage stored so far in the subscription's open period (?by=hour|day|month)",
    responses=responses(*READ_PROBLEMS, 409),
)
def subscription_usage(
    subscription_id: str,
    access: BillingRead,
    by: Literal["hour", "day", "month"] | None = None,
) -> dict[str, Any]:
    now = access.clock.now()
    wanted = path_id(subscription_id, "subscription")
    with access.uow(read_only=True) as uow:
        subscription = uow.subscriptions.get(wanted)
        access.own(subscription.customer_id, "subscription", wanted)
        customer = uow.customers.get(subscription.customer_id)
    if now < subscription.start or (subscription.end is not None and now >= subscription.end):
        raise Conflict(f"subscription {subscription.id} has no open period now")
    period = subscription.cycle(customer.timezone).period_containing(now)
    report = usage(
        access.uow(read_only=True),
        customer=subscription.customer_id,
        device=subscription.device_id,
        start=period.start,
        end=period.end,
        by=by,
    )
    return usage_view(report)


@router.get(
    "/subscriptions/{subscription_id}/upcoming",
    response_model=InvoiceOut,
    summary="The invoice the open period would close into, from the usage so far",
    responses=responses(*READ_PROBLEMS, 409),
)
def subscription_upcoming(subscription_id: str, access: BillingRead) -> dict[str, Any]:
    wanted = path_id(subscription_id, "subscription")
    if access.party is not None:
        with access.uow(read_only=True) as uow:
            access.own(uow.subscriptions.get(wanted).customer_id, "subscription", wanted)
    draft = upcoming_invoice(access.uow(read_only=True), wanted, now=access.clock.now())
    return invoice_view(draft)
