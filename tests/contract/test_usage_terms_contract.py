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
from iotbill.domain.customers import Device
from iotbill.domain.event_table import EventTable
from iotbill.domain.events import UsageEvent
from iotbill.domain.invoices import DocumentKind, Invoice
from iotbill.domain.periods import Period
from iotbill.domain.rating import rate_period
from iotbill.domain.subscriptions import subscribe
from iotbill.services.billing import bill_run
from iotbill.services.ports import UnitOfWorkFactory
from tests.conftest import ROOT
from tests.contract.conftest import JAN_1
from tests.stories.world import lines

TEMPLATES = ROOT / "examples" / "models"
JANUARY = Period(JAN_1, JAN_1 + timedelta(days=31))
FEB_1, MAR_1 = JANUARY.end, datetime(2026, 3, 1, tzinfo=UTC)


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


def test_a_bill_run_trues_up_caps_and_adjusts_alike_on_every_store(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    text = (TEMPLATES / "outcome-commitment.yaml").read_text()
    plan = parse_plan_text(text, "outcome-commitment.yaml")
    with store(tenant) as uow:
        uow.plans.add_version(plan, text, JAN_1)
        uow.devices.add(Device.create("p1", "c1", JAN_1))
        customer = uow.customers.get("c1")
        uow.subscriptions.add(
            subscribe(id="s1", customer=customer, plan=plan, plan_version=1, start=JAN_1)
        )
        uow.commit()

    def flow(id: str, day: datetime, m3: int, received_at: datetime) -> None:
        with store(tenant) as uow:
            event = UsageEvent(id, "pump.flow", "p1", day, {"m3": Decimal(m3)})
            uow.events.append([event], ["c1"], received_at)
            uow.commit()

    flow("e1", datetime(2026, 1, 20, tzinfo=UTC), 60, JAN_1 + timedelta(days=20))
    bill_run(store, tenant, as_of=FEB_1, now=FEB_1)
    flow("e2", datetime(2026, 1, 25, tzinfo=UTC), 40, FEB_1 + timedelta(days=2))  # late
    flow("e3", datetime(2026, 2, 10, tzinfo=UTC), 1000, FEB_1 + timedelta(days=10))
    bill_run(store, tenant, as_of=MAR_1, now=MAR_1)
    bill_run(store, tenant, as_of=MAR_1, now=MAR_1)  # again: nothing new

    with store(tenant) as uow:
        found = sorted(uow.invoices.list(), key=lambda invoice: invoice.issued_at)
    _opening, january, february = found
    # January: 60 m3 = 30.00, trued up by 70.00 to the 100.00 committed.
    assert lines(january)[:2] == [
        ("usage", "water", "30.00"),
        ("commitment", "minimum_commitment", "70.00"),
    ]
    # February: 1,000 m3 = 500.00, credited down to 400.00; January's late 40 m3 add 20.00 of
    # water and take 20.00 off its true-up.
    assert lines(february) == [
        ("usage", "water", "500.00"),
        ("commitment", "maximum", "-100.00"),
        ("fixed_fee", "monitoring", "25.00"),
        ("adjustment", "water", "20.00"),
        ("adjustment", "minimum_commitment", "-20.00"),
    ]
