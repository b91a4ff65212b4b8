"""The demo: three IoT businesses billed for January 2026, end to end.

An outcome-based pump maker in Chicago (USD), a shared-battery operator in
Berlin (EUR) and a vending operator in Kobe (JPY) subscribe to the example
plans in ``iotbill/demo/plans``. Their devices report a month of seeded,
realistic telemetry (:mod:`iotbill.demo.telemetry`), which is ingested like
any file; then a bill run closes January in each customer's own time zone
and finalizes the invoices. Everything goes through the same services the
command line uses, so the demo is a tour of the real thing.

The demo's clock stands at :data:`BILLED_AT`, the morning after January
ended everywhere, so the same seed always gives the same invoices.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib.resources import files
from zoneinfo import ZoneInfo

import numpy as np

from iotbill.adapters.clock import FrozenClock
from iotbill.adapters.plan_files import parse_plan_document
from iotbill.demo.telemetry import Generator, battery_exports, pump_flow, vending
from iotbill.domain.events import SourcedEvent
from iotbill.domain.invoices import Invoice
from iotbill.domain.periods import local_midnight
from iotbill.services.billing import bill_run
from iotbill.services.catalog import apply_plan
from iotbill.services.customers import add_customer, add_device
from iotbill.services.ingest import IngestReport, ingest
from iotbill.services.invoices import list_invoices
from iotbill.services.ports import Tenant, UnitOfWorkFactory
from iotbill.services.subscriptions import create_subscription

TENANT = Tenant("demo", "Demo IoT Co.")
MONTH_START = date(2026, 1, 1)
MONTH_END = date(2026, 2, 1)
BILLED_AT = datetime(2026, 2, 1, 12, tzinfo=UTC)
PLANS = ("pump-outcome.yaml", "battery-share.yaml", "vending-jp.yaml")


@dataclass(frozen=True, slots=True)
class DemoCustomer:
    id: str
    name: str
    currency: str
    timezone: str
    tax_rate: str
    locale: str
    address: str
    plan: str
    devices: tuple[str, ...]
    telemetry: Generator


CUSTOMERS = (
    DemoCustomer(
        "acme-water", "Acme Water Utilities", "USD", "America/Chicago", "8.25", "en_US",
        "100 Lake Shore Dr, Chicago IL", "pump-outcome",
        ("pump-001", "pump-002", "pump-003"), pump_flow,
    ),
    DemoCustomer(
        "stadtwerke-nord", "Stadtwerke Nord GmbH", "EUR", "Europe/Berlin", "19", "de_DE",
        "Hafenstrasse 5, Hamburg", "battery-share",
        ("battery-01", "battery-02"), battery_exports,
    ),
    DemoCustomer(
        "kobe-vending", "Kobe Vending K.K.", "JPY", "Asia/Tokyo", "10", "ja_JP",
        "1-1 Sannomiya, Kobe", "vending-jp",
        ("vm-01", "vm-02", "vm-03", "vm-04"), vending,
    ),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class DemoResult:
    events: IngestReport
    invoices: list[Invoice]


def run_demo(open_uow: UnitOfWorkFactory, seed: int = 2026) -> DemoResult:
    """Fill a migrated, empty store with the demo tenant's month and bill it."""
    clock = FrozenClock(BILLED_AT)
    with open_uow(TENANT.code) as uow:
        uow.tenants.add(TENANT)
        uow.commit()
    plans = files("iotbill.demo") / "plans"
    for name in PLANS:
        document = parse_plan_document((plans / name).read_text(), name)
        apply_plan(open_uow(TENANT.code), document, clock)
    rng = np.random.default_rng(seed)
    events: list[SourcedEvent] = []
    for customer in CUSTOMERS:
        add_customer(
            open_uow(TENANT.code),
            id=customer.id,
            name=customer.name,
            currency=customer.currency,
            timezone=customer.timezone,
            billing_address=customer.address,
            tax_rate=customer.tax_rate,
            locale=customer.locale,
        )
        for device in customer.devices:
            add_device(open_uow(TENANT.code), device, customer=customer.id, start=MONTH_START)
        create_subscription(
            open_uow(TENANT.code), customer=customer.id, plan=customer.plan, start=MONTH_START
        )
        local = ZoneInfo(customer.timezone)
        start, end = local_midnight(MONTH_START, local), local_midnight(MONTH_END, local)
        for device in customer.devices:
            for event in customer.telemetry(device, start, end, local, rng):
                events.append(SourcedEvent(event, len(events) + 1))
    report = ingest(open_uow, TENANT.code, events, clock=clock)
    bill_run(open_uow, TENANT.code, as_of=BILLED_AT, now=BILLED_AT)
    return DemoResult(report, list_invoices(open_uow(TENANT.code)))
