"""What commitments, caps and risk factors store, the same on memory, SQLite and PostgreSQL.

A plan is stored as the document it was written in and read back by the plan loader, so
its cap, risk table and commitment come back as they were given; an invoice keeps its
commitment lines and the details that explain a cap and a risk factor exactly.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from iotbill.adapters.plan_files import parse_plan_text
from iotbill.domain.commitments import commitment_lines
from iotbill.domain.event_table import EventTable
from iotbill.domain.events import UsageEvent
from iotbill.domain.invoices import DocumentKind, Invoice
from iotbill.domain.periods import Period
from iotbill.domain.rating import rate_period
from iotbill.services.ports import UnitOfWorkFactory
from tests.conftest import ROOT
from tests.contract.conftest import JAN_1

TEMPLATES = ROOT / "examples" / "models"
JANUARY = Period(JAN_1, JAN_1 + timedelta(days=31))


@pytest.mark.parametrize("name", ["outcome-commitment", "pay-per-mile"])
def test_a_template_plan_comes_back_with_its_usage_terms(
    store: UnitOfWorkFactory, tenant: str, name: str
) -> None:
    text = (TEMPLATES / f"{name}.yaml").read_text()
    plan = parse_plan_text(text, f"{name}.yaml")
    with store(tenant) as uow:
        uow.plans.add_version(plan, text, JAN_1)
        uow.commit()
    with store(tenant) as uow:
        stored = uow.plans.get(plan.code).plan
    assert stored == plan
    assert (stored.commitment, [m.cap for m in stored.meters]) == (
        plan.commitment,
        [m.cap for m in plan.meters],
    )
    assert [c.risk_factor for c in stored.charges] == [c.risk_factor for c in plan.charges]


def test_an_invoice_keeps_its_commitment_line_and_the_cap_and_risk_details(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    text = (
        (TEMPLATES / "pay-per-mile.yaml")
        .read_text()
        .replace("currency: USD", 'currency: USD\nminimum_commitment: "40.00"')
    )
    plan = parse_plan_text(text, "plan.yaml")
    day = datetime(2026, 1, 10, 9, tzinfo=UTC)
    events = [UsageEvent("t1", "car.trip", "d1", day, {"miles": Decimal(400)})]
    events += [UsageEvent(f"b{n}", "car.harsh_brake", "d1", day, {}) for n in range(2)]
    # 400 miles count 250: 250 x 0.032 = 8.00; 2 per 400 miles is 0.5 per 100, factor 1.00.
    charges = rate_period(plan, EventTable.build(events, source="e.jsonl"), JANUARY)[1:]
    lines = [
        *charges,
        *commitment_lines(plan.commitment, plan.currency, charges, [JANUARY], JANUARY),
    ]
    assert [(line.kind, str(line.amount)) for line in lines] == [
        ("usage", "8.00"),
        ("commitment", "32.00"),
    ]
    with store(tenant) as uow:
        customer = uow.customers.get("c1")
    draft = Invoice.draft(
        id="inv-miles",
        kind=DocumentKind.CLOSE,
        customer=customer,
        subscription_id=None,
        period=JANUARY,
        lines=lines,
        issued_at=JANUARY.end,
        grace=timedelta(days=3),
    )
    with store(tenant) as uow:
        uow.invoices.add(draft)
        uow.commit()
    with store(tenant) as uow:
        stored = uow.invoices.get("inv-miles")
    assert stored == draft
    assert stored.as_json() == draft.as_json()
    details = [detail["kind"] for line in stored.as_json()["lines"] for detail in line["detail"]]
    assert details == ["window_cap", "units", "risk_factor", "minimum", "charges"]
