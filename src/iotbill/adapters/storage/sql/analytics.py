"""The overview's sums in SQL: the twins of :mod:`iotbill.domain.analytics`'s rules.

Each statement sums integer minor units (exact on both databases: SQLite's
integer ``SUM``, PostgreSQL's ``SUM(bigint)`` as ``NUMERIC``) and returns a
handful of groups, where the rules in Python read one row per invoice. The
contract tests hold them equal to the pure rules on every store.

* **Revenue**: the finalized and paid invoices' ``subtotal_minor`` less their
  credit notes' lines, grouped by currency, period start, customer zone and the
  plan version in force at the period's start. That version is found as
  :meth:`~iotbill.domain.subscriptions.Subscription.phase_at` finds it, with
  the first phase standing for any instant before it: each phase spans from
  its start (the first from the beginning of time) to the next one's start.
  Credit notes are summed per invoice first, then subtracted.
* **Standing**: ``total_minor`` less ``credits_minor``, ``balance_applied_minor``
  and ``payments_minor`` (what is left to pay) of the finalized invoices with
  something left, due or overdue by their finalization plus the terms; what
  ``payments_minor`` and ``balance_applied_minor`` settled of the paid ones.
* **Plans in service** (for the MRR): the phase in force of each subscription
  started, past its trial and not ended, the latest phase that has started, by
  subscription id (the order in which the subscriptions were summed when built).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, func, literal, or_, select

from iotbill.adapters.storage.sql import tables as t
from iotbill.domain.analytics import TERMS, RevenueSum, Standing
from iotbill.domain.money import currency, from_minor_units
from iotbill.domain.periods import from_micros, to_micros

STANDING_ORDER = {"due": 0, "overdue": 1, "paid": 2}
_BEFORE_ALL, _AFTER_ALL = -(2**63), 2**63 - 1
"""The ends of time as stored instants: the first phase spans from one, the last to the other."""


def revenue_statement(tenant_id: int) -> Select[Any]:
    invoices, customers, phases = t.invoices, t.customers, t.subscription_phases
    notes, note_lines = t.credit_notes, t.credit_note_lines
    # Each phase's span, by lookups on the phases' key (no window function: SQLite can
    # then join the spans by that key, where it would scan them once per invoice).
    earlier, later = phases.alias("earlier"), phases.alias("later")
    same_subscription = [
        earlier.c.tenant_id == phases.c.tenant_id,
        earlier.c.subscription_id == phases.c.subscription_id,
    ]
    has_earlier = (
        select(literal(1)).where(*same_subscription, earlier.c.start < phases.c.start).exists()
    )
    next_start = (
        select(func.min(later.c.start))
        .where(
            later.c.tenant_id == phases.c.tenant_id,
            later.c.subscription_id == phases.c.subscription_id,
            later.c.start > phases.c.start,
        )
        .scalar_subquery()
    )
    spans = (
        select(
            phases.c.subscription_id,
            phases.c.plan_code,
            phases.c.plan_version,
            case((has_earlier, phases.c.start), else_=literal(_BEFORE_ALL)).label("span_start"),
            func.coalesce(next_start, _AFTER_ALL).label("span_end"),
        )
        .where(phases.c.tenant_id == tenant_id)
        .cte("spans")
        # PostgreSQL would look them up once per invoice; made once, they are hash-joined.
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    credited = (
        select(notes.c.invoice_id, func.sum(note_lines.c.amount_minor).label("amount"))
        .join(
            note_lines,
            and_(
                note_lines.c.tenant_id == notes.c.tenant_id,
                note_lines.c.credit_note_id == notes.c.id,
            ),
        )
        .where(notes.c.tenant_id == tenant_id)
        .group_by(notes.c.invoice_id)
        .cte("credited")
    )
    keys = (
        invoices.c.currency,
        invoices.c.period_start,
        customers.c.timezone,
        spans.c.plan_code,
        spans.c.plan_version,
    )
    net = invoices.c.subtotal_minor - func.coalesce(credited.c.amount, 0)
    return (
        select(*keys, func.sum(net).label("amount"))
        .select_from(invoices)
        .join(
            customers,
            and_(
                customers.c.tenant_id == invoices.c.tenant_id,
                customers.c.id == invoices.c.customer_id,
            ),
        )
        .outerjoin(
            spans,
            and_(
                spans.c.subscription_id == invoices.c.subscription_id,
                spans.c.span_start <= invoices.c.period_start,
                invoices.c.period_start < spans.c.span_end,
            ),
        )
        .outerjoin(credited, credited.c.invoice_id == invoices.c.id)
        .where(invoices.c.tenant_id == tenant_id, invoices.c.status.in_(["finalized", "paid"]))
        .group_by(*keys)
    )


def revenue_sums_from(rows: Any) -> list[RevenueSum]:
    return [
        RevenueSum(
            currency=row.currency,
            period_start=from_micros(row.period_start),
            timezone=row.timezone,
            plan=None if row.plan_code is None else (row.plan_code, int(row.plan_version)),
            amount=from_minor_units(int(row.amount), currency(row.currency)),
        )
        for row in rows
    ]


def standing_statement(tenant_id: int, at: datetime) -> Select[Any]:
    invoices = t.invoices
    left = (
        invoices.c.total_minor
        - invoices.c.credits_minor
        - invoices.c.balance_applied_minor
        - invoices.c.payments_minor
    )
    paid = invoices.c.status == "paid"
    overdue = invoices.c.finalized_at <= to_micros(at) - TERMS // timedelta(microseconds=1)
    each = (
        select(
            invoices.c.currency,
            case(
                (paid, literal("paid")), (overdue, literal("overdue")), else_=literal("due")
            ).label("state"),
            case(
                (paid, invoices.c.payments_minor + invoices.c.balance_applied_minor), else_=left
            ).label("amount"),
        )
        .where(
            invoices.c.tenant_id == tenant_id,
            or_(paid, and_(invoices.c.status == "finalized", left > 0)),
        )
        .subquery("settled")
    )
    return select(
        each.c.currency,
        each.c.state,
        func.count().label("count"),
        func.sum(each.c.amount).label("amount"),
    ).group_by(each.c.currency, each.c.state)


def standing_from(rows: Any) -> list[Standing]:
    found = [
        Standing(
            state=row.state,
            currency=row.currency,
            count=int(row.count),
            amount=from_minor_units(int(row.amount), currency(row.currency)),
        )
        for row in rows
    ]
    return sorted(found, key=lambda standing: (STANDING_ORDER[standing.state], standing.currency))


def plans_in_service_statement(tenant_id: int, at: datetime) -> Select[Any]:
    subscriptions, phases = t.subscriptions, t.subscription_phases
    later = phases.alias("later")
    instant = to_micros(at)
    started_later = (
        select(literal(1))
        .where(
            later.c.tenant_id == phases.c.tenant_id,
            later.c.subscription_id == phases.c.subscription_id,
            later.c.start > phases.c.start,
            later.c.start <= instant,
        )
        .exists()
    )
    return (
        select(phases.c.plan_code, phases.c.plan_version)
        .select_from(subscriptions)
        .join(
            phases,
            and_(
                phases.c.tenant_id == subscriptions.c.tenant_id,
                phases.c.subscription_id == subscriptions.c.id,
            ),
        )
        .where(
            subscriptions.c.tenant_id == tenant_id,
            subscriptions.c.start <= instant,
            or_(subscriptions.c.trial_end.is_(None), subscriptions.c.trial_end <= instant),
            or_(
                subscriptions.c.cancel_timing.is_(None),
                subscriptions.c.cancel_effective_at > instant,
            ),
            phases.c.start <= instant,
            ~started_later,
        )
        .order_by(subscriptions.c.id)
    )
