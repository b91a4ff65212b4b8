"""Data monetization and asset sharing over HTTP: devices' consent, data exports for buyers
(``/v1/data-exports``), buyers of a shared asset's capacity (``/v1/sharing/buyers``) and an
owner's payout statement (``/v1/payouts/statement``)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from iotbill.domain.errors import InvalidInput, NotFound, Problem
from iotbill.domain.models.consent import Consent
from iotbill.domain.models.data_exports import DataExport
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
from iotbill.entrypoints.api.schemas import (
    BuyerIn,
    ConsentOut,
    DataExportIn,
    DataExportOut,
    PageOf,
    StepIn,
)
from iotbill.entrypoints.api.schemas import Moment as MomentText
from iotbill.entrypoints.cli.options import parse_date_or_instant, parse_instant
from iotbill.services import data_products, sharing

router = APIRouter(prefix="/v1", tags=["data and sharing"], route_class=IdempotentRoute)

MEDIA_TYPES = {
    "csv": "text/csv",
    "jsonl": "application/jsonl",
    "parquet": "application/vnd.apache.parquet",
}
"""The media type of each export format's file."""


def _device_filter(access: Access, device: str | None) -> str | None:
    """A list's ``?device=`` filter: the stored id, after checking the device is the
    tenant's (another tenant's is :class:`NotFound`)."""
    chosen = optional_reference(device)
    if chosen is not None:
        with access.uow(read_only=True) as uow:
            uow.devices.get(chosen)
    return chosen


def _device_owner(access: Access, device: str) -> str:
    with access.uow(read_only=True) as uow:
        return uow.devices.get(device).owner


def _consent_step(
    step: Callable[..., Consent], device_id: str, body: StepIn | None, access: Access
) -> dict[str, Any]:
    """Give or withdraw (``step``) a device's consent at the body's ``at`` (else now, in the
    owner's zone)."""
    device = path_id(device_id, "device")
    at = instant(access, step_at(body), "at", lambda: _device_owner(access, device))
    return with_url_ids(step(access.uow(), device, at=at).as_json(), "device")


@router.post(
    "/devices/{device_id}/consent",
    status_code=201,
    response_model=ConsentOut,
    summary="Record that a device's owner consents, from `at`, to its data being sold",
    responses=responses(*WRITE_PROBLEMS),
)
def give_consent(
    device_id: str, access: BillingWrite, body: StepIn | None = None
) -> dict[str, Any]:
    return _consent_step(data_products.give_consent, device_id, body, access)


@router.post(
    "/devices/{device_id}/consent/withdraw",
    response_model=ConsentOut,
    summary="Record that a device's consent is withdrawn from `at` on",
    responses=responses(*WRITE_PROBLEMS),
)
def withdraw_consent(
    device_id: str, access: BillingWrite, body: StepIn | None = None
) -> dict[str, Any]:
    return _consent_step(data_products.withdraw_consent, device_id, body, access)


@router.get(
    "/consents",
    response_model=PageOf[ConsentOut],
    summary="List the consents given (?device=), each with when it was withdrawn",
    responses=responses(*READ_PROBLEMS),
)
def list_consents(
    access: BillingRead,
    device: Annotated[str | None, Query(max_length=400)] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, Any]:
    chosen = _device_filter(access, device)
    found = data_products.list_consents(access.uow(read_only=True), chosen)
    return page_view(
        found,
        key=lambda c: [c.device_id, c.given_at.isoformat()],
        view=lambda c: with_url_ids(c.as_json(), "device"),
        cursor=cursor,
        limit=limit,
    )


def export_view(export: DataExport) -> dict[str, Any]:
    return with_url_ids(export.as_json(), "id", "buyer", "charge")


@router.post(
    "/data-exports",
    status_code=201,
    response_model=DataExportOut,
    summary="Deliver a data product's k-anonymous cells to a buyer, billed per record",
    responses=responses(*WRITE_PROBLEMS),
)
def create_export(body: DataExportIn, access: BillingWrite) -> dict[str, Any]:
    buyer = access.customer_filter(optional_reference(body.buyer))
    if buyer is None:
        raise InvalidInput.at("buyer", "name the buyer: a customer holding the product")
    window = (parse_instant(body.start, "from"), parse_instant(body.end, "to"))
    delivered: list[Any] = []
    try:
        result = data_products.export_data(
            access.uow(),
            product=body.product,
            buyer=buyer,
            start=window[0],
            end=window[1],
            format=body.format,
            at=access.clock.now(),
            export_id=optional_reference(body.id),
            deliver=lambda product, cells: delivered.append((product, cells)),
        )
    except InvalidInput as error:  # the body's names of the window: from, to
        names = {"start": "from", "end": "to"}
        raise InvalidInput(
            [Problem(names.get(p.location, p.location), p.message) for p in error.problems]
        ) from None
    view = export_view(result.export) | {"repeated": result.repeated}
    if access.party is None and result.allocation is not None:  # the owners are not the buyer's
        view["owners"] = [
            {"customer": owner, "credit": str(amount)} for owner, amount in result.allocation.owners
        ]
        view["operator"] = str(result.allocation.operator)
    return view


@router.get(
    "/data-exports",
    response_model=PageOf[DataExportOut],
    summary="List the data exports (?buyer=), oldest first",
    responses=responses(*READ_PROBLEMS),
)
def list_exports(
    access: BillingRead,
    buyer: Annotated[str | None, Query(max_length=400)] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, Any]:
    chosen = access.customer_filter(optional_reference(buyer))
    found = data_products.list_exports(access.uow(read_only=True), chosen)
    return page_view(
        found,
        key=lambda e: [e.exported_at.isoformat(), e.id],
        view=export_view,
        cursor=cursor,
        limit=limit,
    )


@router.get(
    "/data-exports/{export_id}/file",
    summary="An export's cells as its file (CSV, JSON Lines or Parquet), delivered again: "
    "billed once, when the export was made",
    response_class=Response,
    responses={
        200: {
            "content": {media: {} for media in MEDIA_TYPES.values()},
            "description": "The export's file",
        },
        **responses(*READ_PROBLEMS),
    },
)
def export_file(export_id: str, access: BillingRead) -> Response:
    wanted = path_id(export_id, "data export")
    found = [e for e in data_products.list_exports(access.uow(read_only=True)) if e.id == wanted]
    if not found:
        raise NotFound(f"unknown data export {export_id!r}")
    export = found[0]
    access.own(export.buyer_id, "data export", export_id)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"export.{export.format}"
        from iotbill.adapters.data_files import pending_path, write_cells

        data_products.export_data(  # the same id again: delivered, stored and billed never
            access.uow(read_only=True),
            product=export.product,
            buyer=export.buyer_id,
            start=export.start,
            end=export.end,
            format=export.format,
            at=access.clock.now(),
            export_id=export.id,
            deliver=lambda product, cells: write_cells(path, export.format, product, cells),
        )
        content = pending_path(path).read_bytes()
    name = f"{export.product}-{export.start.date().isoformat()}.{export.format}"
    return Response(
        content,
        media_type=MEDIA_TYPES[export.format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post(
    "/sharing/buyers",
    status_code=201,
    summary="Register a buyer of a shared device's capacity: a customer, or a market that "
    "pays the operator directly",
    responses=responses(*WRITE_PROBLEMS),
)
def add_buyer(body: BuyerIn, access: BillingWrite) -> dict[str, Any]:
    device = reference(body.device)
    if (body.customer is None) == (not body.paid_directly):
        raise InvalidInput.at("customer", "give either customer or paid_directly: true")
    added = sharing.register_buyer(
        access.uow(),
        device=device,
        buyer=body.buyer,
        customer=optional_reference(body.customer),
        at=instant(access, body.at, "at", lambda: _device_owner(access, device)),
    )
    return with_url_ids(added.as_json(), "device", "customer")


@router.get(
    "/sharing/buyers",
    summary="List the buyers of shared devices' capacity (?device=), by device, then name",
    responses=responses(*READ_PROBLEMS),
)
def list_buyers(
    access: BillingRead,
    device: Annotated[str | None, Query(max_length=400)] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> dict[str, Any]:
    chosen = _device_filter(access, device)
    found = sharing.list_buyers(access.uow(read_only=True), chosen)
    return page_view(
        found,
        key=lambda b: [b.device_id, b.code],
        view=lambda b: with_url_ids(b.as_json(), "device", "customer"),
        cursor=cursor,
        limit=limit,
    )


@router.get(
    "/payouts/statement",
    summary="What an owner's shared assets sold in a billing period: per asset, the sales, "
    "prices, the share and the credit",
    responses=responses(*READ_PROBLEMS),
)
def payout_statement(
    access: BillingRead,
    customer: Annotated[str, Query(max_length=400)],
    period: Annotated[MomentText, Query(description="A month (2026-03), a date or an instant.")],
    asset: Annotated[str | None, Query(max_length=400)] = None,
) -> dict[str, Any]:
    owner = reference(customer)
    access.own(owner, "customer", customer)
    on = parse_date_or_instant(f"{period}-01" if len(period) == 7 else period, "period")
    statement = sharing.payout_statement(
        access.uow(read_only=True),
        customer=owner,
        period=on,
        device=optional_reference(asset),
    )
    return with_url_ids(statement.as_json(), "customer")
