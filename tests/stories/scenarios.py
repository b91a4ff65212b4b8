"""Golden scenarios that move time: plans, customers, subscriptions, events and clock steps
in, the invoices out, compared with the expected files committed beside them.

A scenario is a folder of ``tests/stories/golden/``: ``scenario.yaml`` (the
world and its steps, format below), the plan files it names, ``NOTES.md`` (the
arithmetic by hand) and ``expected.json`` (every invoice at the end, in the one
invoice schema, and what each bill run reported). The test runs the scenario
through the use cases on an in-memory store with a frozen clock and compares
the whole result with ``expected.json``.

``scenario.yaml``::

    start: 2026-01-01T00:00:00Z        # where the clock starts
    plans: [basic.yaml, premium.yaml]  # applied in order, at the start
    customers:
      - {id: acme, currency: USD, timezone: UTC, tax_rate: "19"}
    devices:
      - {id: pump-1, customer: acme, from: 2026-01-01}
    subscriptions:
      - {id: sub-1, customer: acme, plan: basic, start: 2026-01-10, trial_days: 14}
    steps:                             # in time order; the clock moves to each ``at``
      - at: 2026-01-20T08:00:00Z
        events:                        # ingested at ``at``
          - {id: e1, type: pump.flow, device: pump-1, timestamp: ..., properties: {m3: 80}}
      - at: 2026-02-01T00:00:00Z
        change: {subscription: sub-1, plan: premium, timing: immediate}  # at ``at``
        cancel: {subscription: sub-1, timing: period_end}                # at ``at``
        bill_run: {grace_hours: 0}     # as of ``at``, now ``at``

A date (``2026-01-10``) is local midnight in the customer's zone, as on the
command line; an instant carries its offset. Numbers in properties are exact.

To add a scenario: write the folder without ``expected.json``, write the
arithmetic in ``NOTES.md``, run ``IOTBILL_WRITE_GOLDEN=1 pytest
tests/stories/test_golden_scenarios.py`` once to write ``expected.json``, and
check it against the notes line by line before committing it. Without that
variable a missing or different expected file fails the test.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import yaml

from iotbill.adapters.clock import FrozenClock
from iotbill.adapters.plan_files import parse_plan_document
from iotbill.bootstrap import in_memory
from iotbill.domain.events import SourcedEvent, UsageEvent
from iotbill.services.billing import bill_run
from iotbill.services.catalog import apply_plan
from iotbill.services.customers import add_customer, add_device
from iotbill.services.ingest import ingest
from iotbill.services.ports import DEFAULT_TENANT
from iotbill.services.subscriptions import (
    cancel_subscription,
    change_subscription,
    create_subscription,
)

SCENARIOS = Path(__file__).resolve().parent / "golden"
_EVENT = msgspec.json.Decoder(UsageEvent, float_hook=Decimal)


@dataclass(frozen=True)
class Scenario:
    folder: Path
    spec: dict[str, Any]

    @classmethod
    def load(cls, folder: Path) -> Scenario:
        return cls(
            folder, yaml.load((folder / "scenario.yaml").read_text(), Loader=yaml.BaseLoader)
        )

    @property
    def expected_file(self) -> Path:
        return self.folder / "expected.json"


def moment(text: str) -> date | datetime:
    """A date (``2026-01-10``) or an instant with its offset (``...T08:00:00Z``)."""
    if "T" not in text:
        return date.fromisoformat(text)
    instant = datetime.fromisoformat(text)
    if instant.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return instant


def instant(text: str) -> datetime:
    found = moment(text)
    if not isinstance(found, datetime):
        raise ValueError(f"{text!r}: a step's time is an instant with its offset")
    return found


def run(scenario: Scenario) -> dict[str, Any]:
    """Every invoice at the end of the scenario, and what each bill run reported."""
    spec = scenario.spec
    clock = FrozenClock(instant(spec["start"]))
    wired = in_memory(clock=clock)
    store, tenant = wired.uow_factory, DEFAULT_TENANT
    for name in spec.get("plans", []):
        text = (scenario.folder / name).read_text()
        apply_plan(store(tenant), parse_plan_document(text, name), clock)
    for customer in spec.get("customers", []):
        add_customer(
            store(tenant),
            id=customer["id"],
            name=customer.get("name", customer["id"]),
            currency=customer["currency"],
            timezone=customer["timezone"],
            tax_rate=customer.get("tax_rate", "0"),
        )
    for device in spec.get("devices", []):
        add_device(
            store(tenant), device["id"], customer=device["customer"], start=moment(device["from"])
        )
    for subscription in spec.get("subscriptions", []):
        create_subscription(
            store(tenant),
            id=subscription["id"],
            customer=subscription["customer"],
            plan=subscription["plan"],
            start=moment(subscription["start"]),
            billing_mode=subscription.get("billing", "calendar"),
            trial_days=int(subscription["trial_days"]) if "trial_days" in subscription else None,
        )
    runs: list[dict[str, Any]] = []
    line = 0
    for step in spec.get("steps", []):
        at = instant(step["at"])
        if at < clock.now():
            raise ValueError(f"step at {step['at']} goes back in time")
        clock.set(at)
        if "events" in step:
            sourced = []
            for event in step["events"]:
                line += 1
                sourced.append(SourcedEvent(_EVENT.decode(json.dumps(event)), line))
            report = ingest(store, tenant, sourced, clock=clock)
            if report.rejected:
                raise ValueError(f"step at {step['at']}: events rejected: {report.rejected}")
        if "change" in step:
            change = step["change"]
            change_subscription(
                store(tenant),
                change["subscription"],
                plan=change["plan"],
                timing=change["timing"],
                at=at,
            )
        if "cancel" in step:
            cancel = step["cancel"]
            cancel_subscription(
                store(tenant), cancel["subscription"], timing=cancel["timing"], at=at
            )
        if "bill_run" in step:
            grace = timedelta(hours=int(step["bill_run"].get("grace_hours", "0")))
            billed = bill_run(store, tenant, as_of=at, now=at, grace=grace)
            runs.append({"at": step["at"], **billed.as_json()})
    with store(tenant, read_only=True) as uow:
        invoices = uow.invoices.list()
    ordered = sorted(invoices, key=lambda invoice: (invoice.issued_at, invoice.id))
    return {"bill_runs": runs, "invoices": [invoice.as_json() for invoice in ordered]}
