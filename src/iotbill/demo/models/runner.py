"""Run business-model demos end to end in a migrated, empty store.

The clock moves from the demos' start to each billing instant in turn. Before
each bill run, the telemetry of the time since the previous one is ingested
(received at that instant) and the story's steps due by then are taken, so a
run sees exactly what a real one would. Everything goes through the services
the command line uses.

:func:`run_models` tells several demos in one tenant (``iotbill demo --model
all``). Each keeps its own story exactly as it is told alone: its telemetry is
drawn from a generator of its own, seeded alike, in the order its own run draws
it, and its event ids are prefixed with its name (``razor-blade/...``), so two
demos never share one; its steps are taken at its own billing instants. The
bill runs are the tenant's, at every demo's instants: an event is received at
the first of them after its timestamp. The demos' customer and device ids must
be distinct, and so must their template plans' codes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import msgspec
import numpy as np

from iotbill.adapters.clock import FrozenClock
from iotbill.adapters.plan_files import parse_plan_document
from iotbill.demo.models import ModelDemo, Step
from iotbill.domain.errors import InvalidInput
from iotbill.domain.events import SourcedEvent, UsageEvent
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
    return run_models(open_uow, [demo], seed)


def run_models(open_uow: UnitOfWorkFactory, demos: Sequence[ModelDemo], seed: int) -> ModelRun:
    """Fill the empty store with one tenant telling every one of ``demos``, bill each of
    their instants; the result. :class:`InvalidInput` at ``--model`` when two demos
    share a customer, a device or a plan code."""
    _refuse_shared_ids(demos)
    telemetry = sorted(
        (event for demo in demos for event in _telemetry(demo, seed, prefixed=len(demos) > 1)),
        key=lambda event: event.timestamp,
    )
    starts = [
        local_midnight(demo.start, ZoneInfo(customer.timezone))
        for demo in demos
        for customer in demo.customers
    ]
    clock = FrozenClock(min(starts))
    with open_uow(TENANT.code) as uow:
        uow.tenants.add(TENANT)
        uow.commit()
    for demo in demos:
        _open(open_uow, demo, clock)
    steps = {demo.name: sorted(demo.steps, key=lambda step: step.at) for demo in demos}
    ingested = 0
    received = 0
    for at in sorted({at for demo in demos for at in demo.bill_at}):
        clock.set(at)
        arrived = received
        while arrived < len(telemetry) and telemetry[arrived].timestamp < at:
            arrived += 1
        events = [
            SourcedEvent(event, number)
            for number, event in enumerate(telemetry[received:arrived], start=1)
        ]
        received = arrived
        ingested += ingest(open_uow, TENANT.code, events, clock=clock).accepted
        for demo in demos:
            if at in demo.bill_at:
                _take_steps(open_uow, steps[demo.name], at)
        bill_run(open_uow, TENANT.code, as_of=at, now=at)
    invoices = list_invoices(open_uow(TENANT.code))
    return ModelRun(ingested, sorted(invoices, key=lambda invoice: invoice.number or invoice.id))


def _open(open_uow: UnitOfWorkFactory, demo: ModelDemo, clock: FrozenClock) -> None:
    """The demo's template plan, customers, devices and subscriptions."""
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


def _telemetry(demo: ModelDemo, seed: int, *, prefixed: bool) -> list[UsageEvent]:
    """Every event the demo's devices report, drawn as its own run draws them: from a
    generator seeded with ``seed``, at each of its instants, customer by customer."""
    rng = np.random.default_rng(seed)
    since = {c.id: local_midnight(demo.start, ZoneInfo(c.timezone)) for c in demo.customers}
    events: list[UsageEvent] = []
    for at in demo.bill_at:
        for customer in demo.customers:
            local = ZoneInfo(customer.timezone)
            for device in customer.devices:
                events.extend(customer.telemetry(device, since[customer.id], at, local, rng))
            since[customer.id] = max(since[customer.id], at)
    if prefixed:
        return [msgspec.structs.replace(event, id=f"{demo.name}/{event.id}") for event in events]
    return events


def _take_steps(open_uow: UnitOfWorkFactory, steps: list[Step], at: datetime) -> None:
    """Take (and drop) the ``steps`` due by ``at``, in order."""
    while steps and steps[0].at <= at:
        steps.pop(0).act(open_uow, TENANT.code)


def _refuse_shared_ids(demos: Sequence[ModelDemo]) -> None:
    seen: dict[tuple[str, str], str] = {}
    problems = []
    for demo in demos:
        plan_code = parse_plan_document(demo.plan.read_text(), demo.plan.name).plan.code
        names = [("plan", plan_code)]
        for customer in demo.customers:
            names.append(("customer", customer.id))
            names.extend(("device", device) for device in customer.devices)
        for kind, id in names:
            other = seen.setdefault((kind, id), demo.name)
            if other != demo.name:
                problems.append(f"{kind} {id!r} is in the demos of both {other} and {demo.name}")
    if problems:
        raise InvalidInput.at("--model", "; ".join(problems))
