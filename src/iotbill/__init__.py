"""iotbill: open billing for the Internet of Things.

Devices report what they did; iotbill turns those reports into correct invoices
under any IoT business model. The package is layered (docs/architecture.md):
``domain`` holds the pure rules (money, periods, events, plans, pricing,
invoices), ``services`` the use cases over the ports of ``services.ports``,
``adapters`` the I/O (files, SQL and in-memory stores, the clock),
``entrypoints`` the command line, ``adoption`` the population models, and
``bootstrap`` wires adapters to services.

The names below are the public API, a curated few: the wiring, the values a
program builds and reads, the errors, and the main use cases. Each is imported
on first use, so ``import iotbill`` stays cheap. (The store a deployment
configures is opened with ``iotbill.bootstrap.bootstrap()``: the module's name
is taken by the module itself.)

>>> import iotbill
>>> wired = iotbill.in_memory()
>>> iotbill.currency("JPY").minor_units
0
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_PUBLIC: dict[str, str] = {
    # wiring
    "Settings": "iotbill.bootstrap",
    "Wired": "iotbill.bootstrap",
    "in_memory": "iotbill.bootstrap",
    "load_settings": "iotbill.bootstrap",
    # values
    "Currency": "iotbill.domain.money",
    "currency": "iotbill.domain.money",
    "round_money": "iotbill.domain.money",
    "Period": "iotbill.domain.periods",
    "UsageEvent": "iotbill.domain.events",
    "Plan": "iotbill.domain.catalog",
    "Customer": "iotbill.domain.customers",
    "Device": "iotbill.domain.customers",
    "Subscription": "iotbill.domain.subscriptions",
    "Invoice": "iotbill.domain.invoices",
    "InvoiceLine": "iotbill.domain.invoicing",
    "CreditNote": "iotbill.domain.invoices",
    "DocumentKind": "iotbill.domain.invoices",
    # errors
    "IotbillError": "iotbill.domain.errors",
    "InvalidInput": "iotbill.domain.errors",
    "NotFound": "iotbill.domain.errors",
    "Conflict": "iotbill.domain.errors",
    "Problem": "iotbill.domain.errors",
    # use cases
    "apply_plan": "iotbill.services.catalog",
    "add_customer": "iotbill.services.customers",
    "add_device": "iotbill.services.customers",
    "create_subscription": "iotbill.services.subscriptions",
    "ingest": "iotbill.services.ingest",
    "bill_run": "iotbill.services.billing",
}

__all__ = [
    "Conflict",
    "CreditNote",
    "Currency",
    "Customer",
    "Device",
    "DocumentKind",
    "InvalidInput",
    "Invoice",
    "InvoiceLine",
    "IotbillError",
    "NotFound",
    "Period",
    "Plan",
    "Problem",
    "Settings",
    "Subscription",
    "UsageEvent",
    "Wired",
    "add_customer",
    "add_device",
    "apply_plan",
    "bill_run",
    "create_subscription",
    "currency",
    "in_memory",
    "ingest",
    "load_settings",
    "round_money",
]

if TYPE_CHECKING:
    from iotbill.bootstrap import Settings, Wired, in_memory, load_settings
    from iotbill.domain.catalog import Plan
    from iotbill.domain.customers import Customer, Device
    from iotbill.domain.errors import Conflict, InvalidInput, IotbillError, NotFound, Problem
    from iotbill.domain.events import UsageEvent
    from iotbill.domain.invoices import CreditNote, DocumentKind, Invoice
    from iotbill.domain.invoicing import InvoiceLine
    from iotbill.domain.money import Currency, currency, round_money
    from iotbill.domain.periods import Period
    from iotbill.domain.subscriptions import Subscription
    from iotbill.services.billing import bill_run
    from iotbill.services.catalog import apply_plan
    from iotbill.services.customers import add_customer, add_device
    from iotbill.services.ingest import ingest
    from iotbill.services.subscriptions import create_subscription


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'iotbill' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
