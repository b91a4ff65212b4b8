"""``/app/customers``: the list, one customer's page, and its invoices as PDF and HTML.

One customer's page shows its devices, its subscriptions, its usage per meter
over time (a chart per meter) and its invoices, each linked to its PDF, with
its period as first and last day in the customer's zone, as the PDF shows it. The
usage shown by default is that of the customer's latest invoiced period, by
day, so the chart shows what was billed last; a range and a resolution can be
asked for (``?from=&to=&by=``), as on the usage page. Every figure comes from
the services behind the ``/v1`` routes: customers, subscriptions, invoices,
usage, documents.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import HTMLResponse, Response

from iotbill.domain.customers import Customer
from iotbill.domain.errors import InvalidInput
from iotbill.domain.invoices import Invoice
from iotbill.domain.periods import Period, local_midnight
from iotbill.entrypoints.api.ids import stored_id, url_id
from iotbill.entrypoints.api.pagination import DEFAULT_LIMIT, MAX_LIMIT
from iotbill.entrypoints.api.routes.common import (
    device_view,
    invoice_view,
    path_id,
    subscription_view,
)
from iotbill.entrypoints.render.documents import period_text
from iotbill.entrypoints.render.spelling import Spelling
from iotbill.entrypoints.web import charts
from iotbill.entrypoints.web.pages import PageRoute, SignedIn, page
from iotbill.entrypoints.web.usage import Resolution, UsageQuery
from iotbill.services.customers import get_customer, list_customers, list_devices
from iotbill.services.documents import invoice_sheet
from iotbill.services.invoices import list_invoices
from iotbill.services.ports import Paging
from iotbill.services.subscriptions import list_subscriptions
from iotbill.services.usage import usage

router = APIRouter(prefix="/app", route_class=PageRoute, include_in_schema=False)


@router.get("/customers", response_class=HTMLResponse)
def customers_page(
    access: SignedIn,
    after: Annotated[str | None, Query(max_length=600)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> HTMLResponse:
    """The customers by id, ``limit`` at a time (100 unless asked): those after the customer
    ``after`` (in its URL form), read from the store a page at a time."""
    first = None if after is None else stored_id(after)
    if after is not None and first is None:
        raise InvalidInput.at("after", "is not a customer id in its URL form")
    found = list_customers(access.uow(read_only=True), Paging(first, limit + 1))
    shown = found[:limit]
    following = None
    if len(found) > limit:
        following = f"after={url_id(shown[-1].id)}" + (
            "" if limit == DEFAULT_LIMIT else f"&limit={limit}"
        )
    return page(
        "customers.html",
        title="Customers",
        access=access,
        customers=[(url_id(customer.id), customer) for customer in shown],
        next_page=following,
        first_page=after is not None,
    )


def default_range(customer: Customer, invoices: list[Invoice], now: datetime) -> Period:
    """The latest invoiced period, or the 30 local days up to today's end without invoices."""
    if invoices:
        return max((invoice.period for invoice in invoices), key=lambda period: period.end)
    tomorrow = now.astimezone(customer.zone).date() + timedelta(days=1)
    return Period(
        local_midnight(tomorrow - timedelta(days=30), customer.zone),
        local_midnight(tomorrow, customer.zone),
    )


def boundary_text(instant: datetime, customer: Customer) -> str:
    """A range's end as the form shows it: the local date at a local midnight, else ISO 8601."""
    local = instant.astimezone(customer.zone)
    if local_midnight(local.date(), customer.zone) == instant:
        return local.date().isoformat()
    return instant.isoformat()


@router.get("/customers/{customer_id}", response_class=HTMLResponse)
def customer_page(
    customer_id: str,
    access: SignedIn,
    start: Annotated[str | None, Query(alias="from", max_length=64)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=64)] = None,
    by: Resolution = "day",
) -> HTMLResponse:
    owner = path_id(customer_id, "customer")
    customer = get_customer(access.uow(read_only=True), owner)  # another tenant's: 404
    devices = list_devices(access.uow(read_only=True), customer=owner)
    subscriptions = list_subscriptions(access.uow(read_only=True), customer=owner)
    invoices = list_invoices(access.uow(read_only=True), customer=owner)
    shown = default_range(customer, invoices, access.clock.now())
    spelling = Spelling("en", customer.currency)
    query = UsageQuery(
        customer_id,
        start or boundary_text(shown.start, customer),
        end or boundary_text(shown.end, customer),
        by,
    )
    usage_charts: list[charts.Figure] = []
    if subscriptions:
        start_at, end_at = query.moments()
        report = usage(
            access.uow(read_only=True), customer=owner, start=start_at, end=end_at, by=by
        )
        usage_charts = charts.usage_over_time(report)
    return page(
        "customer.html",
        title=customer.name,
        access=access,
        customer=customer,
        customer_url=url_id(customer.id),
        devices=[device_view(device) for device in devices],
        subscriptions=[subscription_view(s) for s in subscriptions],
        invoices=[
            (invoice_view(invoice), period_text(invoice.period, spelling, customer.zone))
            for invoice in reversed(invoices)
        ],
        query=query,
        usage_charts=usage_charts,
    )


@router.get("/invoices/{invoice_id}.pdf", response_class=Response)
def invoice_pdf(invoice_id: str, access: SignedIn) -> Response:
    from iotbill.entrypoints.render import document_pdf, invoice_document

    sheet = invoice_sheet(access.uow(read_only=True), path_id(invoice_id, "invoice"))
    name = f"{sheet.invoice.number or 'draft-invoice'}.pdf"
    return Response(
        document_pdf(invoice_document(sheet)),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


@router.get("/invoices/{invoice_id}.html", response_class=HTMLResponse)
def invoice_html(invoice_id: str, access: SignedIn) -> HTMLResponse:
    from iotbill.entrypoints.render import document_html, invoice_document

    sheet = invoice_sheet(access.uow(read_only=True), path_id(invoice_id, "invoice"))
    return HTMLResponse(document_html(invoice_document(sheet)))
