"""A small world for billing stories: an in-memory store, a frozen clock, and verbs."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from iotbill.adapters.clock import FrozenClock
from iotbill.adapters.plan_files import parse_plan_text
from iotbill.adapters.storage.memory import MemoryStore
from iotbill.domain.customers import Customer, Device
from iotbill.domain.events import SourcedEvent, UsageEvent
from iotbill.domain.invoices import Invoice
from iotbill.domain.subscriptions import cancel, change_plan, subscribe
from iotbill.services import DEFAULT_TENANT
from iotbill.services.billing import BillRunReport, bill_run
from iotbill.services.customers import move_device
from iotbill.services.ingest import IngestReport, ingest
from iotbill.services.ports import UnitOfWorkFactory

TENANT = DEFAULT_TENANT


class World:
    """Plans, customers, devices and subscriptions in memory, moved through time by hand."""

    def __init__(self, now: datetime, grace: timedelta = timedelta(0)) -> None:
        self.clock = FrozenClock(now)
        self.open: UnitOfWorkFactory = MemoryStore().unit_of_work_factory()
        self.grace = grace
        self.clock_skew = timedelta(days=3650)
        """Stories record a month's usage before moving the clock to its end; the skew
        rule has stories of its own, which set this back to a day."""
        self._event_number = 0

    def plan(self, text: str) -> None:
        plan = parse_plan_text(text, "plan.yaml")
        with self.open(TENANT) as uow:
            uow.plans.add_version(plan, text, self.clock.now())
            uow.commit()

    def customer(
        self, id: str, currency: str, timezone: str, tax_rate: str = "0", net_terms: int = 0
    ) -> None:
        customer = Customer.create(
            id=id,
            name=id.title(),
            currency_code=currency,
            timezone=timezone,
            tax_rate=tax_rate,
            net_terms=net_terms,
        )
        with self.open(TENANT) as uow:
            uow.customers.add(customer)
            uow.commit()

    def device(self, id: str, customer: str, since: datetime) -> None:
        with self.open(TENANT) as uow:
            uow.devices.add(Device.create(id, customer, since))
            uow.commit()

    def move_device(self, id: str, to_customer: str, at: datetime) -> int:
        """Move the device; returns how many of its stored events passed to ``to_customer``."""
        return move_device(self.open(TENANT), id, to_customer=to_customer, at=at).events

    def subscribe(self, id: str, customer: str, plan: str, start: datetime, **options: Any) -> None:
        with self.open(TENANT) as uow:
            stored = uow.plans.get(plan)
            subscription = subscribe(
                id=id,
                customer=uow.customers.get(customer),
                plan=stored.plan,
                plan_version=stored.version,
                start=start,
                **options,
            )
            uow.subscriptions.add(subscription)
            uow.commit()

    def change(self, id: str, plan: str, at: datetime, timing: str) -> None:
        with self.open(TENANT) as uow:
            subscription = uow.subscriptions.get(id)
            stored = uow.plans.get(plan)
            changed = change_plan(
                subscription,
                uow.customers.get(subscription.customer_id),
                plan=stored.plan,
                plan_version=stored.version,
                at=at,
                timing=timing,  # type: ignore[arg-type]
            )
            uow.subscriptions.save(changed)
            uow.commit()

    def cancel(self, id: str, at: datetime, timing: str) -> None:
        with self.open(TENANT) as uow:
            subscription = uow.subscriptions.get(id)
            customer = uow.customers.get(subscription.customer_id)
            uow.subscriptions.save(cancel(subscription, customer, timing=timing, at=at))  # type: ignore[arg-type]
            uow.commit()

    def usage(
        self,
        device: str,
        at: datetime,
        kind: str = "pump.flow",
        *,
        corrects: str | None = None,
        voids: str | None = None,
        **properties: Any,
    ) -> IngestReport:
        """One event from ``device`` at ``at``, received now: ``evt-1``, ``evt-2``, ...
        in order; it may correct or void an earlier one."""
        self._event_number += 1
        event = UsageEvent(
            id=f"evt-{self._event_number}",
            type=kind,
            device=device,
            timestamp=at,
            properties={k: Decimal(str(v)) for k, v in properties.items()},
            corrects=corrects,
            voids=voids,
        )
        return ingest(
            self.open,
            TENANT,
            [SourcedEvent(event, self._event_number)],
            clock=self.clock,
            clock_skew=self.clock_skew,
        )

    def bill(self, at: datetime) -> BillRunReport:
        """Move the clock to ``at`` and run the bill run there."""
        self.clock.set(at)
        return bill_run(self.open, TENANT, as_of=at, now=at, grace=self.grace)

    def invoices(self, customer: str | None = None) -> list[Invoice]:
        with self.open(TENANT) as uow:
            found = uow.invoices.list(customer=customer)
        return sorted(found, key=lambda invoice: (invoice.issued_at, invoice.id))


def lines(invoice: Invoice) -> list[tuple[str, str, str]]:
    """An invoice's lines as ``(kind, charge, amount)``: what a story checks exactly."""
    return [(line.kind, line.charge, str(line.amount)) for line in invoice.lines]
