"""The tenant's webhook endpoints and deliveries over HTTP (``billing:read``, ``billing:write``):
``/v1/webhooks`` and ``/v1/webhook-deliveries``, as ``iotbill webhooks`` does them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import Field

from iotbill.entrypoints.api.auth import BillingRead, BillingWrite
from iotbill.entrypoints.api.idempotency import IdempotentRoute
from iotbill.entrypoints.api.pagination import DEFAULT_LIMIT, Cursor, Limit, page_view
from iotbill.entrypoints.api.problems import responses
from iotbill.entrypoints.api.routes.common import READ_PROBLEMS, WRITE_PROBLEMS, path_id
from iotbill.entrypoints.api.schemas import Body, Out, PageOf
from iotbill.services import webhooks

router = APIRouter(prefix="/v1", tags=["webhooks"], route_class=IdempotentRoute)


class WebhookIn(Body):
    url: Annotated[str, Field(min_length=1, max_length=2000, examples=["https://x.example/hooks"])]
    events: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=64)]],
        Field(min_length=1, max_length=20, examples=[["invoice.finalized"]]),
    ]


class WebhookOut(Out):
    id: str
    url: str
    events: list[str]
    created_at: str
    active: bool


class CreatedWebhookOut(WebhookOut):
    secret: str


class AttemptOut(Out):
    number: int
    at: str
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryOut(Out):
    id: str
    event_id: str
    type: str
    endpoint: str
    url: str
    status: str
    next_attempt_at: str
    deadline: str
    delivered_at: str | None
    attempts: list[AttemptOut]


@router.post(
    "/webhooks",
    status_code=201,
    response_model=CreatedWebhookOut,
    summary="Add a webhook endpoint: its signing secret is shown this once",
    responses=responses(*WRITE_PROBLEMS),
)
def create_webhook(body: WebhookIn, access: BillingWrite) -> dict[str, Any]:
    made = webhooks.add_endpoint(access.uow(), body.url, body.events, at=access.clock.now())
    return {**webhooks.endpoint_json(made), "secret": made.secret}


@router.get(
    "/webhooks",
    response_model=PageOf[WebhookOut],
    summary="List this tenant's webhook endpoints, by id (never a secret)",
    responses=responses(*READ_PROBLEMS),
)
def list_webhooks(
    access: BillingRead, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> dict[str, Any]:
    found = webhooks.list_endpoints(access.uow(read_only=True))
    return page_view(
        found, key=lambda e: [e.id], view=webhooks.endpoint_json, cursor=cursor, limit=limit
    )


@router.post(
    "/webhooks/{endpoint_id}/disable",
    response_model=WebhookOut,
    summary="Stop sending to a webhook endpoint",
    responses=responses(*WRITE_PROBLEMS),
)
def disable_webhook(endpoint_id: str, access: BillingWrite) -> dict[str, Any]:
    found = path_id(endpoint_id, "webhook endpoint")
    return webhooks.endpoint_json(
        webhooks.disable_endpoint(access.uow(), found, at=access.clock.now())
    )


@router.get(
    "/webhook-deliveries",
    response_model=PageOf[DeliveryOut],
    summary="List webhook deliveries with their attempts, by delivery id",
    responses=responses(*READ_PROBLEMS),
)
def list_webhook_deliveries(
    access: BillingRead,
    status: Annotated[Literal["pending", "delivered", "failed"] | None, Query()] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, Any]:
    found = webhooks.list_deliveries(access.uow(read_only=True), status=status, limit=10_000)
    return page_view(
        found,
        key=lambda v: [v.delivery.id],
        view=webhooks.delivery_json,
        cursor=cursor,
        limit=limit,
    )


@router.post(
    "/webhook-deliveries/{delivery_id}/resend",
    response_model=DeliveryOut,
    summary="Send a failed (or delivered) delivery again, now, under the same event id",
    responses=responses(*WRITE_PROBLEMS),
)
def resend_webhook_delivery(delivery_id: str, access: BillingWrite) -> dict[str, Any]:
    found = path_id(delivery_id, "webhook delivery")
    webhooks.resend(access.uow(), found, at=access.clock.now())
    [view] = [
        v for v in webhooks.list_deliveries(access.uow(read_only=True), limit=10_000)
        if v.delivery.id == found
    ]  # fmt: skip
    return webhooks.delivery_json(view)
