"""What the resource routes share: ids from paths, instants from bodies, answers with URL ids."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from iotbill.domain.customers import Customer, Device
from iotbill.domain.errors import NotFound
from iotbill.domain.invoices import CreditNote, Invoice
from iotbill.domain.periods import require_input_instant
from iotbill.domain.subscriptions import Subscription
from iotbill.entrypoints.api.auth import Access
from iotbill.entrypoints.api.ids import stored_id, url_id
from iotbill.entrypoints.api.schemas import StepIn
from iotbill.entrypoints.cli.options import parse_date_or_instant
from iotbill.entrypoints.views import customer_json, device_json, subscription_json
from iotbill.services.moments import Moment, instant_for
from iotbill.services.usage import UsageReport

WRITE_PROBLEMS = (400, 401, 403, 404, 409, 413, 415, 422, 429)
READ_PROBLEMS = (401, 403, 404, 422, 429)


def path_id(text: str, what: str) -> str:
    """The stored id named by a path's URL form; :class:`NotFound` if it is none."""
    found = stored_id(text)
    if found is None:
        raise NotFound(f"unknown {what} {text!r} (ids in paths take their URL form)")
    return found


def reference(text: str) -> str:
    """An id named in a body: its URL form, or the id itself when that is no URL form."""
    found = stored_id(text)
    return text if found is None else found


def step_at(body: StepIn | None) -> str | None:
    """The ``at`` of an optional step body."""
    return None if body is None else body.at


def optional_reference(text: str | None) -> str | None:
    """:func:`reference` of an optional filter or field; ``None`` when it is absent."""
    return None if text is None else reference(text)


def moment(text: str | None, field: str, now: datetime) -> Moment:
    """A date or an aware instant from a body's text; ``now`` when the field is absent."""
    return now if text is None else parse_date_or_instant(text, field)


def with_url_ids(view: dict[str, Any], *keys: str) -> dict[str, Any]:
    """``view`` with the ids at ``keys`` (those present and not null) in their URL form."""
    for key in keys:
        if isinstance(view.get(key), str):
            view[key] = url_id(view[key])
    return view


def instant(access: Access, text: str | None, field: str, customer: Callable[[], str]) -> datetime:
    """The instant a body's ``field`` names; now when absent. A date is local midnight in
    the zone of the customer that ``customer`` names (read only when needed)."""
    if text is None:
        return access.clock.now()
    parsed = parse_date_or_instant(text, field)
    if isinstance(parsed, datetime):
        return require_input_instant(parsed, field)
    with access.uow(read_only=True) as uow:
        found = uow.customers.get(customer())
    return instant_for(parsed, found, field)


def customer_view(customer: Customer) -> dict[str, Any]:
    return {**customer_json(customer), "id": url_id(customer.id)}


def device_view(device: Device) -> dict[str, Any]:
    view = device_json(device)
    view["id"] = url_id(device.id)
    view["owner"] = url_id(device.owner)
    for entry in view["ownership"]:
        entry["customer"] = url_id(entry["customer"])
    return view


def subscription_view(subscription: Subscription) -> dict[str, Any]:
    view = subscription_json(subscription)
    view["id"] = url_id(subscription.id)
    view["customer"] = url_id(subscription.customer_id)
    if subscription.device_id is not None:
        view["device"] = url_id(subscription.device_id)
    return view


def invoice_view(invoice: Invoice) -> dict[str, Any]:
    view = invoice.as_json()
    view["id"] = url_id(invoice.id)
    view["customer"] = url_id(invoice.customer_id)
    if invoice.subscription_id is not None:
        view["subscription"] = url_id(invoice.subscription_id)
    return view


def credit_note_view(note: CreditNote) -> dict[str, Any]:
    view = note.as_json()
    view["id"] = url_id(note.id)
    view["invoice"] = url_id(note.invoice_id)
    return view


def usage_view(report: UsageReport) -> dict[str, Any]:
    view = report.as_json()
    view["customer"] = url_id(report.customer.id)
    if report.device is not None:
        view["device"] = url_id(report.device)
    return view
