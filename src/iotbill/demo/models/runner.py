"""Run a business-model demo end to end in a migrated, empty store.

The clock moves from the demo's start to each billing instant in turn. Before
each bill run, the telemetry of the time since the previous one is ingested
(received at that instant) and the story's steps due by then are taken, so a
run sees exactly what a real one would. Everything goes through the services
the command line uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from iotbill.adapters.clock import FrozenClock
from iotbill.adapters.plan_files import parse_plan_document
from iotbill.demo.models import ModelDemo
from iotbill.domain.events import SourcedEvent
from iotbill.domain.invoices import Invoice
from iotbill.domain.periods import local_midnight
from iotbill.services.billing import bill_run
from iotbill.services.catalog import apply_plan
from iotbill.services.customers import add_customer, add_device
from iotbill.services.ingest import ingest
from iotbill.services.invoices import list_invoices
from iotbill.services.ports import Tenant, UnitOfWorkFactory
from iotbill.services.subscriptions import create_subscription

TENANT = Tenant("demo", "Demo IoT Co.")


@dataclass(frozen=True, slots=True)
class ModelRun:
    """What a model demo did: the events ingested and the invoices, by number."""

    events: int
    invoices: list[Invoice]


def run_model(open_uow: UnitOfWorkFactory, demo: ModelDemo, seed: int) -> ModelRun:
    """Fill the empty store with ``demo``'s tenant, bill each of its instants; the result."""
    since = {c.id: local_midnight(demo.start, ZoneInfo(c.timezone)) for c in demo.customers}
    clock = FrozenClock(min(since.values()))
    with open_uow(TENANT.code) as uow:
        uow.tenants.add(TENANT)
        uow.commit()
    apply_plan(
        open_uow(TENANT.code), parse_plan_document(demo.plan.read_text(), demo.plan.name), clock
    )
    for customer in demo.customers:
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
            add_device(open_uow(TENANT.code), device, customer=customer.id, start=demo.start)
        create_subscription(
            open_uow(TENANT.code), customer=customer.id, plan=customer.plan, start=demo.start
        )
    rng = np.random.default_rng(seed)
    steps = sorted(demo.steps, key=lambda step: step.at)
    ingested = 0
    for at in demo.bill_at:
        clock.set(at)
        events: list[SourcedEvent] = []
        for customer in demo.customers:
            local = ZoneInfo(customer.timezone)
            for device in customer.devices:
                for event in customer.telemetry(device, since[customer.id], at, local, rng):
                    events.append(SourcedEvent(event, len(events) + 1))
            since[customer.id] = max(since[customer.id], at)
        ingested += ingest(open_uow, TENANT.code, events, clock=clock).accepted
        while steps and steps[0].at <= at:
            steps.pop(0).act(open_uow, TENANT.code)
        bill_run(open_uow, TENANT.code, as_of=at, now=at)
    invoices = list_invoices(open_uow(TENANT.code))
    return ModelRun(ingested, sorted(invoices, key=lambda invoice: invoice.number or invoice.id))
