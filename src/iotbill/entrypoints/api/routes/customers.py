"""Customers and their devices: ``/v1/customers``, ``/v1/devices``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from iotbill.entrypoints.api.auth import BillingRead, BillingWrite
from iotbill.entrypoints.api.idempotency import IdempotentRoute
from iotbill.entrypoints.api.pagination import DEFAULT_LIMIT, Cursor, Limit, by_id, store_page
from iotbill.entrypoints.api.problems import responses
from iotbill.entrypoints.api.routes.common import (
    READ_PROBLEMS,
    WRITE_PROBLEMS,
    customer_view,
    device_view,
    moment,
    optional_reference,
    path_id,
    reference,
    usage_view,
)
from iotbill.entrypoints.api.schemas import (
    CustomerIn,
    CustomerOut,
    DeviceIn,
    DeviceMoveIn,
    DeviceMoveOut,
    DeviceOut,
    PageOf,
    UsageOut,
)
from iotbill.entrypoints.api.schemas import Moment as MomentText
from iotbill.services import customers
from iotbill.services.usage import usage

router = APIRouter(prefix="/v1", route_class=IdempotentRoute)


@router.post(
    "/customers",
    status_code=201,
    response_model=CustomerOut,
    tags=["customers"],
    summary="Add a customer",
    responses=responses(*WRITE_PROBLEMS),
)
def create_customer(body: CustomerIn, access: BillingWrite) -> dict[str, Any]:
    created = customers.add_customer(
        access.uow(),
        id=body.id,
        name=body.name,
        currency=body.currency,
        timezone=body.timezone,
        billing_address=body.billing_address,
        tax_rate=body.tax_rate,
    )
    return customer_view(created)


@router.get(
    "/customers",
    response_model=PageOf[CustomerOut],
    tags=["customers"],
    summary="List customers, by id",
    responses=responses(*READ_PROBLEMS),
)
def list_customers(
    access: BillingRead, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> dict[str, Any]:
    return store_page(
        lambda paging: customers.list_customers(access.uow(read_only=True), paging),
        key=lambda c: [c.id],
        after=by_id,
        view=customer_view,
        cursor=cursor,
        limit=limit,
    )


@router.get(
    "/customers/{customer_id}",
    response_model=CustomerOut,
    tags=["customers"],
    summary="Show a customer",
    responses=responses(*READ_PROBLEMS),
)
def show_customer(customer_id: str, access: BillingRead) -> dict[str, Any]:
    wanted = path_id(customer_id, "customer")
    access.own(wanted, "customer", wanted)
    found = customers.get_customer(access.uow(read_only=True), wanted)
    return customer_view(found)


@router.get(
    "/customers/{customer_id}/usage",
    response_model=UsageOut,
    tags=["customers"],
    summary="Stored usage of a customer (or one device) per meter over [from, to)",
    responses=responses(*READ_PROBLEMS),
)
def customer_usage(
    customer_id: str,
    access: BillingRead,
    start: Annotated[MomentText, Query(alias="from")],
    end: Annotated[MomentText, Query(alias="to")],
    device: Annotated[str | None, Query(max_length=400)] = None,
    meter: Annotated[str | None, Query(max_length=128)] = None,
    by: Literal["hour", "day", "month"] | None = None,
) -> dict[str, Any]:
    now = access.clock.now()
    owner = path_id(customer_id, "customer")
    access.own(owner, "customer", owner)
    customers.get_customer(access.uow(read_only=True), owner)  # unknown (or another's): 404
    report = usage(
        access.uow(read_only=True),
        customer=owner,
        start=moment(start, "from", now),
        end=moment(end, "to", now),
        device=optional_reference(device),
        meter=meter,
        by=by,
    )
    return usage_view(report)


@router.post(
    "/devices",
    status_code=201,
    response_model=DeviceOut,
    tags=["devices"],
    summary="Add a device, owned by a customer from an instant",
    responses=responses(*WRITE_PROBLEMS),
)
def create_device(body: DeviceIn, access: BillingWrite) -> dict[str, Any]:
    start = moment(body.start, "start", access.clock.now())
    created = customers.add_device(
        access.uow(), body.id, customer=reference(body.customer), start=start
    )
    return device_view(created)


@router.get(
    "/devices",
    response_model=PageOf[DeviceOut],
    tags=["devices"],
    summary="List devices, by id (of one customer: ?customer=)",
    responses=responses(*READ_PROBLEMS),
)
def list_devices(
    access: BillingRead,
    customer: Annotated[str | None, Query(max_length=400)] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, Any]:
    owner = optional_reference(customer)
    if owner is not None:
        customers.get_customer(access.uow(read_only=True), owner)  # another tenant's: 404
    return store_page(
        lambda paging: customers.list_devices(
            access.uow(read_only=True), customer=owner, paging=paging
        ),
        key=lambda d: [d.id],
        after=by_id,
        view=device_view,
        cursor=cursor,
        limit=limit,
    )


@router.get(
    "/devices/{device_id}",
    response_model=DeviceOut,
    tags=["devices"],
    summary="Show a device and its owners",
    responses=responses(*READ_PROBLEMS),
)
def show_device(device_id: str, access: BillingRead) -> dict[str, Any]:
    wanted = path_id(device_id, "device")
    with access.uow(read_only=True) as uow:
        found = uow.devices.get(wanted)
    return device_view(found)


@router.post(
    "/devices/{device_id}/moves",
    response_model=DeviceMoveOut,
    tags=["devices"],
    summary="Give a device to another customer from an instant",
    responses=responses(*WRITE_PROBLEMS),
)
def move_device(device_id: str, body: DeviceMoveIn, access: BillingWrite) -> dict[str, Any]:
    moved = customers.move_device(
        access.uow(),
        path_id(device_id, "device"),
        to_customer=reference(body.customer),
        at=moment(body.at, "at", access.clock.now()),
    )
    return {"device": device_view(moved.device), "events_moved": moved.events}
