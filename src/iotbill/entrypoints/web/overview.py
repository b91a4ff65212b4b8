"""``/app``: the overview, from the same service as ``GET /v1/analytics/overview``.

Per currency: the MRR, revenue by month and by business model as bar charts,
and the invoices due, overdue and paid with their counts and amounts, each
amount rounded once by the currency's rule (docs/analytics.md has the rules).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from fastapi import APIRouter
from starlette.responses import HTMLResponse

from iotbill.domain.analytics import Amount, Standing
from iotbill.domain.money import currency, format_money
from iotbill.entrypoints.web import charts
from iotbill.entrypoints.web.pages import PageRoute, SignedIn, page
from iotbill.services.analytics import overview

router = APIRouter(prefix="/app", route_class=PageRoute, include_in_schema=False)


@dataclass(frozen=True, slots=True)
class CurrencySection:
    """The overview's figures in one currency."""

    currency: str
    mrr: str
    standing: list[tuple[str, int, str]]
    by_month: charts.Figure | None
    by_model: charts.Figure | None


def _sections(
    mrr: list[Amount], by_month: list[Amount], by_model: list[Amount], standing: list[Standing]
) -> list[CurrencySection]:
    codes = sorted({a.currency for a in (*mrr, *by_month)} | {s.currency for s in standing})
    month_charts = charts.amounts_by_label(by_month, "Revenue by month", "month")
    model_charts = charts.amounts_by_label(by_model, "Revenue by business model", "business model")
    recurring = {a.currency: a.amount for a in mrr}
    sections = []
    for code in codes:
        money = currency(code)
        sections.append(
            CurrencySection(
                currency=code,
                mrr=format_money(recurring.get(code, Decimal(0)), money),
                standing=[
                    (s.state, s.count, format_money(s.amount, money))
                    for s in standing
                    if s.currency == code
                ],
                by_month=month_charts.get(code),
                by_model=model_charts.get(code),
            )
        )
    return sections


@router.get("", response_class=HTMLResponse)
def overview_page(access: SignedIn) -> HTMLResponse:
    figures = overview(access.uow(read_only=True), access.clock.now())
    return page(
        "overview.html",
        title="Overview",
        access=access,
        at=figures.at,
        sections=_sections(
            figures.mrr, figures.revenue_by_month, figures.revenue_by_model, figures.standing
        ),
    )
