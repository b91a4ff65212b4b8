"""The API's routers, one module per resource; :data:`ROUTERS` lists them in order.

To add routes (an invoice's PDF, webhooks), write a module with an
``APIRouter`` and append it to :data:`ROUTERS`, or include it on the app that
:func:`iotbill.entrypoints.api.create_app` returns.
"""

from __future__ import annotations

from fastapi import APIRouter

from iotbill.entrypoints.api.routes import (
    analytics,
    coupons,
    credits,
    customers,
    data,
    documents,
    entitlements,
    events,
    health,
    invoices,
    keys,
    orders,
    plans,
    subscriptions,
    webhooks,
)

ROUTERS: list[APIRouter] = [
    health.router,
    events.router,
    customers.router,
    plans.router,
    subscriptions.router,
    documents.router,  # before invoices: INV-2026-000001.pdf is a document, not an invoice id
    invoices.router,
    analytics.router,
    entitlements.router,
    coupons.router,
    credits.router,
    orders.router,
    data.router,
    keys.router,
    webhooks.router,
]
