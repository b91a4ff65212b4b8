"""The overview of a tenant's business: MRR, revenue by month and by business model,
and the standing of its invoices, by the rules of :mod:`iotbill.domain.analytics`.

Read-only: one unit of work asks the store for the invoices' revenue and
standing already summed (by SQL on a database: a few groups, never a row per
invoice), the plan version of each subscription in service for the MRR (never
building a subscription), and those plan versions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from iotbill.domain.analytics import (
    Amount,
    Standing,
    monthly_recurring_revenue,
    revenue_by_model,
    revenue_by_month,
)
from iotbill.domain.catalog import Plan
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
        revenue = uow.invoices.revenue_sums()
        standing = uow.invoices.standing(at)
        in_service = uow.subscriptions.plans_in_service(at)
        keys: set[PlanKey] = set(in_service)
        keys.update(revenue.plan for revenue in revenue if revenue.plan is not None)
        plans: dict[PlanKey, Plan] = {key: uow.plans.get(*key).plan for key in keys}
    return Overview(
        at=at,
        mrr=monthly_recurring_revenue(in_service, plans),
        revenue_by_month=revenue_by_month(revenue),
        revenue_by_model=revenue_by_model(revenue, plans),
        standing=standing,
    )
