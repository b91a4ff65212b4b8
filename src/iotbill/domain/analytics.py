"""Revenue and recurring revenue: the figures a finance or product person reads first.

Pure functions over invoices, credit notes, subscriptions and plans; the
service (:mod:`iotbill.services.analytics`) loads them. Revenue and standing
are summed by the store (:meth:`InvoiceRepository.revenue_sums` and
:meth:`~InvoiceRepository.standing`, in SQL on a database), which
:func:`revenue_sums` and :func:`invoice_standing` specify: the two revenue
figures read those sums, grouped by currency, period start, zone and plan
version, never one row per invoice; the store lists the plan version of each
subscription in service for the MRR (:func:`plans_in_service`). The rules:

* **Revenue** is what was invoiced before tax, net of credit notes: the
  subtotal of every finalized or paid invoice, less the subtotals of the credit
  notes issued against it. Drafts (not issued yet) and void invoices count for
  nothing. Amounts stay apart by currency; nothing is converted.
* **Month** of an invoice: the month of its period's start in its customer's
  zone (the demo's January invoices are January, in Chicago and in Tokyo alike).
* **Business model** of an invoice: the ``model`` tag of the plan version its
  subscription had at the period's start; ``untagged`` when the plan has none
  or the invoice has no subscription.
* **MRR** at an instant: for every subscription in service then (started, not
  ended, past its trial), the fixed fees of its plan version in force, brought
  to a month (``month`` x1, ``quarter`` /3, ``year`` /12, ``week`` x52/12,
  ``day`` x365/12) and summed exactly per currency, then rounded once by the
  currency's rule. Usage charges are not recurring: they are revenue, not MRR.

* **Standing** of the invoices at an instant: *paid* (status paid), *due*
  (finalized, something left to pay, finalized less than 30 days before: net
  30 terms, until invoices carry terms of their own) and *overdue* (the same,
  finalized 30 days before or longer); each with its count and what is left to
  pay (for paid invoices: what was paid), per currency.

Worked example: a customer on a 31.00 USD a month plan and another on a
120.00 USD a year plan give an MRR of 31.00 + 120.00 / 12 = 41.00 USD.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from iotbill.domain.catalog import Interval, Plan
from iotbill.domain.invoices import CreditNote, Invoice, InvoiceStatus, amount_due_of
from iotbill.domain.money import Currency, currency, round_money
from iotbill.domain.subscriptions import PlanKey, Subscription

UNTAGGED = "untagged"
MONTHS_PER_INTERVAL: dict[Interval, Decimal] = {
    "month": Decimal(1),
    "quarter": Decimal(1) / Decimal(3),
    "year": Decimal(1) / Decimal(12),
    "week": Decimal(52) / Decimal(12),
    "day": Decimal(365) / Decimal(12),
}
"""How many times an interval's fee falls in a month (a fee of one ``year`` is 1/12 a month)."""


@dataclass(frozen=True, slots=True)
class InvoiceFigures:
    """What the rules below read of an invoice: its state and sums, not its lines.

    A store reads these from an invoice's stored totals, which is what lets an
    overview of 100,000 invoices skip building each invoice's lines.
    """

    id: str
    customer_id: str
    subscription_id: str | None
    currency: Currency
    period_start: datetime
    status: InvoiceStatus
    finalized_at: datetime | None
    subtotal: Decimal
    total: Decimal
    credits: Decimal
    payments: Decimal
    balance_applied: Decimal

    @classmethod
    def of(cls, invoice: Invoice) -> InvoiceFigures:
        return cls(
            id=invoice.id,
            customer_id=invoice.customer_id,
            subscription_id=invoice.subscription_id,
            currency=invoice.currency,
            period_start=invoice.period.start,
            status=invoice.status,
            finalized_at=invoice.finalized_at,
            subtotal=invoice.subtotal,
            total=invoice.total,
            credits=invoice.credits,
            payments=invoice.payments,
            balance_applied=invoice.balance_applied,
        )

    @property
    def amount_due(self) -> Decimal:
        """As :attr:`Invoice.amount_due`: what is left to pay, nothing on a void invoice."""
        return amount_due_of(self, self.total)


@dataclass(frozen=True, slots=True)
class Amount:
    """A sum in one currency under a label (a month, a business model)."""

    label: str
    currency: str
    amount: Decimal


def net_revenue(invoice: InvoiceFigures, notes: Iterable[CreditNote]) -> Decimal:
    """The invoice's subtotal less its credit notes' subtotals; 0 for drafts and void ones."""
    if invoice.status not in ("finalized", "paid"):
        return Decimal(0)
    return invoice.subtotal - sum((note.totals.subtotal for note in notes), Decimal(0))


@dataclass(frozen=True, slots=True)
class RevenueSum:
    """Net revenue of the finalized and paid invoices that share a currency, a period
    start, their customer's zone and the plan version their subscription had at the
    period's start (``None``: no subscription): what a store sums, and the two revenue
    figures below read."""

    currency: str
    period_start: datetime
    timezone: str
    plan: PlanKey | None
    amount: Decimal


def revenue_sums(
    invoices: Iterable[InvoiceFigures],
    notes: Mapping[str, list[CreditNote]],
    timezones: Mapping[str, str],
    subscriptions: Mapping[str, Subscription],
) -> list[RevenueSum]:
    """The revenue sums of ``invoices`` (``notes`` by invoice id, ``timezones`` by customer
    id): the reference that a store's SQL must equal. In no particular order."""
    sums: dict[tuple[str, datetime, str, PlanKey | None], Decimal] = defaultdict(Decimal)
    for invoice in invoices:
        if invoice.status not in ("finalized", "paid"):
            continue
        plan: PlanKey | None = None
        subscription = subscriptions.get(invoice.subscription_id or "")
        if subscription is not None:
            phase = subscription.phase_at(invoice.period_start) or subscription.phases[0]
            plan = phase.plan_key
        key = (
            invoice.currency.code,
            invoice.period_start,
            timezones[invoice.customer_id],
            plan,
        )
        sums[key] += net_revenue(invoice, notes.get(invoice.id, []))
    return [RevenueSum(*key, amount) for key, amount in sums.items()]


def revenue_by_month(sums: Iterable[RevenueSum]) -> list[Amount]:
    """Net revenue per month (``2026-01``) and currency, by month then currency."""
    by_month: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for revenue in sums:
        local = revenue.period_start.astimezone(ZoneInfo(revenue.timezone))
        by_month[f"{local.year:04d}-{local.month:02d}", revenue.currency] += revenue.amount
    return [Amount(month, code, by_month[month, code]) for month, code in sorted(by_month)]


def revenue_by_model(sums: Iterable[RevenueSum], plans: Mapping[PlanKey, Plan]) -> list[Amount]:
    """Net revenue per business model and currency, by model then currency."""
    by_model: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for revenue in sums:
        model = UNTAGGED if revenue.plan is None else plans[revenue.plan].model or UNTAGGED
        by_model[model, revenue.currency] += revenue.amount
    return [Amount(model, code, by_model[model, code]) for model, code in sorted(by_model)]


def plans_in_service(subscriptions: Iterable[Subscription], at: datetime) -> list[PlanKey]:
    """The plan version in force at ``at`` of each subscription in service then (started,
    past its trial, not ended), in the order given: what the MRR sums, and what a store
    lists (:meth:`SubscriptionRepository.plans_in_service`) without building subscriptions."""
    found = []
    for subscription in subscriptions:
        if subscription.billable_from > at or (
            subscription.end is not None and subscription.end <= at
        ):
            continue
        phase = subscription.phase_at(at)
        if phase is not None:
            found.append(phase.plan_key)
    return found


def monthly_recurring_revenue(
    in_service: Iterable[PlanKey], plans: Mapping[PlanKey, Plan]
) -> list[Amount]:
    """MRR per currency (label ``MRR``) of the subscriptions in service on the plan
    versions ``in_service`` (one key per subscription), each currency's sum rounded once."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for key in in_service:
        plan = plans[key]
        monthly = sum((fee.amount for fee in plan.fixed_fees), Decimal(0))
        sums[plan.currency.code] += monthly * MONTHS_PER_INTERVAL[plan.interval]
    return [Amount("MRR", code, round_money(sums[code], currency(code))) for code in sorted(sums)]


TERMS = timedelta(days=30)
"""Payment terms: an invoice is overdue 30 days after it was finalized (net 30)."""


@dataclass(frozen=True, slots=True)
class Standing:
    """How many invoices in one currency are due, overdue or paid, and for how much."""

    state: str
    currency: str
    count: int
    amount: Decimal


def invoice_standing(invoices: Iterable[InvoiceFigures], at: datetime) -> list[Standing]:
    """Paid, due and overdue invoices at ``at`` per currency (only those there are)."""
    counts: dict[tuple[str, str], int] = defaultdict(int)
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for invoice in invoices:
        if invoice.status == "paid":
            state, amount = "paid", invoice.payments + invoice.balance_applied  # what settled it
        elif invoice.status == "finalized" and invoice.amount_due > 0:
            assert invoice.finalized_at is not None
            overdue = invoice.finalized_at + TERMS <= at
            state, amount = ("overdue" if overdue else "due"), invoice.amount_due
        else:
            continue
        counts[state, invoice.currency.code] += 1
        sums[state, invoice.currency.code] += amount
    order = {"due": 0, "overdue": 1, "paid": 2}
    return [
        Standing(state, code, counts[state, code], sums[state, code])
        for state, code in sorted(counts, key=lambda key: (order[key[0]], key[1]))
    ]
