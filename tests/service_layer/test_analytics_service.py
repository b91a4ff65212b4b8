"""The overview: MRR, revenue by month and by business model, invoices due, overdue, paid."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from iotbill.adapters.plan_files import parse_plan_text
from iotbill.adapters.storage.memory import MemoryStore
from iotbill.demo.scenario import BILLED_AT, run_demo
from iotbill.domain.analytics import Amount, monthly_recurring_revenue, plans_in_service
from iotbill.domain.customers import Customer
from iotbill.domain.subscriptions import subscribe
from iotbill.services.analytics import overview
from iotbill.services.invoices import create_credit_note, pay_invoice


def test_the_demo_month_in_figures() -> None:
    store = MemoryStore().unit_of_work_factory()
    run_demo(store)
    seen = overview(store("demo"), BILLED_AT).as_json()
    # Fixed fees a month: the pump's monitoring 31.00 USD, the battery platform 49.00 EUR,
    # the vending connectivity 500 JPY.
    assert seen["mrr"] == [
        {"currency": "EUR", "amount": "49.00"},
        {"currency": "JPY", "amount": "500"},
        {"currency": "USD", "amount": "31.00"},
    ]
    # January before tax: USD 31.00 + 1,629.84; EUR 49.00 + 306.73; JPY 11,380.
    assert seen["revenue_by_month"] == [
        {"month": "2026-01", "currency": "EUR", "amount": "355.73"},
        {"month": "2026-01", "currency": "JPY", "amount": "11380"},
        {"month": "2026-01", "currency": "USD", "amount": "1660.84"},
    ]
    assert seen["revenue_by_model"] == [
        {"model": "asset_sharing", "currency": "EUR", "amount": "355.73"},
        {"model": "outcome_based", "currency": "USD", "amount": "1660.84"},
        {"model": "pay_per_usage", "currency": "JPY", "amount": "11380"},
    ]
    # Due with tax: USD 33.56 + 1,764.30; EUR 58.31 + 365.01; JPY 12,518.
    assert seen["invoices"] == [
        {"state": "due", "currency": "EUR", "count": 2, "amount": "423.32"},
        {"state": "due", "currency": "JPY", "count": 1, "amount": "12518"},
        {"state": "due", "currency": "USD", "count": 2, "amount": "1797.86"},
    ]


def test_credits_lower_revenue_and_invoices_are_paid_or_overdue() -> None:
    store = MemoryStore().unit_of_work_factory()
    run_demo(store)
    pay_invoice(store("demo"), "INV-2026-000001", at=BILLED_AT)
    create_credit_note(
        store("demo"), "INV-2026-000002", reason="Meter fault", amount="100",
        description=None, at=BILLED_AT,
    )  # fmt: skip
    later = BILLED_AT + timedelta(days=30)  # net 30: the unpaid ones are overdue now
    seen = overview(store("demo"), later).as_json()
    usd = [row for row in seen["revenue_by_month"] if row["currency"] == "USD"]
    assert usd == [{"month": "2026-01", "currency": "USD", "amount": "1560.84"}]  # 1,660.84 - 100
    assert [row for row in seen["invoices"] if row["currency"] == "USD"] == [
        # 1,764.30 less the credit note's 100.00 + 8.25 % tax (108.25): 1,656.05 left.
        {"state": "overdue", "currency": "USD", "count": 1, "amount": "1656.05"},
        {"state": "paid", "currency": "USD", "count": 1, "amount": "33.56"},
    ]
    assert overview(store("demo"), later - timedelta(seconds=1)).as_json()["invoices"][0] == {
        "state": "due", "currency": "EUR", "count": 2, "amount": "423.32",
    }  # fmt: skip


def test_mrr_brings_every_interval_to_a_month_and_rounds_once() -> None:
    customer = Customer.create(id="c", name="C", currency_code="USD", timezone="UTC")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    plans = {}
    subscriptions = []
    for index, (interval, amount) in enumerate(
        [("month", "31.00"), ("year", "120.00"), ("week", "1.00"), ("quarter", "0.01")]
    ):
        plan = parse_plan_text(
            f"code: p{index}\ncurrency: USD\ninterval: {interval}\n"
            f'fixed_fees:\n  - {{code: fee, amount: "{amount}"}}\n',
            "plan.yaml",
        )
        plans[plan.code, 1] = plan
        subscriptions.append(
            subscribe(id=f"s{index}", customer=customer, plan=plan, plan_version=1, start=start)
        )
    trial = subscribe(
        id="trial", customer=customer, plan=plans["p0", 1], plan_version=1, start=start,
        trial_end=datetime(2026, 3, 1, tzinfo=UTC),
    )  # fmt: skip
    # 31.00 + 120.00 / 12 + 1.00 x 52 / 12 + 0.01 / 3 = 31 + 10 + 4.3333... + 0.00333...
    # = 45.33666..., rounded once: 45.34. The subscription still in its trial pays nothing.
    in_service = plans_in_service([*subscriptions, trial], datetime(2026, 2, 1, tzinfo=UTC))
    assert in_service == [("p0", 1), ("p1", 1), ("p2", 1), ("p3", 1)]
    assert monthly_recurring_revenue(in_service, plans) == [Amount("MRR", "USD", Decimal("45.34"))]
    assert plans_in_service(subscriptions, start - timedelta(seconds=1)) == []
