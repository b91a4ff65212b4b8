"""The lists that grow with a business are paged by the store itself: every store gives the
same pages, in code-point order, each the rows after a key and no more than asked."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from iotbill.adapters.plan_files import parse_plan_text
from iotbill.domain.customers import Customer, Device
from iotbill.domain.invoices import DocumentKind, Invoice
from iotbill.domain.periods import Period
from iotbill.domain.subscriptions import change_plan, subscribe
from iotbill.services.ports import Paging, UnitOfWorkFactory
from tests.contract.conftest import JAN_1

K = TypeVar("K")

IDS = ["Z", "a", "c-1", "c1", "c10", "c2", "é", "B", "z"]
"""Ids whose code-point order differs from a natural-language collation's (upper case
first, a hyphen counted, an accent after every ASCII letter)."""

PLAN = """\
code: basic
name: Basic
currency: USD
interval: month
fixed_fees: [{code: base, amount: "10.00"}]
"""


def walk(read: Callable[[Paging[K]], Sequence[Any]], key: Callable[[Any], K], size: int) -> list:
    """Every item of a list, read a page of ``size`` at a time from the key of the last."""
    found: list[Any] = []
    after: K | None = None
    while True:
        page = read(Paging(after, size))
        assert len(page) <= size
        found.extend(page)
        if len(page) < size:
            return found
        after = key(page[-1])


def _customers(store: UnitOfWorkFactory, tenant: str) -> None:
    with store(tenant) as uow:
        uow.customers.add_many(
            [
                Customer.create(id=f"p{id}", name=id, currency_code="USD", timezone="UTC")
                for id in IDS
            ]
        )
        uow.commit()


def test_customers_come_a_page_at_a_time_in_code_point_order(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    _customers(store, tenant)
    with store(tenant, read_only=True) as uow:
        every = uow.customers.list()
        assert [c.id for c in every] == sorted(c.id for c in every)  # code points
        assert [c.id for c in uow.customers.list(Paging(None, 2))] == [c.id for c in every[:2]]
        assert [c.id for c in uow.customers.list(Paging("pZ", 3))] == ["pa", "pc-1", "pc1"]
        assert uow.customers.list(Paging("pé", 5)) == []  # after the last
        for size in (1, 2, 4, 100):
            assert walk(uow.customers.list, lambda c: c.id, size) == every


def test_devices_come_a_page_at_a_time_of_all_or_of_one_customer(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    with store(tenant) as uow:
        uow.devices.add_many(
            [Device.create(f"d{id}", "c1" if n % 2 else "c2", JAN_1) for n, id in enumerate(IDS)]
        )
        uow.commit()
    with store(tenant) as uow:  # dc1 moves to c2: it is both customers'
        moved = uow.devices.get("dc1").move("c2", JAN_1 + timedelta(days=2))
        uow.devices.save(moved)
        uow.commit()
    with store(tenant, read_only=True) as uow:
        every = uow.devices.list()
        assert [d.id for d in every] == sorted(f"d{id}" for id in IDS)
        assert uow.devices.list(paging=Paging("dc-1", 2)) == [
            uow.devices.get("dc1"),
            uow.devices.get("dc10"),
        ]
        for customer in ("c1", "c2"):
            theirs = uow.devices.list(customer)
            assert "dc1" in [d.id for d in theirs]
            for size in (1, 3):
                found = walk(lambda p, c=customer: uow.devices.list(c, p), lambda d: d.id, size)
                assert found == theirs
        assert walk(lambda p: uow.devices.list(paging=p), lambda d: d.id, 2) == every


def test_subscriptions_come_a_page_at_a_time_of_all_or_of_one_customer(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    _customers(store, tenant)
    plan = parse_plan_text(PLAN, "plan.yaml")
    with store(tenant) as uow:
        version = uow.plans.add_version(plan, PLAN, JAN_1).version
        for n, id in enumerate(IDS):
            customer = uow.customers.get("pa" if n % 3 else "pB")
            uow.subscriptions.add(
                subscribe(
                    id=f"s{id}", customer=customer, plan=plan, plan_version=version, start=JAN_1
                )
            )
        uow.commit()
    with store(tenant, read_only=True) as uow:
        every = uow.subscriptions.list()
        assert [s.id for s in every] == sorted(f"s{id}" for id in IDS)
        assert [s.id for s in uow.subscriptions.list(paging=Paging("sc1", 2))] == ["sc10", "sc2"]
        for size in (1, 2, 5):
            assert walk(lambda p: uow.subscriptions.list(paging=p), lambda s: s.id, size) == every
            for customer in ("pa", "pB"):
                found = walk(
                    lambda p, c=customer: uow.subscriptions.list(c, p), lambda s: s.id, size
                )
                assert found == uow.subscriptions.list(customer)
                assert found and all(s.customer_id == customer for s in found)


def _invoice(customer: Customer, id: str, start: datetime) -> Invoice:
    period = Period(start, start + timedelta(days=31))
    return Invoice.draft(
        id=id,
        kind=DocumentKind.CLOSE,
        customer=customer,
        subscription_id=None,
        period=period,
        lines=[],
        issued_at=period.end,
    )


def test_invoices_come_a_page_at_a_time_by_period_start_then_id(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    starts = [JAN_1, JAN_1 + timedelta(days=31), JAN_1 - timedelta(days=31)]
    with store(tenant) as uow:
        one, two = uow.customers.get("c1"), uow.customers.get("c2")
        for n, id in enumerate(IDS):  # three invoices on each start: ties go by id
            uow.invoices.add(_invoice(one if n % 2 else two, f"i{id}", starts[n % 3]))
        uow.commit()
    with store(tenant, read_only=True) as uow:
        every = uow.invoices.list()
        assert [(i.period.start, i.id) for i in every] == sorted(
            (i.period.start, i.id) for i in every
        )
        assert [i.id for i in uow.invoices.list(paging=Paging((JAN_1, "iZ"), 2))] == [
            "ic1",
            "ié",
        ]
        order = lambda i: (i.period.start, i.id)  # noqa: E731
        for size in (1, 2, 4):
            assert walk(lambda p: uow.invoices.list(paging=p), order, size) == every
            found = walk(lambda p: uow.invoices.list(customer="c1", paging=p), order, size)
            assert found == uow.invoices.list(customer="c1") and len(found) == 4


def test_subscriptions_on_a_plan_come_a_page_at_a_time(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    """``plan`` keeps the subscriptions with a phase on that plan, before or after a
    change, of every customer or of one; paged like the rest."""
    _customers(store, tenant)
    basic = parse_plan_text(PLAN, "plan.yaml")
    other = PLAN.replace("code: basic", "code: plus").replace('"10.00"', '"20.00"')
    plus = parse_plan_text(other, "plus.yaml")
    with store(tenant) as uow:
        versions = {
            basic.code: uow.plans.add_version(basic, PLAN, JAN_1).version,
            plus.code: uow.plans.add_version(plus, other, JAN_1).version,
        }
        for n, id in enumerate(IDS):
            customer = uow.customers.get("pa" if n % 2 else "pB")
            plan = basic if n % 3 else plus
            subscription = subscribe(
                id=f"s{id}",
                customer=customer,
                plan=plan,
                plan_version=versions[plan.code],
                start=JAN_1,
            )
            if id == "c1":  # from plus to basic in its second month: on both
                subscription = change_plan(
                    subscription,
                    customer,
                    plan=basic,
                    plan_version=versions[basic.code],
                    at=JAN_1 + timedelta(days=40),
                    timing="immediate",
                )
            uow.subscriptions.add(subscription)
        uow.commit()
    with store(tenant, read_only=True) as uow:
        every = uow.subscriptions.list()
        for code in ("basic", "plus"):
            on_plan = [s for s in every if any(p.plan_code == code for p in s.phases)]
            assert uow.subscriptions.list(plan=code) == on_plan
            for size in (1, 2, 5):
                found = walk(
                    lambda p, c=code: uow.subscriptions.list(paging=p, plan=c), lambda s: s.id, size
                )
                assert found == on_plan
            theirs = [s for s in on_plan if s.customer_id == "pa"]
            assert uow.subscriptions.list("pa", plan=code) == theirs
        assert "sc1" in [s.id for s in uow.subscriptions.list(plan="plus")]
        assert "sc1" in [s.id for s in uow.subscriptions.list(plan="basic")]
        assert uow.subscriptions.list(plan="gold") == []
