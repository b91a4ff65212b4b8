"""The side flows of the business models: consumable orders (``/v1/orders``) and service
work orders (``/v1/work-orders``), each moved on step by step."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from iotbill.domain.models.orders import Order
from iotbill.domain.models.work_orders import WorkOrder
from iotbill.entrypoints.api.auth import Access, BillingRead, BillingWrite
from iotbill.entrypoints.api.idempotency import IdempotentRoute
from iotbill.entrypoints.api.pagination import DEFAULT_LIMIT, Cursor, Limit, page_view
from iotbill.entrypoints.api.problems import responses
from iotbill.entrypoints.api.routes.common import (
    READ_PROBLEMS,
    WRITE_PROBLEMS,
    instant,
    optional_reference,
    path_id,
    reference,
    step_at,
    with_url_ids,
)
from iotbill.entrypoints.api.routes.credits import charge_view
from iotbill.entrypoints.api.schemas import (
    OrderOut,
    PageOf,
    StepIn,
    WorkOrderIn,
    WorkOrderOut,
    WorkOrderResolveIn,
)
from iotbill.services import orders, work_orders

router = APIRouter(prefix="/v1", tags=["orders"], route_class=IdempotentRoute)

CustomerFilter = Annotated[str | None, Query(max_length=400)]


def order_view(order: Order) -> dict[str, Any]:
    return with_url_ids(order.as_json(), "id", "customer", "device", "charge", "credit")


def work_order_view(order: WorkOrder) -> dict[str, Any]:
    return with_url_ids(order.as_json(), "id", "customer", "device")


@router.get(
    "/orders",
    response_model=PageOf[OrderOut],
    summary="List the consumable orders (?customer=), by id",
    responses=responses(*READ_PROBLEMS),
)
def list_orders(
    access: BillingRead,
    customer: CustomerFilter = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, Any]:
    owner = optional_reference(customer)
    found = orders.list_orders(access.uow(read_only=True), owner)
    return page_view(
        found, key=lambda order: [order.id], view=order_view, cursor=cursor, limit=limit
    )


@router.get(
    "/orders/{order_id}",
    response_model=OrderOut,
    summary="Show a consumable order",
    responses=responses(*READ_PROBLEMS),
)
def show_order(order_id: str, access: BillingRead) -> dict[str, Any]:
    return order_view(orders.get_order(access.uow(read_only=True), path_id(order_id, "order")))


def _order_step(
    step: Callable[..., Order], order_id: str, body: StepIn | None, access: Access
) -> dict[str, Any]:
    wanted = path_id(order_id, "order")
    at = instant(access, step_at(body), "at", lambda: _order_customer(access, wanted))
    return order_view(step(access.uow(), wanted, at=at))


def _order_customer(access: Access, order: str) -> str:
    return orders.get_order(access.uow(read_only=True), order).customer_id


@router.post(
    "/orders/{order_id}/ship",
    response_model=OrderOut,
    summary="Record that an order was shipped",
    responses=responses(*WRITE_PROBLEMS),
)
def ship_order(order_id: str, access: BillingWrite, body: StepIn | None = None) -> dict[str, Any]:
    return _order_step(orders.ship_order, order_id, body, access)


@router.post(
    "/orders/{order_id}/deliver",
    response_model=OrderOut,
    summary="Record that an order was delivered",
    responses=responses(*WRITE_PROBLEMS),
)
def deliver_order(
    order_id: str, access: BillingWrite, body: StepIn | None = None
) -> dict[str, Any]:
    return _order_step(orders.deliver_order, order_id, body, access)


@router.post(
    "/orders/{order_id}/cancel",
    response_model=OrderOut,
    summary="Cancel an order: its charge withdrawn, or credited back if already invoiced",
    responses=responses(*WRITE_PROBLEMS),
)
def cancel_order(order_id: str, access: BillingWrite, body: StepIn | None = None) -> dict[str, Any]:
    return _order_step(orders.cancel_order, order_id, body, access)


@router.post(
    "/work-orders",
    status_code=201,
    response_model=WorkOrderOut,
    summary="Open a work order for a device by hand",
    responses=responses(*WRITE_PROBLEMS),
)
def open_work_order(body: WorkOrderIn, access: BillingWrite) -> dict[str, Any]:
    device = reference(body.device)

    def owner() -> str:  # a date is midnight where the device's latest owner is
        with access.uow(read_only=True) as uow:
            return uow.devices.get(device).owner

    opened = work_orders.open_work_order(
        access.uow(),
        device=device,
        summary=body.summary,
        at=instant(access, body.at, "at", owner),
    )
    return work_order_view(opened)


@router.get(
    "/work-orders",
    response_model=PageOf[WorkOrderOut],
    summary="List the work orders (?customer=), by id",
    responses=responses(*READ_PROBLEMS),
)
def list_work_orders(
    access: BillingRead,
    customer: CustomerFilter = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, Any]:
    owner = optional_reference(customer)
    found = work_orders.list_work_orders(access.uow(read_only=True), owner)
    return page_view(
        found, key=lambda order: [order.id], view=work_order_view, cursor=cursor, limit=limit
    )


@router.get(
    "/work-orders/{work_order_id}",
    response_model=WorkOrderOut,
    summary="Show a work order",
    responses=responses(*READ_PROBLEMS),
)
def show_work_order(work_order_id: str, access: BillingRead) -> dict[str, Any]:
    wanted = path_id(work_order_id, "work order")
    return work_order_view(work_orders.get_work_order(access.uow(read_only=True), wanted))


def _work_order_at(access: Access, wanted: str, text: str | None) -> datetime:
    def customer() -> str:
        return work_orders.get_work_order(access.uow(read_only=True), wanted).customer_id

    return instant(access, text, "at", customer)


def _work_order_step(
    step: Callable[..., WorkOrder], work_order_id: str, body: StepIn | None, access: Access
) -> dict[str, Any]:
    wanted = path_id(work_order_id, "work order")
    return work_order_view(
        step(access.uow(), wanted, at=_work_order_at(access, wanted, step_at(body)))
    )


@router.post(
    "/work-orders/{work_order_id}/dispatch",
    response_model=WorkOrderOut,
    summary="Record that a technician was sent",
    responses=responses(*WRITE_PROBLEMS),
)
def dispatch_work_order(
    work_order_id: str, access: BillingWrite, body: StepIn | None = None
) -> dict[str, Any]:
    return _work_order_step(work_orders.dispatch_work_order, work_order_id, body, access)


@router.post(
    "/work-orders/{work_order_id}/arrive",
    response_model=WorkOrderOut,
    summary="Record that the technician arrived on site",
    responses=responses(*WRITE_PROBLEMS),
)
def arrive_work_order(
    work_order_id: str, access: BillingWrite, body: StepIn | None = None
) -> dict[str, Any]:
    return _work_order_step(work_orders.arrive_work_order, work_order_id, body, access)


@router.post(
    "/work-orders/{work_order_id}/resolve",
    response_model=WorkOrderOut,
    summary="Resolve a work order: its labour and parts become charges on the next invoice",
    responses=responses(*WRITE_PROBLEMS),
)
def resolve_work_order(
    work_order_id: str, access: BillingWrite, body: WorkOrderResolveIn | None = None
) -> dict[str, Any]:
    wanted = path_id(work_order_id, "work order")
    at = _work_order_at(access, wanted, step_at(body))
    resolved, charges = work_orders.resolve_work_order(
        access.uow(), wanted, at=at, parts={} if body is None else body.parts
    )
    return work_order_view(resolved) | {"charges": [charge_view(c) for c in charges]}
