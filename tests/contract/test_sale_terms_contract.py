"""What sale terms store, the same on memory, SQLite and PostgreSQL: a plan's one-off charges
and lease contract come back as written, an invoice keeps its instalment lines and their
details exactly, and a subscription keeps why its service ends (asked for, its term, a
buy-out)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from iotbill.adapters.plan_files import parse_plan_text
from iotbill.domain.catalog import ContractTerms, TerminationFee
from iotbill.domain.customers import Customer
from iotbill.domain.invoices import DocumentKind, Invoice
from iotbill.domain.lease import buy_out
from iotbill.domain.periods import Period
from iotbill.domain.subscription_billing import cancellation_lines, opening_lines
from iotbill.domain.subscriptions import cancel, subscribe
from iotbill.services.ports import UnitOfWorkFactory
from tests.conftest import ROOT
from tests.contract.conftest import JAN_1

TEMPLATE = ROOT / "examples" / "models" / "retail-instalments.yaml"
LEASE = ROOT / "examples" / "models" / "lease.yaml"


def test_the_template_plan_comes_back_with_its_one_off_charges(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    text = TEMPLATE.read_text()
    plan = parse_plan_text(text, TEMPLATE.name)
    with store(tenant) as uow:
        uow.plans.add_version(plan, text, JAN_1)
        uow.commit()
    with store(tenant) as uow:
        stored = uow.plans.get(plan.code).plan
    assert stored == plan
    assert [
        (c.code, str(c.amount), c.instalments, c.on_cancel) for c in stored.one_off_charges
    ] == [
        ("pump", "1000.00", 3, "bill_remaining"),
        ("installation", "150.00", 1, "bill_remaining"),
    ]


def test_an_invoice_keeps_its_instalment_lines_and_details(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    plan = parse_plan_text(TEMPLATE.read_text(), TEMPLATE.name)
    customer = Customer.create(id="c1", name="One", currency_code="USD", timezone="UTC")
    subscription = subscribe(id="s1", customer=customer, plan=plan, plan_version=1, start=JAN_1)
    cancelled = cancel(subscription, customer, timing="immediate", at=JAN_1 + timedelta(days=9))
    plans = {phase.plan_key: plan for phase in subscription.phases}
    lines = [
        *opening_lines(subscription, customer, plans),
        *cancellation_lines(cancelled, customer, plans),
    ]
    invoice = Invoice.draft(
        id="inv-1",
        kind=DocumentKind.CANCELLATION,
        customer=customer,
        subscription_id=None,
        period=Period(JAN_1, datetime(2026, 2, 1, tzinfo=UTC)),
        lines=lines,
        issued_at=JAN_1,
    )
    with store(tenant) as uow:
        uow.invoices.add(invoice)
        uow.commit()
    with store(tenant) as uow:
        stored = uow.invoices.get("inv-1")
    assert stored == invoice
    assert [(line.kind, line.charge, str(line.amount)) for line in stored.lines] == [
        ("fixed_fee", "monitoring", "15.00"),
        ("one_off", "pump", "333.34"),
        ("one_off", "installation", "150.00"),
        ("credit", "monitoring", "-10.65"),  # 15.00 x 22 / 31 days = 10.645..., credited
        ("one_off", "pump", "333.33"),
        ("one_off", "pump", "333.33"),
    ]
    assert [detail.note for line in stored.lines[4:] for detail in line.detail] == [
        "1000.00 in 3 parts: part 2, billed as service ended",
        "1000.00 in 3 parts: part 3, billed as service ended",
    ]


def test_the_lease_plan_comes_back_with_its_contract(store: UnitOfWorkFactory, tenant: str) -> None:
    text = LEASE.read_text()
    plan = parse_plan_text(text, LEASE.name)
    with store(tenant) as uow:
        uow.plans.add_version(plan, text, JAN_1)
        uow.commit()
    with store(tenant) as uow:
        stored = uow.plans.get(plan.code).plan
    assert stored == plan
    assert stored.contract == ContractTerms(
        36, "evergreen", TerminationFee(percent=Decimal(50)), Decimal("300.00")
    )


def test_why_service_ends_and_its_own_terms_are_stored_with_the_subscription(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    customer = Customer.create(id="c1", name="One", currency_code="USD", timezone="UTC")
    lease = parse_plan_text(LEASE.read_text(), LEASE.name)
    ends_text = LEASE.read_text().replace("evergreen ", "cancel ").replace("term: 36", "term: 2")
    ends = parse_plan_text(ends_text, LEASE.name)
    bought_at = datetime(2029, 1, 1, tzinfo=UTC)
    found = [
        buy_out(subscribe(id="s1", customer=customer, plan=lease, plan_version=1, start=JAN_1),
                customer, lease, bought_at),
        subscribe(id="s2", customer=customer, plan=ends, plan_version=2, start=JAN_1),
        cancel(subscribe(id="s3", customer=customer, plan=lease, plan_version=1, start=JAN_1),
               customer, timing="period_end", at=JAN_1 + timedelta(days=3)),
        subscribe(id="s4", customer=customer, plan=lease, plan_version=1, start=JAN_1,
                  contract=ContractTerms(12, "renew", TerminationFee(amount=Decimal("0.01")))),
    ]  # fmt: skip
    with store(tenant) as uow:
        uow.plans.add_version(lease, LEASE.read_text(), JAN_1)
        uow.plans.add_version(ends, ends_text, JAN_1)
        for subscription in found:
            uow.subscriptions.add(subscription)
        uow.commit()
    with store(tenant) as uow:
        stored = [uow.subscriptions.get(subscription.id) for subscription in found]
    assert stored == found
    assert [
        (s.cancellation.reason, s.cancellation.timing, s.cancellation.effective_at.date())
        for s in stored
        if s.cancellation is not None
    ] == [
        ("buy_out", "immediate", date(2029, 1, 1)),
        ("term_end", "period_end", date(2026, 3, 1)),
        ("requested", "period_end", date(2026, 2, 1)),
    ]
    assert [s.contract for s in stored] == [None, None, None, found[3].contract]
