"""The API's routers, one module per resource; :data:`ROUTERS` lists them in order.

To add routes (an invoice's PDF, webhooks), write a module with an
``APIRouter`` and append it to :data:`ROUTERS`, or include it on the app that
:func:`iotbill.entrypoints.api.create_app` returns.
"""

from __future__ import annotations

from fastapi import APIRouter

from iotbill.entrypoints.api.routes import (
    customers,
    events,
    health,
    invoices,
    keys,
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
    invoices.router,
    keys.router,
    webhooks.router,
]
