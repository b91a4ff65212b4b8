"""The overview's sums from the store: revenue and standing summed where the rows are.

On SQLite and PostgreSQL the sums are SQL over integer minor units
(:mod:`iotbill.adapters.storage.sql.analytics`); they must equal the pure rules
of :mod:`iotbill.domain.analytics` exactly, first in a story with the
arithmetic written out, then on generated invoices, where the whole overview
must equal the overview as it was computed before the sums moved into the
stores (every invoice's figures loaded and summed in Python).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from iotbill.adapters.plan_files import parse_plan_text
from iotbill.domain.analytics import (
    MONTHS_PER_INTERVAL,
    UNTAGGED,
    Amount,
    InvoiceFigures,
    RevenueSum,
    Standing,
    invoice_standing,
    net_revenue,
)
from iotbill.domain.catalog import Plan
from iotbill.domain.customers import Customer
from iotbill.domain.invoices import (
    CreditNote,
    DocumentKind,
    Invoice,
    credit_line,
    issue_credit_note,
)
from iotbill.domain.invoicing import InvoiceLine
from iotbill.domain.money import currency, format_money, round_money
from iotbill.domain.periods import Period
from iotbill.domain.subscriptions import Cancellation, Phase, PlanKey, Subscription
from iotbill.services.analytics import Overview, overview
from iotbill.services.ports import UnitOfWorkFactory

PLANS = {
    ("pump", 1): "code: pump\nmodel: outcome_based\ncurrency: USD\ninterval: month\n"
    'fixed_fees: [{code: base, amount: "31.00"}]\n',
    ("pump", 2): "code: pump\nmodel: pay_per_usage\ncurrency: USD\ninterval: month\n"
    'fixed_fees: [{code: base, amount: "35.00"}]\n',
    ("battery", 1): "code: battery\nmodel: asset_sharing\ncurrency: EUR\ninterval: month\n"
    'fixed_fees: [{code: base, amount: "49.00"}]\n',
    ("meter", 1): "code: meter\ncurrency: USD\ninterval: year\n"
    'fixed_fees: [{code: base, amount: "120.00"}]\n',
}
"""Plans with a model tag, a second version with another, and one untagged."""


def utc(month: int, day: int = 1, hour: int = 0) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def add_plans(store: UnitOfWorkFactory, tenant: str) -> dict[PlanKey, Plan]:
    plans = {}
    with store(tenant) as uow:
        for key, text in PLANS.items():
            stored = uow.plans.add_version(parse_plan_text(text, "plan.yaml"), text, utc(1))
            assert (stored.plan.code, stored.version) == key
            plans[key] = stored.plan
        uow.commit()
    return plans


def invoice(
    id: str,
    customer: Customer,
    subscription: str | None,
    period: Period,
    amount: str,
) -> Invoice:
    """A draft of one fee line of ``amount`` for ``period``, issued at its end."""
    line = InvoiceLine.rounded(
        customer.currency,
        charge="base",
        kind="fixed_fee",
        description="Base fee",
        quantity=Decimal(1),
        unit_price=Decimal(amount),
        exact_amount=Decimal(amount),
    )
    return Invoice.draft(
        id=id,
        kind=DocumentKind.CLOSE,
        customer=customer,
        subscription_id=subscription,
        period=period,
        lines=[line],
        issued_at=period.end,
    )


def test_revenue_and_standing_summed_by_the_store(store: UnitOfWorkFactory, tenant: str) -> None:
    add_plans(store, tenant)
    with store(tenant) as uow:
        c1, c2 = uow.customers.get("c1"), uow.customers.get("c2")  # USD UTC; EUR Berlin, 19 %
        # s1 moves from pump v1 to v2 on March 1; s2 starts on February 1 at 00:00 UTC.
        uow.subscriptions.add(
            Subscription(
                "s1", "c1", "month", utc(1), (Phase("pump", 1, utc(1)), Phase("pump", 2, utc(3)))
            )
        )
        uow.subscriptions.add(
            Subscription("s2", "c2", "month", utc(2), (Phase("battery", 1, utc(2)),))
        )
        # s3 on a yearly plan in its trial until May 15; s4 cancelled from April 1.
        uow.subscriptions.add(
            Subscription(
                "s3", "c1", "year", utc(1), (Phase("meter", 1, utc(1)),), trial_end=utc(5, 15)
            )
        )
        uow.subscriptions.add(
            Subscription(
                "s4",
                "c1",
                "month",
                utc(1),
                (Phase("pump", 1, utc(1)),),
                cancellation=Cancellation("immediate", utc(3, 20), utc(4)),
            )
        )
        uow.commit()
    january, february, march = (Period(utc(m), utc(m + 1)) for m in (1, 2, 3))
    # Fully paid: 100.00.
    i1 = invoice("i1", c1, "s1", january, "100.00").finalize(number="INV-1", at=utc(2))
    i1 = i1.pay(at=utc(2, 5))
    # 50.00, 20.00 of it paid: 30.00 left, finalized March 1.
    i2 = invoice("i2", c1, "s1", february, "50.00").finalize(number="INV-2", at=utc(3))
    i2 = i2.pay(at=utc(3, 5), amount=Decimal("20.00"))
    # 70.00 under pump v2, credited 10.00: revenue 60.00, 60.00 left, finalized April 5.
    i3 = invoice("i3", c1, "s1", march, "70.00").finalize(number="INV-3", at=utc(4, 5))
    note, i3 = issue_credit_note(
        i3,
        id="cn-1",
        number="CN-1",
        lines=[credit_line(c1.currency, amount=Decimal("10.00"), description="Goodwill")],
        reason="pump offline",
        issued_at=utc(4, 6),
    )
    # Of no subscription: untagged, 5.00, finalized February 1.
    i4 = invoice("i4", c1, None, january, "5.00").finalize(number="INV-4", at=utc(2))
    # Nothing from a draft or a void invoice.
    i5 = invoice("i5", c1, "s1", march, "1000.00")
    i6 = invoice("i6", c1, "s1", march, "2000.00").finalize(number="INV-6", at=utc(4))
    i6 = i6.void(at=utc(4, 2))
    # February in Berlin begins at 23:00 UTC on January 31, before s2's first phase, which
    # stands for it: asset sharing. 40.00 + 19 % = 47.60, 7.60 settled by the balance.
    berlin_february = Period(utc(1, 31, 23), utc(2, 28, 23))
    i7 = invoice("i7", c2, "s2", berlin_february, "40.00").finalize(number="INV-7", at=utc(3))
    i7 = replace(i7, balance_applied=Decimal("7.60")).pay(at=utc(3, 2))
    with store(tenant) as uow:
        uow.invoices.add_many([i1, i2, i3, i4, i5, i6, i7])
        uow.credit_notes.add(note)
        uow.commit()

    with store(tenant, read_only=True) as uow:
        sums = uow.invoices.revenue_sums()
        # Finalized April 5, i3 is due until May 5; i2 and i4 are overdue by then.
        standing = uow.invoices.standing(utc(5))
        just_before = uow.invoices.standing(utc(5, 5) - timedelta(microseconds=1))
        at_terms = uow.invoices.standing(utc(5, 5))
    assert set(sums) == {
        RevenueSum("USD", utc(1), "UTC", ("pump", 1), Decimal("100.00")),
        RevenueSum("USD", utc(2), "UTC", ("pump", 1), Decimal("50.00")),
        RevenueSum("USD", utc(3), "UTC", ("pump", 2), Decimal("60.00")),  # 70.00 - 10.00
        RevenueSum("USD", utc(1), "UTC", None, Decimal("5.00")),
        RevenueSum("EUR", utc(1, 31, 23), "Europe/Berlin", ("battery", 1), Decimal("40.00")),
    }
    assert len(sums) == 5
    assert standing == [
        Standing("due", "USD", 1, Decimal("60.00")),  # 70.00 - 10.00 credited
        Standing("overdue", "USD", 2, Decimal("35.00")),  # 30.00 + 5.00
        Standing("paid", "EUR", 1, Decimal("47.60")),  # 40.00 paid + 7.60 of the balance
        Standing("paid", "USD", 1, Decimal("100.00")),
    ]
    assert just_before == standing
    assert at_terms == [Standing("overdue", "USD", 3, Decimal("95.00")), *standing[2:]]

    with store(tenant, read_only=True) as uow:
        assert uow.invoices.standing(utc(5)) == standing
        assert uow.subscriptions.plans_in_service(utc(1) - timedelta(microseconds=1)) == []
        # s2 not started, s3 in its trial; s1 and s4 on pump v1.
        assert uow.subscriptions.plans_in_service(utc(1)) == [("pump", 1), ("pump", 1)]
        # s1 moves to v2 at March 1 itself; s2 has started.
        assert uow.subscriptions.plans_in_service(utc(3)) == [
            ("pump", 2),
            ("battery", 1),
            ("pump", 1),
        ]
        assert uow.subscriptions.plans_in_service(utc(5)) == [("pump", 2), ("battery", 1)]
        june = uow.subscriptions.plans_in_service(utc(6))  # s3's trial is over
        assert june == [("pump", 2), ("battery", 1), ("meter", 1)]

    seen = overview(store(tenant, read_only=True), utc(5)).as_json()
    assert seen["mrr"] == [
        {"currency": "EUR", "amount": "49.00"},
        {"currency": "USD", "amount": "35.00"},  # pump v2
    ]
    in_june = overview(store(tenant, read_only=True), utc(6)).as_json()
    assert in_june["mrr"][1] == {"currency": "USD", "amount": "45.00"}  # 35.00 + 120.00 / 12
    assert seen["revenue_by_month"] == [
        {"month": "2026-01", "currency": "USD", "amount": "105.00"},  # 100.00 + 5.00
        {"month": "2026-02", "currency": "EUR", "amount": "40.00"},  # February in Berlin
        {"month": "2026-02", "currency": "USD", "amount": "50.00"},
        {"month": "2026-03", "currency": "USD", "amount": "60.00"},
    ]
    assert seen["revenue_by_model"] == [
        {"model": "asset_sharing", "currency": "EUR", "amount": "40.00"},
        {"model": "outcome_based", "currency": "USD", "amount": "150.00"},  # 100.00 + 50.00
        {"model": "pay_per_usage", "currency": "USD", "amount": "60.00"},
        {"model": "untagged", "currency": "USD", "amount": "5.00"},
    ]


def test_a_tenant_without_invoices_sums_nothing(store: UnitOfWorkFactory, tenant: str) -> None:
    with store(tenant, read_only=True) as uow:
        assert uow.invoices.revenue_sums() == []
        assert uow.invoices.standing(utc(5)) == []


# The overview as computed before the stores summed it: every invoice's figures, every
# credit note, every customer's zone loaded, and summed in Python one invoice at a time.


def _old_revenue_by_month(
    invoices: Iterable[InvoiceFigures],
    notes: Mapping[str, list[CreditNote]],
    zones: Mapping[str, ZoneInfo],
) -> list[Amount]:
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for figures in invoices:
        if figures.status in ("finalized", "paid"):
            local = figures.period_start.astimezone(zones[figures.customer_id])
            key = (f"{local.year:04d}-{local.month:02d}", figures.currency.code)
            sums[key] += net_revenue(figures, notes.get(figures.id, []))
    return [Amount(month, code, sums[month, code]) for month, code in sorted(sums)]


def _old_revenue_by_model(
    invoices: Iterable[InvoiceFigures],
    notes: Mapping[str, list[CreditNote]],
    subscriptions: Mapping[str, Subscription],
    plans: Mapping[PlanKey, Plan],
) -> list[Amount]:
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for figures in invoices:
        if figures.status not in ("finalized", "paid"):
            continue
        model = UNTAGGED
        subscription = subscriptions.get(figures.subscription_id or "")
        if subscription is not None:
            phase = subscription.phase_at(figures.period_start) or subscription.phases[0]
            model = plans[phase.plan_key].model or UNTAGGED
        sums[model, figures.currency.code] += net_revenue(figures, notes.get(figures.id, []))
    return [Amount(model, code, sums[model, code]) for model, code in sorted(sums)]


def _old_monthly_recurring_revenue(
    subscriptions: Iterable[Subscription], plans: Mapping[PlanKey, Plan], at: datetime
) -> list[Amount]:
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for subscription in subscriptions:
        if subscription.billable_from > at or (
            subscription.end is not None and subscription.end <= at
        ):
            continue
        phase = subscription.phase_at(at)
        if phase is None:
            continue
        plan = plans[phase.plan_key]
        monthly = sum((fee.amount for fee in plan.fixed_fees), Decimal(0))
        sums[plan.currency.code] += monthly * MONTHS_PER_INTERVAL[plan.interval]
    return [Amount("MRR", code, round_money(sums[code], currency(code))) for code in sorted(sums)]


def _old_overview(store: UnitOfWorkFactory, tenant: str, at: datetime) -> Overview:
    with store(tenant, read_only=True) as uow:
        invoices = [InvoiceFigures.of(stored) for stored in uow.invoices.list()]
        notes: dict[str, list[CreditNote]] = defaultdict(list)
        for note in uow.credit_notes.list():
            notes[note.invoice_id].append(note)
        subscriptions = {s.id: s for s in uow.subscriptions.list()}
        keys = {phase.plan_key for s in subscriptions.values() for phase in s.phases}
        plans = {key: uow.plans.get(*key).plan for key in keys}
        zones = {c.id: c.zone for c in uow.customers.list()}
    return Overview(
        at=at,
        mrr=_old_monthly_recurring_revenue(subscriptions.values(), plans, at),
        revenue_by_month=_old_revenue_by_month(invoices, notes, zones),
        revenue_by_model=_old_revenue_by_model(invoices, notes, subscriptions, plans),
        standing=invoice_standing(invoices, at),
    )


def _generate(store: UnitOfWorkFactory, tenant: str, generator: random.Random) -> None:
    """Customers in four zones, subscriptions of one to three phases, and a year of
    invoices in every state, partly paid, settled by the balance and credited."""
    zones = ["UTC", "Europe/Berlin", "America/Chicago", "Asia/Tokyo"]
    with store(tenant) as uow:
        customers = [uow.customers.get("c1"), uow.customers.get("c2")]
        for n in range(10):
            currency = "USD" if n % 2 else "EUR"
            customers.append(
                Customer.create(
                    id=f"g{n}",
                    name=f"Generated {n}",
                    currency_code=currency,
                    timezone=zones[n % len(zones)],
                    tax_rate=generator.choice(["0", "8.25", "19"]),
                )
            )
            uow.customers.add(customers[-1])
        subscriptions: dict[str, list[str]] = defaultdict(list)
        for customer in customers:
            usd = customer.currency.code == "USD"
            for index in range(generator.randint(0, 3)):
                start = utc(generator.randint(1, 4), generator.randint(1, 28))
                codes = [("pump", 1), ("pump", 2), ("meter", 1)] if usd else [("battery", 1)]
                phases = [Phase(*generator.choice(codes), start)]
                for _ in range(generator.randint(0, 2)):
                    phases.append(
                        Phase(*generator.choice(codes), phases[-1].start + timedelta(days=45))
                    )
                id = f"s-{customer.id}-{index}"
                interval = "year" if phases[0].plan_code == "meter" else "month"
                trial_end = start + timedelta(days=20) if generator.random() < 0.3 else None
                cancellation = None
                if generator.random() < 0.3:
                    end = start + timedelta(days=generator.choice([10, 100, 200]))
                    cancellation = Cancellation("immediate", end, end)
                uow.subscriptions.add(
                    Subscription(
                        id,
                        customer.id,
                        interval,
                        start,
                        tuple(phases),
                        trial_end=trial_end,
                        cancellation=cancellation,
                    )
                )
                subscriptions[customer.id].append(id)
        uow.commit()
    invoices, notes = [], []
    for number, month in enumerate(
        (m for m in range(1, 13) for _ in range(len(customers))), start=1
    ):
        customer = generator.choice(customers)
        start = utc(month) + timedelta(hours=generator.choice([-9, -1, 0, 5, 15]))
        period = Period(start, start + timedelta(days=30))
        subscription = generator.choice([None, *subscriptions[customer.id]])
        amount = Decimal(generator.randint(-500, 50_000)).scaleb(-2)  # some negative
        draft = invoice(f"i{number}", customer, subscription, period, str(amount))
        fate = generator.random()
        if fate < 0.1:
            invoices.append(draft)
            continue
        finalized = draft.finalize(number=f"INV-{number}", at=period.end)
        if fate < 0.2:
            invoices.append(finalized.void(at=period.end + timedelta(days=1)))
            continue
        if finalized.total > 0 and generator.random() < 0.3:  # half settled by the balance
            half = round_money(finalized.total / 2, customer.currency)
            finalized = replace(finalized, balance_applied=half)
        if finalized.amount_due > Decimal("1.00") and generator.random() < 0.3:
            finalized = finalized.pay(at=period.end, amount=Decimal("1.00"))
        if finalized.creditable > Decimal("2.00") and generator.random() < 0.3:
            note, finalized = issue_credit_note(
                finalized,
                id=f"cn{number}",
                number=f"CN-{number}",
                lines=[credit_line(customer.currency, amount=Decimal("1.50"), description="x")],
                reason="generated",
                issued_at=period.end,
            )
            notes.append(note)
        if finalized.amount_due > 0 and fate > 0.6:
            finalized = finalized.pay(at=period.end + timedelta(days=3))
        invoices.append(finalized)
    with store(tenant) as uow:
        uow.invoices.add_many(invoices)
        for note in notes:
            uow.credit_notes.add(note)
        uow.commit()


def _shown(figures: Overview) -> list[object]:
    """The figures as the dashboard shows them, each formatted in its currency."""
    amounts = [
        (a.label, a.currency, format_money(a.amount, currency(a.currency)))
        for a in (*figures.mrr, *figures.revenue_by_month, *figures.revenue_by_model)
    ]
    standing = [
        (s.state, s.currency, s.count, format_money(s.amount, currency(s.currency)))
        for s in figures.standing
    ]
    return [amounts, standing]


def test_the_overview_shows_what_it_showed_before_on_generated_invoices(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    add_plans(store, tenant)
    _generate(store, tenant, random.Random(18))
    states = set()
    for at in (utc(1, 10), utc(3, 15), utc(7), utc(12, 31, 23), datetime(2027, 2, 1, tzinfo=UTC)):
        before = _old_overview(store, tenant, at)
        now = overview(store(tenant, read_only=True), at)
        assert now == before
        assert _shown(now) == _shown(before)
        assert now.as_json() == before.as_json()
        states.update(s.state for s in before.standing)
    assert len(before.revenue_by_month) >= 20
    assert [a.currency for a in _old_overview(store, tenant, utc(7)).mrr] == ["EUR", "USD"]
    assert states == {"due", "overdue", "paid"}
    assert {a.label for a in before.revenue_by_model} >= {
        "outcome_based",
        "pay_per_usage",
        "asset_sharing",
        "untagged",
    }
