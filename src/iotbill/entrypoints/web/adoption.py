"""``/app/adoption``: how a plan would spread through an uploaded customer network.

The form takes a network (an edge list file: one ``u v`` pair per line, as
``iotbill adoption forecast --edges`` reads), one of the tenant's plans (its
latest version), the initial adopters, the threshold ``q`` (a node adopts when
at least that fraction of its neighbours has), the billing periods, cascade
rounds per period, churn, each adopter's usage per period (``METER=QUANTITY``,
comma separated), and the Monte Carlo runs and seed. The threshold cascade and
the pricing are :func:`iotbill.adoption.forecast.forecast`'s, the same as the
command line's; the page charts paying and new adopters and revenue per period
(median, and the 10th to 90th percentile band) and tabulates them exactly.
Every problem of the form is shown at once under its field (422); nothing is
stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile
from starlette.responses import HTMLResponse

from iotbill.domain.catalog import Plan
from iotbill.domain.errors import InvalidInput, NotFound, ProblemCollector
from iotbill.domain.money import format_money
from iotbill.entrypoints.api.auth import Access
from iotbill.entrypoints.web import charts
from iotbill.entrypoints.web.pages import PageRoute, SignedIn, page
from iotbill.services.catalog import list_plans, show_plan

router = APIRouter(prefix="/app", route_class=PageRoute, include_in_schema=False)

MAX_RUNS = 500
"""More Monte Carlo runs than this are refused: the page answers while one waits."""
DEFAULTS = {
    "plan": "",
    "seeds": "",
    "threshold": "1/2",
    "periods": "12",
    "rounds_per_period": "1",
    "churn": "0",
    "usage": "",
    "runs": "1",
    "seed": "2026",
}


@dataclass(frozen=True, slots=True)
class ForecastRow:
    """One billing period of the forecast, medians over runs, revenue exact."""

    period: int
    adopters: int
    new_adopters: int
    churned: int
    revenue: str
    revenue_band: str


def _integer(text: str, field: str, low: int, high: int, problems: ProblemCollector) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        problems.add(field, f"expected a whole number, got {text!r}")
        return low
    if not low <= value <= high:
        problems.add(field, f"must be from {low} to {high}, got {value}")
    return value


def _fraction(text: str, field: str, problems: ProblemCollector) -> Fraction:
    try:
        value = Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        problems.add(field, f"expected a number such as 0.4 or 2/5, got {text!r}")
        return Fraction(0)
    if not 0 <= value <= 1:
        problems.add(field, f"must be in [0, 1], got {text}")
    return value


def _usage(text: str, problems: ProblemCollector) -> dict[str, Decimal]:
    """``METER=QUANTITY[, ...]`` as exact quantities by meter code (empty: no usage)."""
    quantities: dict[str, Decimal] = {}
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        code, equals, amount = (piece.strip() for piece in part.partition("="))
        try:
            quantity = Decimal(amount)
        except InvalidOperation:
            quantity = Decimal("NaN")
        if not equals or not code or not quantity.is_finite():
            problems.add("usage", f"expected METER=QUANTITY, got {part!r}")
        elif code in quantities:
            problems.add("usage", f"meter {code!r} is given twice")
        else:
            quantities[code] = quantity
    return quantities


def _plan(access: Access, code: str, problems: ProblemCollector) -> Plan | None:
    if not code:
        problems.add("plan", "choose a plan")
        return None
    try:
        return show_plan(access.uow(read_only=True), code).plan
    except NotFound:
        problems.add("plan", f"unknown plan {code!r}")
    return None


def _form_page(
    access: Access,
    fields: dict[str, str],
    *,
    problems: list[tuple[str, str]] | None = None,
    result: dict[str, Any] | None = None,
) -> HTMLResponse:
    plans = sorted({stored.plan.code for stored in list_plans(access.uow(read_only=True))})
    return page(
        "adoption.html",
        title="Adoption forecast",
        access=access,
        status=422 if problems else 200,
        fields=fields,
        plans=plans,
        problems=problems or [],
        result=result,
    )


@router.get("/adoption", response_class=HTMLResponse)
def adoption_form(access: SignedIn) -> HTMLResponse:
    return _form_page(access, dict(DEFAULTS))


@router.post("/adoption", response_class=HTMLResponse)
async def adoption_forecast(request: Request, access: SignedIn) -> HTMLResponse:
    async with request.form() as form:  # closes the uploaded file's spool
        fields = {name: str(form.get(name, default)) for name, default in DEFAULTS.items()}
        upload = form.get("edges")
        data = await upload.read() if isinstance(upload, UploadFile) else b""
    try:
        result = _run(access, fields, data)
    except InvalidInput as error:
        return _form_page(
            access, fields, problems=[(p.location, p.message) for p in error.problems]
        )
    return _form_page(access, fields, result=result)


def _run(access: Access, fields: dict[str, str], edges: bytes) -> dict[str, Any]:
    import numpy as np

    from iotbill.adoption.edge_lists import parse_edge_bytes
    from iotbill.adoption.forecast import Scenario, UsageProfile, forecast

    problems = ProblemCollector()
    plan = _plan(access, fields["plan"].strip(), problems)
    threshold = _fraction(fields["threshold"], "threshold", problems)
    periods = _integer(fields["periods"], "periods", 1, 120, problems)
    rounds = _integer(fields["rounds_per_period"], "rounds_per_period", 1, 1000, problems)
    churn = _fraction(fields["churn"], "churn", problems)
    runs = _integer(fields["runs"], "runs", 1, MAX_RUNS, problems)
    seed = _integer(fields["seed"], "seed", 0, 2**63 - 1, problems)
    quantities = _usage(fields["usage"], problems)
    seed_ids = [part.strip() for part in fields["seeds"].split(",") if part.strip()]
    if not seed_ids:
        problems.add("seeds", "name at least one initial adopter")
    graph = None
    if not edges.strip():
        problems.add("edges", "upload an edge list: one 'u v' pair per line")
    else:
        try:
            graph = parse_edge_bytes(edges, source="edges")
        except InvalidInput as error:
            problems.extend(error.problems)
    seeds: tuple[int, ...] = ()
    if graph is not None and seed_ids:
        try:
            seeds = tuple(int(index) for index in graph.index_of(seed_ids, location="seeds"))
        except InvalidInput as error:
            problems.extend(error.problems)
    problems.raise_if_any()
    assert plan is not None and graph is not None
    scenario = Scenario(
        graph,
        seeds,
        threshold,
        UsageProfile(quantities),
        periods=periods,
        rounds_per_period=rounds,
        churn=float(churn),
    )
    outcome = forecast(plan, scenario, runs, np.random.default_rng(seed))
    money = plan.currency
    total = outcome.total_revenue()
    return {
        "plan": plan,
        "nodes": graph.node_count,
        "edges": graph.edge_count,
        "mapping": outcome.mapping,
        "adopters_chart": charts.forecast_adopters(outcome),
        "revenue_chart": charts.forecast_revenue(outcome),
        "rows": [
            ForecastRow(
                row.period,
                row.adopters.median,
                row.new_adopters.median,
                row.churned.median,
                format_money(row.revenue.median, money),
                f"{format_money(row.revenue.p10, money)} – {format_money(row.revenue.p90, money)}",
            )
            for row in outcome.summary()
        ],
        "total": format_money(total.median, money),
    }
