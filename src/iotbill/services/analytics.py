"""The overview of a tenant's business: MRR, revenue by month and by business model,
and the standing of its invoices, by the rules of :mod:`iotbill.domain.analytics`.

Read-only: one unit of work reads the tenant's invoices' figures (their stored
totals and state, not their lines), credit notes, subscriptions, the plan
versions they use and the customers' zones.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from iotbill.domain.analytics import (
    Amount,
    Standing,
    invoice_standing,
    monthly_recurring_revenue,
    revenue_by_model,
    revenue_by_month,
)
from iotbill.domain.catalog import Plan
from iotbill.domain.invoices import CreditNote
from iotbill.domain.periods import require_aware
from iotbill.domain.subscriptions import PlanKey
from iotbill.services.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class Overview:
    """What the dashboard's first page shows, at ``at``."""

    at: datetime
    mrr: list[Amount]
    revenue_by_month: list[Amount]
    revenue_by_model: list[Amount]
    standing: list[Standing]

    def as_json(self) -> dict[str, object]:
        """``{"at", "mrr": [{"currency", "amount"}], "revenue_by_month": [{"month",
        "currency", "amount"}], "revenue_by_model": [{"model", "currency", "amount"}],
        "invoices": [{"state", "currency", "count", "amount"}]}``; amounts exact strings."""
        return {
            "at": self.at.isoformat(),
            "mrr": [{"currency": a.currency, "amount": str(a.amount)} for a in self.mrr],
            "revenue_by_month": [
                {"month": a.label, "currency": a.currency, "amount": str(a.amount)}
                for a in self.revenue_by_month
            ],
            "revenue_by_model": [
                {"model": a.label, "currency": a.currency, "amount": str(a.amount)}
                for a in self.revenue_by_model
            ],
            "invoices": [
                {
                    "state": s.state,
                    "currency": s.currency,
                    "count": s.count,
                    "amount": str(s.amount),
                }
                for s in self.standing
            ],
        }


def overview(uow: UnitOfWork, at: datetime) -> Overview:
    """The tenant's overview at ``at``."""
    at = require_aware(at, "at")
    with uow:
        invoices = uow.invoices.figures()
        notes: dict[str, list[CreditNote]] = defaultdict(list)
        for note in uow.credit_notes.list():
            notes[note.invoice_id].append(note)
        subscriptions = {s.id: s for s in uow.subscriptions.list()}
        keys = {phase.plan_key for s in subscriptions.values() for phase in s.phases}
        plans: dict[PlanKey, Plan] = {key: uow.plans.get(*key).plan for key in keys}
        zones = {c.id: c.zone for c in uow.customers.list()}
    return Overview(
        at=at,
        mrr=monthly_recurring_revenue(subscriptions.values(), plans, at),
        revenue_by_month=revenue_by_month(invoices, notes, zones),
        revenue_by_model=revenue_by_model(invoices, notes, subscriptions, plans),
        standing=invoice_standing(invoices, at),
    )
