"""The dashboard's charts as Plotly figures: ``{"data": [...], "layout": {...}}``.

Each function turns a service's result into one figure that ``static/charts.js``
draws with the Plotly library served by the dashboard itself (nothing from a
CDN). A chart plots amounts as numbers, which is all a picture needs; the exact
amounts, rounded once by the currency's rule, are in the tables beside it.
Amounts of different currencies are never drawn on one axis: each currency has
its own figure.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from iotbill.adoption.forecast import Forecast
from iotbill.domain.analytics import Amount
from iotbill.services.usage import UsageReport

Figure = dict[str, Any]

_MARGIN = {"l": 60, "r": 20, "t": 40, "b": 50}


def _layout(title: str, x_title: str, y_title: str) -> dict[str, Any]:
    return {
        "title": {"text": title},
        "xaxis": {"title": {"text": x_title}},
        "yaxis": {"title": {"text": y_title}, "rangemode": "tozero"},
        "margin": _MARGIN,
        "height": 320,
    }


def _number(value: Decimal) -> float:
    return float(value)


def amounts_by_label(amounts: Iterable[Amount], title: str, x_title: str) -> dict[str, Figure]:
    """One bar chart per currency of labelled amounts (revenue by month or by model)."""
    by_currency: dict[str, list[Amount]] = defaultdict(list)
    for amount in amounts:
        by_currency[amount.currency].append(amount)
    return {
        code: {
            "data": [
                {
                    "type": "bar",
                    "name": code,
                    "x": [a.label for a in rows],
                    "y": [_number(a.amount) for a in rows],
                }
            ],
            "layout": {
                **_layout(f"{title} ({code})", x_title, code),
                "xaxis": {"title": {"text": x_title}, "type": "category"},
                "bargap": 0.5,
            },
        }
        for code, rows in by_currency.items()
    }


def usage_over_time(report: UsageReport) -> list[Figure]:
    """One line chart per meter: its quantity per bucket, a line per group."""
    figures: list[Figure] = []
    for meter in report.meters:
        series: dict[str | None, tuple[list[str], list[float]]] = {}
        for row in report.rows:
            if row.meter != meter.code:
                continue
            starts, quantities = series.setdefault(row.group, ([], []))
            starts.append(row.bucket.start.astimezone(report.customer.zone).isoformat())
            quantities.append(_number(row.quantity))
        measured = meter.property or "events"
        figures.append(
            {
                "data": [
                    {
                        "type": "scatter",
                        "mode": "lines+markers",
                        "name": group or meter.code,
                        "x": starts,
                        "y": quantities,
                    }
                    for group, (starts, quantities) in series.items()
                ],
                "layout": _layout(
                    f"{meter.code}: {meter.aggregation} of {measured}",
                    f"bucket start ({report.customer.timezone})",
                    meter.code,
                ),
            }
        )
    return figures


def forecast_adopters(result: Forecast) -> Figure:
    """Paying and new adopters per billing period (medians over runs)."""
    rows = result.summary()
    periods = [row.period for row in rows]
    return {
        "data": [
            {
                "type": "bar",
                "name": "new adopters",
                "x": periods,
                "y": [row.new_adopters.median for row in rows],
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": "paying adopters",
                "x": periods,
                "y": [row.adopters.median for row in rows],
            },
        ],
        "layout": _layout("Adopters per period", "billing period", "adopters"),
    }


def forecast_revenue(result: Forecast) -> Figure:
    """Revenue per billing period: the median, and the 10th to 90th percentile band."""
    rows = result.summary()
    periods = [row.period for row in rows]
    code = result.plan.currency.code
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines",
                "name": "90th percentile",
                "x": periods,
                "y": [_number(row.revenue.p90) for row in rows],
                "line": {"width": 0},
            },
            {
                "type": "scatter",
                "mode": "lines",
                "name": "10th percentile",
                "x": periods,
                "y": [_number(row.revenue.p10) for row in rows],
                "fill": "tonexty",
                "line": {"width": 0},
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": "median",
                "x": periods,
                "y": [_number(row.revenue.median) for row in rows],
            },
        ],
        "layout": _layout(f"Revenue per period ({code})", "billing period", code),
    }
