"""The repositories keep what they are given, exactly, and only for their tenant."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import event

from iotbill.adapters.event_files import read_event_table
from iotbill.adapters.plan_files import parse_plan_text
from iotbill.domain.customers import Customer
from iotbill.domain.errors import Conflict, NotFound
from iotbill.domain.invoices import (
    DocumentKind,
    Invoice,
    InvoiceSummary,
    credit_line,
    issue_credit_note,
)
from iotbill.domain.numbering import format_invoice_number
from iotbill.domain.pauses import Pause
from iotbill.domain.payments import Notice, Payment
from iotbill.domain.periods import Period
from iotbill.domain.rating import rate_period
from iotbill.domain.subscriptions import cancel, change_plan, subscribe
from iotbill.services.ports import Tenant, UnitOfWorkFactory
from tests.contract.conftest import JAN_1, add_devices, device

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PLAN_TEXT = (EXAMPLES / "pump-outcome.yaml").read_text()
JANUARY = Period(JAN_1, JAN_1 + timedelta(days=31))


def test_tenants_are_listed_and_kept_apart(store: UnitOfWorkFactory, tenant: str) -> None:
    with store("default") as uow:
        assert Tenant("default", "Default tenant") in uow.tenants.list()
        assert uow.tenants.get(tenant).code == tenant
        with pytest.raises(Conflict):
            uow.tenants.add(Tenant(tenant, "again"))
        with pytest.raises(NotFound):
            uow.tenants.get("nobody")
        # The default tenant has none of this tenant's customers.
        assert [c.id for c in uow.customers.list()] == []
    with store(tenant) as uow:
        assert [c.id for c in uow.customers.list()] == ["c1", "c2"]
    with store("nobody") as uow, pytest.raises(NotFound, match="unknown tenant 'nobody'"):
        uow.customers.list()


def test_only_committed_work_is_kept(store: UnitOfWorkFactory, tenant: str) -> None:
    with store(tenant) as uow:
        uow.devices.add(device("kept", "c1"))
        uow.commit()
        uow.devices.add(device("dropped", "c1"))
        assert {d.id for d in uow.devices.list()} == {"kept", "dropped"}  # sees its own writes
    with pytest.raises(RuntimeError), store(tenant) as uow:
        uow.devices.add(device("failed", "c1"))
        raise RuntimeError("the use case failed")
    with store(tenant) as uow:
        uow.devices.add(device("rolled-back", "c1"))
        uow.rollback()
        assert [d.id for d in uow.devices.list()] == ["kept"]


def test_customers_round_trip_exactly(store: UnitOfWorkFactory, tenant: str) -> None:
    with store(tenant) as uow:
        customer = uow.customers.get("c2")
        assert (customer.currency.code, customer.timezone, customer.tax_rate) == (
            "EUR",
            "Europe/Berlin",
            Decimal("19"),
        )
        with pytest.raises(Conflict, match="customer 'c2' already exists"):
            uow.customers.add(customer)
        with pytest.raises(NotFound):
            uow.customers.get("c9")


def test_a_customer_is_saved_with_its_new_locale(store: UnitOfWorkFactory, tenant: str) -> None:
    with store(tenant) as uow:
        customer = uow.customers.get("c2")
        assert customer.locale == "en"
        uow.customers.save(replace(customer, locale="de_DE"))
        uow.commit()
    with store(tenant) as uow:
        assert uow.customers.get("c2") == replace(customer, locale="de_DE")
        with pytest.raises(NotFound):
            uow.customers.save(replace(customer, id="c9"))


def test_plans_are_versioned(store: UnitOfWorkFactory, tenant: str) -> None:
    plan = parse_plan_text(PLAN_TEXT, "plan.yaml")
    edited_text = PLAN_TEXT.replace('"0.50"', '"0.55"')
    edited = parse_plan_text(edited_text, "plan.yaml")
    with store(tenant) as uow:
        first = uow.plans.add_version(plan, PLAN_TEXT, JAN_1)
        assert uow.plans.add_version(plan, PLAN_TEXT, JAN_1).version == 1  # unchanged: no version
        second = uow.plans.add_version(edited, edited_text, JAN_1 + timedelta(days=1))
        uow.commit()
    with store(tenant) as uow:
        assert (first.version, second.version) == (1, 2)
        assert uow.plans.get(plan.code).plan == edited
        assert uow.plans.get(plan.code, 1).plan == plan
        assert uow.plans.get(plan.code, 1).document == PLAN_TEXT
        assert [p.version for p in uow.plans.versions(plan.code)] == [1, 2]
        assert [(p.plan.code, p.version) for p in uow.plans.latest()] == [(plan.code, 2)]
        with pytest.raises(NotFound):
            uow.plans.get(plan.code, 3)
        with pytest.raises(NotFound):
            uow.plans.get("no-such-plan")


def test_devices_keep_their_ownership_history(store: UnitOfWorkFactory, tenant: str) -> None:
    add_devices(store, tenant, device("d1", "c1"), device("d2", "c2"))
    moved = device("d1", "c1").move("c2", JAN_1 + timedelta(days=14, hours=3))
    with store(tenant) as uow:
        assert uow.devices.history_length() == 2
        uow.devices.save(moved)
        assert uow.devices.history_length() == 3  # a move makes it grow
        with pytest.raises(Conflict):
            uow.devices.add(device("d2", "c1"))
        with pytest.raises(NotFound):
            uow.devices.add(device("d3", "c9"))
        uow.commit()
    with store(tenant) as uow:
        assert uow.devices.get("d1") == moved
        assert set(uow.devices.find(["d1", "d2", "d9"])) == {"d1", "d2"}
        assert [d.id for d in uow.devices.list(customer="c1")] == ["d1"]
        assert [d.id for d in uow.devices.list()] == ["d1", "d2"]
        with pytest.raises(NotFound):
            uow.devices.get("d9")


def test_a_device_refused_for_an_unknown_customer_leaves_nothing_behind(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    """Refused, a device is not half stored (a row without an owner), and a refused move
    keeps the history it had, even when the unit of work commits what else it did."""
    add_devices(store, tenant, device("d1", "c1"))
    with store(tenant) as uow:
        with pytest.raises(NotFound, match="c9"):
            uow.devices.add(device("d2", "c9"))
        with pytest.raises(NotFound, match="c9"):
            uow.devices.save(device("d1", "c1").move("c9", JAN_1 + timedelta(days=1)))
        uow.devices.add(device("d3", "c2"))
        uow.commit()
    with store(tenant, read_only=True) as uow:
        assert [d.id for d in uow.devices.list()] == ["d1", "d3"]
        assert uow.devices.get("d1") == device("d1", "c1")
        assert set(uow.devices.find(["d1", "d2", "d3"])) == {"d1", "d3"}
        assert uow.devices.history_length() == 2
    add_devices(store, tenant, device("d2", "c1"))  # once its customer is right


def test_the_device_history_length_counts_every_ownership_of_the_tenant(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    """Added one by one or many at once, moved, or rolled back: the length is the number of
    ownerships the tenant's devices have in all, and another tenant's do not count."""
    with store(tenant, read_only=True) as uow:
        assert uow.devices.history_length() == 0  # no device yet
        assert uow.devices.hold_counted() == 0
    add_devices(store, tenant, device("d1", "c1"))
    with store(tenant) as uow:
        uow.devices.add_many([device("d2", "c1"), device("d3", "c2")])
        uow.commit()
    with store(tenant) as uow:
        uow.devices.save(device("d1", "c1").move("c2", JAN_1 + timedelta(days=3)))
        uow.devices.save(device("d2", "c1").move("c2", JAN_1 + timedelta(days=4)))
        uow.commit()
    with store(tenant) as uow:
        uow.devices.add(device("d4", "c1"))  # rolled back: not counted
    with store(tenant, read_only=True) as uow:
        assert uow.devices.history_length() == 5  # 3 devices, 2 moves
        assert uow.devices.find_counted(["d1"])[0] == 5
        assert uow.devices.hold_counted() == 5
    other = f"{tenant}-other"
    with store("default") as uow:
        uow.tenants.add(Tenant(other, "Other"))
        uow.commit()
    with store(other) as uow:
        uow.customers.add(Customer.create(id="c1", name="One", currency_code="USD", timezone="UTC"))
        uow.devices.add(device("d1", "c1"))
        uow.commit()
    with store(other, read_only=True) as uow:
        assert uow.devices.history_length() == 1
    with store(tenant, read_only=True) as uow:
        assert uow.devices.history_length() == 5


def test_subscriptions_keep_phases_and_cancellation(store: UnitOfWorkFactory, tenant: str) -> None:
    plan = parse_plan_text(PLAN_TEXT, "plan.yaml")
    with store(tenant) as uow:
        customer = uow.customers.get("c1")
        uow.plans.add_version(plan, PLAN_TEXT, JAN_1)
        subscription = subscribe(
            id="s1",
            customer=customer,
            plan=plan,
            plan_version=1,
            start=JAN_1 + timedelta(days=9, hours=5),
            trial_end=JAN_1 + timedelta(days=16),
        )
        uow.subscriptions.add(subscription)
        with pytest.raises(NotFound):
            uow.subscriptions.add(replace(subscription, id="s2", customer_id="c9"))
        uow.commit()
    cancelled = cancel(subscription, customer, timing="period_end", at=JAN_1 + timedelta(days=20))
    with store(tenant) as uow:
        assert uow.subscriptions.get("s1") == subscription
        uow.subscriptions.save(cancelled)
        uow.commit()
    with store(tenant) as uow:
        assert uow.subscriptions.list(customer="c1") == [cancelled]
        assert uow.subscriptions.list(customer="c2") == []


def _draft(store: UnitOfWorkFactory, tenant: str, id: str) -> Invoice:
    plan = parse_plan_text(PLAN_TEXT, "plan.yaml")
    lines = rate_period(plan, read_event_table(str(EXAMPLES / "pump-events.jsonl")), JANUARY)
    with store(tenant) as uow:
        customer = uow.customers.get("c1")
    return Invoice.draft(
        id=id,
        kind=DocumentKind.CLOSE,
        customer=customer,
        subscription_id=None,
        period=JANUARY,
        lines=lines,
        issued_at=JANUARY.end,
        grace=timedelta(days=3),
    )


def test_invoices_round_trip_and_freeze_when_finalized(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    draft = _draft(store, tenant, "inv-1")
    with store(tenant) as uow:
        uow.invoices.add(draft)
        uow.commit()
    with store(tenant) as uow:
        assert uow.invoices.get("inv-1") == draft
        assert uow.invoices.get("inv-1").as_json() == draft.as_json()
        number = format_invoice_number("INV", 2026, uow.invoices.next_number("INV-2026"))
        finalized = draft.finalize(number=number, at=draft.grace_until)
        uow.invoices.save(finalized)
        uow.commit()
    with store(tenant) as uow:
        uow.invoices.save(replace(finalized, lines=finalized.lines[:1]))  # a bug's attempt
        uow.commit()
    with store(tenant) as uow:
        assert uow.invoices.get_by_number("INV-2026-000001") == finalized
        assert uow.invoices.list(status="finalized") == [finalized]
        assert uow.invoices.list(customer="c2") == []
        with pytest.raises(NotFound):
            uow.invoices.get_by_number("INV-2026-000002")


def test_numbers_are_gap_free_per_tenant_and_series(store: UnitOfWorkFactory, tenant: str) -> None:
    with store(tenant) as uow:
        assert [uow.invoices.next_number("INV-2026") for _ in range(3)] == [1, 2, 3]
        assert uow.invoices.next_number("CN-2026") == 1
        uow.commit()
    with store(tenant) as uow:
        assert uow.invoices.next_number("INV-2026") == 4  # rolled back below: not used
    with store(tenant) as uow:
        assert uow.invoices.next_number("INV-2026") == 4
    with store("default") as uow:
        assert uow.invoices.next_number("INV-2026") == 1


def test_credit_notes_round_trip(store: UnitOfWorkFactory, tenant: str) -> None:
    draft = _draft(store, tenant, "inv-2")
    finalized = draft.finalize(number="INV-2026-000009", at=draft.grace_until)
    note, credited = issue_credit_note(
        finalized,
        id="cn-1",
        number="CN-2026-000001",
        lines=[credit_line(draft.currency, amount=Decimal("5.00"), description="Goodwill")],
        reason="pump offline two days",
        issued_at=draft.grace_until,
    )
    with store(tenant) as uow:
        uow.invoices.add(draft)
        uow.invoices.save(finalized)
        uow.credit_notes.add(note)
        uow.invoices.save(credited)
        with pytest.raises(NotFound):
            uow.credit_notes.add(replace(note, id="cn-2", invoice_id="inv-9"))
        uow.commit()
    with store(tenant) as uow:
        assert uow.credit_notes.get("cn-1") == note
        assert uow.credit_notes.list(invoice="inv-2") == [note]
        assert uow.invoices.get("inv-2").credits == credited.credits


def test_customers_and_subscriptions_are_found_in_bulk(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    plan = parse_plan_text(PLAN_TEXT, "plan.yaml")
    with store(tenant) as uow:
        uow.plans.add_version(plan, PLAN_TEXT, JAN_1)
        one = uow.customers.get("c1")
        three = Customer.create(id="c3", name="Three", currency_code="USD", timezone="UTC")
        uow.customers.add(three)
        for id, customer in (("s2", one), ("s1", one), ("s3", three)):
            uow.subscriptions.add(
                subscribe(id=id, customer=customer, plan=plan, plan_version=1, start=JAN_1)
            )
        uow.commit()
    with store(tenant) as uow:
        assert uow.customers.find(["c3", "c9", "c3", "c1"]) == {"c1": one, "c3": three}
        assert [s.id for s in uow.subscriptions.for_customers(["c1", "c9"])] == ["s1", "s2"]
        assert uow.subscriptions.for_customers(["c3"]) == [uow.subscriptions.get("s3")]
        assert uow.subscriptions.for_customers([]) == []
        assert uow.subscriptions.owners() == [("s1", "c1"), ("s2", "c1"), ("s3", "c3")]


def test_subscriptions_found_in_bulk_are_those_read_one_by_one(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    """Subscriptions of every shape (plan changes, a trial, a device, a cancellation,
    pauses), read for a set of customers at once, equal each read by its id."""
    plan = parse_plan_text(PLAN_TEXT, "plan.yaml")
    other = parse_plan_text(PLAN_TEXT.replace("code: pump-outcome", "code: pump-two"), "two.yaml")
    with store(tenant) as uow:
        uow.plans.add_version(plan, PLAN_TEXT, JAN_1)
        uow.plans.add_version(other, PLAN_TEXT, JAN_1)
        customers = [
            Customer.create(id=f"k{number}", name=f"K{number}", currency_code="USD", timezone="UTC")
            for number in range(6)
        ]
        for customer in customers:
            uow.customers.add(customer)
        for number in range(18):
            customer = customers[number % 6]
            start = JAN_1 + timedelta(days=number)
            subscription = subscribe(
                id=f"t{(number * 7) % 18:02d}",
                customer=customer,
                plan=plan,
                plan_version=1,
                start=start,
                trial_end=start + timedelta(days=14) if number % 4 == 0 else None,
                device_id=f"d{number}" if number % 3 == 0 else None,
            )
            for change in range(number % 3):  # back and forth: a phase each month
                subscription = change_plan(
                    subscription,
                    customer,
                    plan=other if change % 2 == 0 else plan,
                    plan_version=1,
                    at=start + timedelta(days=40 * (change + 1)),
                    timing="immediate",
                )
            if number % 5 == 1:
                subscription = cancel(
                    subscription, customer, timing="immediate", at=start + timedelta(days=150)
                )
            if number % 4 == 2:
                subscription = replace(
                    subscription,
                    pauses=(Pause(start + timedelta(days=3), start + timedelta(days=9)),),
                )
            uow.subscriptions.add(subscription)
        uow.commit()
    with store(tenant) as uow:
        everyone = sorted(uow.subscriptions.list(), key=lambda found: found.id)
        assert len(everyone) == 18
        assert sum(len(found.phases) for found in everyone) == 18 + 6 * (1 + 2)
        for chosen in (["k0"], ["k5", "k2", "k5"], [f"k{number}" for number in range(7)]):
            expected = [uow.subscriptions.get(s.id) for s in everyone if s.customer_id in chosen]
            assert uow.subscriptions.for_customers(chosen) == expected


def test_invoices_are_added_and_replaced_in_bulk(store: UnitOfWorkFactory, tenant: str) -> None:
    draft = replace(_draft(store, tenant, "inv-a"), subscription_id="s1")
    final = replace(_draft(store, tenant, "inv-b"), subscription_id="s1").finalize(
        number="INV-2026-000001", at=JANUARY.end
    )
    other = replace(_draft(store, tenant, "inv-c"), subscription_id="s2")
    with store(tenant) as uow:
        uow.invoices.add_many([draft, final, other])
        uow.commit()
    with store(tenant) as uow:
        assert uow.invoices.find(["inv-a", "inv-b", "inv-z"]) == {"inv-a": draft, "inv-b": final}
        assert uow.invoices.summaries(["s1"]) == [
            InvoiceSummary(
                id=i.id,
                kind=DocumentKind.CLOSE,
                subscription_id="s1",
                status=i.status,
                period=i.period,
                issued_at=i.issued_at,
                grace_until=i.grace_until,
                number=i.number,
                finalized_at=i.finalized_at,
                subtotal=i.subtotal,
            )
            for i in (draft, final)
        ]
        revised = draft.revise(draft.lines[:1])
        uow.invoices.replace_drafts(
            [revised, other.finalize(number="INV-2026-000002", at=JANUARY.end)]
        )
        uow.commit()
    with store(tenant) as uow:
        assert uow.invoices.get("inv-a") == revised
        assert uow.invoices.get("inv-c").number == "INV-2026-000002"
        with pytest.raises(Conflict, match="INV-2026-000001 is finalized, not a draft"):
            uow.invoices.replace_drafts([final.void(at=JANUARY.end)])
    with store(tenant) as uow, pytest.raises(NotFound, match="inv-z"):
        uow.invoices.replace_drafts([replace(draft, id="inv-z")])


REFUSED: dict[str, tuple[Callable[[Invoice], Invoice], type[Exception]]] = {
    "a taken id": (lambda fresh: replace(fresh, id="inv-a"), Conflict),
    "a taken number": (
        lambda fresh: fresh.finalize(number="INV-2026-000001", at=JANUARY.end),
        Conflict,
    ),
    "an unknown customer": (lambda fresh: replace(fresh, customer_id="c9"), NotFound),
}


@pytest.mark.parametrize("refusal", REFUSED.values(), ids=REFUSED.keys())
def test_bulk_adds_refuse_what_is_taken_or_unknown(
    store: UnitOfWorkFactory,
    tenant: str,
    refusal: tuple[Callable[[Invoice], Invoice], type[Exception]],
) -> None:
    make, error = refusal
    stored = _draft(store, tenant, "inv-a")
    numbered = _draft(store, tenant, "inv-b").finalize(number="INV-2026-000001", at=JANUARY.end)
    with store(tenant) as uow:
        uow.invoices.add_many([stored, numbered])
        uow.commit()
    with store(tenant) as uow, pytest.raises(error):
        uow.invoices.add_many(
            [_draft(store, tenant, "inv-fresh"), make(_draft(store, tenant, "inv-new"))]
        )
    with store(tenant) as uow:
        assert [i.id for i in uow.invoices.list()] == ["inv-a", "inv-b"]


def test_numbers_are_taken_many_at_once(store: UnitOfWorkFactory, tenant: str) -> None:
    with store(tenant) as uow:
        assert uow.invoices.next_numbers("INV-2026", 3) == range(1, 4)
        assert uow.invoices.next_number("INV-2026") == 4
        assert uow.invoices.next_numbers("INV-2026", 2) == range(5, 7)
        assert uow.invoices.next_numbers("INV-2027", 1) == range(1, 2)
        with pytest.raises(ValueError):
            uow.invoices.next_numbers("INV-2026", 0)
        uow.commit()
    with store(tenant) as uow:
        assert uow.invoices.next_numbers("INV-2026", 5) == range(7, 12)  # rolled back: unused
    with store(tenant) as uow:
        assert uow.invoices.next_number("INV-2026") == 7


def test_payments_and_notices_are_kept_per_invoice(store: UnitOfWorkFactory, tenant: str) -> None:
    final = _draft(store, tenant, "inv-p").finalize(
        number="INV-2026-000009", at=JANUARY.end, due_on=date(2026, 2, 1)
    )
    paid = final.pay(at=JANUARY.end, amount=Decimal("10.00"))
    with store(tenant) as uow:
        uow.invoices.add(paid)
        uow.invoices.add_payment(Payment("inv-p", Decimal("10.00"), JANUARY.end))
        uow.invoices.add_payment(Payment("inv-p", Decimal("0.01"), JANUARY.end))
        uow.invoices.add_notices(
            [
                Notice("inv-p", "reminder+3", date(2026, 2, 1), JANUARY.end),
                Notice("inv-p", "overdue", date(2026, 2, 1), JANUARY.end),
            ]
        )
        uow.commit()
    with store(tenant) as uow:
        stored = uow.invoices.get("inv-p")
        assert (stored.payments, stored.due_on, stored.amount_due) == (
            Decimal("10.00"),
            date(2026, 2, 1),
            paid.amount_due,
        )
        assert [p.amount for p in uow.invoices.payments("inv-p")] == [
            Decimal("10.00"),
            Decimal("0.01"),
        ]
        assert [n.kind for n in uow.invoices.notices("inv-p")] == ["overdue", "reminder+3"]
        assert uow.invoices.notices("inv-other") == []
    with store(tenant) as uow, pytest.raises(Conflict):
        uow.invoices.add_notices([Notice("inv-p", "overdue", date(2026, 2, 1), JANUARY.end)])


def test_a_tenant_added_by_work_rolled_back_stays_unknown(store: UnitOfWorkFactory) -> None:
    code = f"t-{uuid.uuid4().hex[:10]}"
    with store(code) as uow:
        uow.tenants.add(Tenant(code, "Gone"))
        uow.customers.add(Customer.create(id="c1", name="One", currency_code="USD", timezone="UTC"))
        assert [customer.id for customer in uow.customers.list()] == ["c1"]
    with store(code, read_only=True) as uow, pytest.raises(NotFound, match="unknown tenant"):
        uow.customers.list()


def test_a_tenant_is_looked_up_once_its_id_is_known(store: UnitOfWorkFactory, tenant: str) -> None:
    with store(tenant, read_only=True) as uow:
        uow.customers.list()
    engine = getattr(store(tenant), "engine", None)
    if engine is None:
        pytest.skip("the memory store looks nothing up")
    statements: list[str] = []

    def seen(connection: Any, cursor: Any, statement: str, *rest: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        with store(tenant, read_only=True) as uow:
            assert [customer.id for customer in uow.customers.list()] == ["c1", "c2"]
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert statements and not any("FROM tenants" in statement for statement in statements)


def test_a_plan_version_is_read_once_it_is_known(store: UnitOfWorkFactory, tenant: str) -> None:
    plan = parse_plan_text(PLAN_TEXT, "plan.yaml")
    with store(tenant) as uow:
        added = uow.plans.add_version(plan, PLAN_TEXT, JAN_1)
        uow.commit()
    engine = getattr(store(tenant), "engine", None)
    if engine is None:
        pytest.skip("the memory store looks nothing up")
    statements: list[str] = []

    def seen(connection: Any, cursor: Any, statement: str, *rest: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        with store(tenant, read_only=True) as uow:
            stored = uow.plans.get(plan.code, added.version)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert (stored.plan, stored.version, stored.document) == (plan, 1, PLAN_TEXT)
    assert not any("FROM plans" in statement for statement in statements)
    with store(tenant, read_only=True) as uow:  # not a version by number: read
        assert uow.plans.get(plan.code).version == 1
        with pytest.raises(NotFound, match="has no version 2"):
            uow.plans.get(plan.code, 2)


def test_a_plan_version_added_by_work_rolled_back_is_not_remembered(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    plan = parse_plan_text(PLAN_TEXT, "plan.yaml")
    edited_text = PLAN_TEXT.replace('"0.50"', '"0.55"')
    edited = parse_plan_text(edited_text, "plan.yaml")
    with store(tenant) as uow:
        uow.plans.add_version(plan, PLAN_TEXT, JAN_1)
        assert uow.plans.get(plan.code, 1).plan == plan
        uow.rollback()
    with store(tenant) as uow:
        assert uow.plans.add_version(edited, edited_text, JAN_1).version == 1
        uow.commit()
    with store(tenant, read_only=True) as uow:
        assert uow.plans.get(plan.code, 1).plan == edited


def test_a_read_only_unit_of_work_on_postgresql_holds_no_transaction_open(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    engine = getattr(store(tenant), "engine", None)
    if engine is None or engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL runs a read-only unit of work's statements in autocommit")
    with store(tenant, read_only=True) as uow:
        assert [customer.id for customer in uow.customers.list()] == ["c1", "c2"]
        driver = uow._connection().connection.dbapi_connection  # type: ignore[attr-defined]
        assert driver.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    with store(tenant) as uow:  # a unit of work that may write is one transaction
        uow.customers.list()
        driver = uow._connection().connection.dbapi_connection  # type: ignore[attr-defined]
        assert driver.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
