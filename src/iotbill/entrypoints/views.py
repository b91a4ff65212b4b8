"""The JSON shapes of plans, customers, devices and subscriptions.

One schema each, printed by the command line with ``--json`` and meant to be
returned as they are by the HTTP API. Invoices and credit notes have theirs in
the domain (:meth:`~iotbill.domain.invoices.Invoice.as_json`). Instants are ISO
8601 in UTC; decimals are exact strings; absent values are ``null``.

``plan_json``::

    {"code", "version", "name", "description", "model", "currency", "interval",
     "created_at", "fixed_fees": [{"code", "name", "amount", "timing"}],
     "meters": [{"code", "event_type", "aggregation", "property"}],
     "charges": [{"code", "name", "meter", "model"}], "document"}

``customer_json``::

    {"id", "name", "currency", "timezone", "billing_address", "tax_rate", "net_terms",
     "locale"}

``device_json``: ``{"id", "owner", "ownership": [{"customer", "from"}]}`` (``owner``: the latest)

``subscription_json``::

    {"id", "customer", "device", "billing_mode", "interval", "start", "trial_end",
     "phases": [{"plan", "version", "start"}],
     "cancellation": {"timing", "requested_at", "effective_at", "reason"} | null,
     "contract": {"term", "at_term_end", "early_termination_fee", "buy_out"} | null, "end"}

(``reason``: ``requested``, ``term_end`` or ``buy_out``: then the customer owns the
leased device from ``effective_at``; ``contract``: lease terms of the subscription's own,
``null`` when it has the plan's)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from iotbill.domain.customers import Customer, Device
from iotbill.domain.money import format_money
from iotbill.domain.quantities import decimal_text
from iotbill.domain.subscriptions import Subscription
from iotbill.services.ports import StoredPlan


def plan_json(stored: StoredPlan, *, document: bool = True) -> dict[str, Any]:
    """One version of a plan; ``document`` adds the text it was applied from."""
    plan = stored.plan
    view: dict[str, Any] = {
        "code": plan.code,
        "version": stored.version,
        "name": plan.name,
        "description": plan.description,
        "model": plan.model,
        "currency": plan.currency.code,
        "interval": plan.interval,
        "created_at": _iso(stored.created_at),
        "fixed_fees": [
            {
                "code": fee.code,
                "name": fee.name or fee.code,
                "amount": decimal_text(fee.amount),
                "timing": fee.timing,
            }
            for fee in plan.fixed_fees
        ],
        "meters": [
            {
                "code": meter.code,
                "event_type": meter.event_type,
                "aggregation": meter.aggregation,
                "property": meter.property,
            }
            for meter in plan.meters
        ],
        "charges": [
            {
                "code": charge.code,
                "name": charge.name or charge.code,
                "meter": charge.meter,
                "model": charge.model.name,
            }
            for charge in plan.charges
        ],
        "thresholds": [format_money(amount, plan.currency) for amount in plan.thresholds],
    }
    if document:
        view["document"] = stored.document
    return view


def customer_json(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.id,
        "name": customer.name,
        "currency": customer.currency.code,
        "timezone": customer.timezone,
        "billing_address": customer.billing_address,
        "tax_rate": decimal_text(customer.tax_rate),
        "net_terms": customer.net_terms,
        "locale": customer.locale,
    }


def device_json(device: Device) -> dict[str, Any]:
    return {
        "id": device.id,
        "owner": device.owner,
        "ownership": [
            {"customer": entry.customer_id, "from": _iso(entry.start)} for entry in device.ownership
        ],
        "retired_at": None if device.retired_at is None else _iso(device.retired_at),
    }


def subscription_json(subscription: Subscription) -> dict[str, Any]:
    cancellation = subscription.cancellation
    return {
        "id": subscription.id,
        "customer": subscription.customer_id,
        "device": subscription.device_id,
        "billing_mode": subscription.billing_mode,
        "interval": subscription.interval,
        "start": _iso(subscription.start),
        "trial_end": _iso(subscription.trial_end),
        "phases": [
            {"plan": phase.plan_code, "version": phase.plan_version, "start": _iso(phase.start)}
            for phase in subscription.phases
        ],
        "cancellation": None
        if cancellation is None
        else {
            "timing": cancellation.timing,
            "requested_at": _iso(cancellation.requested_at),
            "effective_at": _iso(cancellation.effective_at),
            "reason": cancellation.reason,
        },
        "contract": None if subscription.contract is None else subscription.contract.as_json(),
        "pauses": [
            {"start": _iso(pause.start), "end": _iso(pause.end)} for pause in subscription.pauses
        ],
        "end": _iso(subscription.end),
    }


def _iso(instant: datetime | None) -> str | None:
    return None if instant is None else instant.isoformat()
