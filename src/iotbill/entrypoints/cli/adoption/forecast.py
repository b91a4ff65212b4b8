"""``iotbill adoption forecast``: adopters and revenue per billing period under a plan.

A threshold cascade on the customer network decides who adopts when; every paying
adopter is billed each period by the plan's real rating code; a seeded Monte Carlo
over the random parts (thresholds, churn, usage noise) gives the median and the 10th
and 90th percentiles. See :mod:`iotbill.adoption.forecast` and docs/adoption.md.
Bad input exits 2 with a message naming the option.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from iotbill.domain.errors import InvalidInput
from iotbill.entrypoints.cli.adoption.options import named_as_flags, parse_fraction, read_graph
from iotbill.entrypoints.cli.output import print_json
from iotbill.entrypoints.cli.session import JsonOption

if TYPE_CHECKING:
    from rich.console import Console

    from iotbill.adoption.forecast import Forecast, Percentiles, ThresholdRule
    from iotbill.domain.money import Currency

#: The option that sets each parameter of the forecasting core, to name it in errors.
_FLAGS = {
    "plan": "--plan",
    "other_plan": "--compare-plan",
    "usage": "--usage",
    "noise_sigma": "--usage-noise",
    "periods": "--periods",
    "rounds_per_period": "--rounds-per-period",
    "churn": "--churn",
    "runs": "--runs",
    "seeds": "--seeds",
    "threshold": "--threshold",
    "payoffs": "--payoff-a",
}


def register(app: typer.Typer) -> None:
    """Add ``forecast`` to ``app``."""
    app.command("forecast")(forecast_command)


def _threshold_rule(
    threshold: str | None, random_thresholds: bool, payoff_a: str | None, payoff_b: str | None
) -> ThresholdRule:
    from iotbill.adoption.forecast import RandomThresholds
    from iotbill.adoption.threshold import threshold_from_payoffs

    payoffs = payoff_a is not None or payoff_b is not None
    if (threshold is not None) + random_thresholds + payoffs != 1:
        raise InvalidInput.at(
            "--threshold",
            "give exactly one of --threshold, --random-thresholds, or --payoff-a and --payoff-b",
        )
    if random_thresholds:
        return RandomThresholds()
    if threshold is not None:
        q = parse_fraction(threshold, "--threshold")
        if not 0 <= q <= 1:
            raise InvalidInput.at("--threshold", f"must be in [0, 1], got {threshold}")
        return q
    if payoff_a is None or payoff_b is None:
        raise InvalidInput.at("--payoff-b", "give both --payoff-a and --payoff-b")
    return threshold_from_payoffs(
        parse_fraction(payoff_a, "--payoff-a"), parse_fraction(payoff_b, "--payoff-b")
    )


def _usage(text: str) -> dict[str, Decimal]:
    """``METER=QTY[,METER=QTY]`` as exact quantities by meter code."""
    quantities: dict[str, Decimal] = {}
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        code, equals, amount = part.partition("=")
        code = code.strip()
        try:
            quantity = Decimal(amount.strip())
        except InvalidOperation:
            quantity = Decimal("NaN")
        if not equals or not code or not quantity.is_finite():
            raise InvalidInput.at("--usage", f"expected METER=QUANTITY, got {part!r}")
        if code in quantities:
            raise InvalidInput.at("--usage", f"meter {code!r} is given twice")
        quantities[code] = quantity
    if not quantities:
        raise InvalidInput.at("--usage", "give at least one METER=QUANTITY")
    return quantities


def _money(values: Percentiles[Decimal], currency: Currency) -> dict[str, str]:
    from iotbill.domain.money import format_money

    return {
        "median": format_money(values.median, currency),
        "p10": format_money(values.p10, currency),
        "p90": format_money(values.p90, currency),
    }


def _counts(values: Percentiles[int]) -> dict[str, int]:
    return {"median": values.median, "p10": values.p10, "p90": values.p90}


def _as_json(result: Forecast) -> dict[str, Any]:
    currency = result.plan.currency
    return {
        "plan": result.plan.code,
        "currency": currency.code,
        "periods": [
            {
                "period": row.period,
                "adopters": _counts(row.adopters),
                "new_adopters": _counts(row.new_adopters),
                "churned": _counts(row.churned),
                "revenue": _money(row.revenue, currency),
            }
            for row in result.summary()
        ],
        "total_revenue": _money(result.total_revenue(), currency),
    }


def _cell(values: dict[str, Any]) -> str:
    """``median (p10–p90)``, or the median alone when every run agrees."""
    if values["p10"] == values["p90"]:
        return str(values["median"])
    return f"{values['median']} ({values['p10']}–{values['p90']})"


def _money_cell(values: dict[str, Any]) -> str:
    """The median, and beneath it the band from the 10th to the 90th percentile."""
    if values["p10"] == values["p90"]:
        return str(values["median"])
    return f"{values['median']}\n[dim]{values['p10']}–{values['p90']}[/dim]"


def _print_table(console: Console, payloads: list[dict[str, Any]], runs: int, seed: int) -> None:
    from rich.table import Table

    first = payloads[0]
    plans = " vs ".join(payload["plan"] for payload in payloads)
    table = Table(
        title=f"Paying adopters and revenue of {plans} ({first['currency']}) per period: "
        f"median and 10th–90th percentile over {runs} runs, seed {seed}",
        title_justify="left",
    )
    for name in ("period", "adopters", "new", "churned"):
        table.add_column(name, justify="right")
    for payload in payloads:
        table.add_column(payload["plan"], justify="right", no_wrap=True)
    for index, row in enumerate(first["periods"]):
        counts = [_cell(row[key]) for key in ("adopters", "new_adopters", "churned")]
        revenue = [_money_cell(payload["periods"][index]["revenue"]) for payload in payloads]
        table.add_row(str(row["period"]), *counts, *revenue)
    table.add_section()
    table.add_row("total", "", "", "", *(_money_cell(p["total_revenue"]) for p in payloads))
    console.print(table)


def _write_chart(path: Path, results: list[Forecast]) -> None:
    """Revenue per period: the median line and the 10th-90th percentile band, per plan."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 4.5), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for result in results:
        rows = result.summary()
        periods = [row.period for row in rows]
        low = [float(row.revenue.p10) for row in rows]
        high = [float(row.revenue.p90) for row in rows]
        (line,) = axes.plot(
            periods,
            [float(row.revenue.median) for row in rows],
            marker="o",
            label=f"{result.plan.code}: median, band 10th-90th percentile",
        )
        axes.fill_between(periods, low, high, color=line.get_color(), alpha=0.2)
    axes.set_xlabel("billing period")
    axes.set_ylabel(f"revenue per period ({results[0].plan.currency.code})")
    axes.set_title("Forecast revenue")
    axes.legend()
    try:
        figure.savefig(path, format="png")
    except OSError as error:
        raise InvalidInput.at("--chart", f"cannot write {path}: {error}") from None


def forecast_command(
    plan: Annotated[Path, typer.Option("--plan", help="Plan file (YAML or JSON).")],
    edges: Annotated[
        Path, typer.Option("--edges", help="Customer network: one 'u v' pair per line.")
    ],
    seeds: Annotated[str, typer.Option(help="Initial adopters: ids separated by commas.")],
    usage: Annotated[
        str, typer.Option(help="Usage per adopter and period: METER=QTY[,METER=QTY].")
    ],
    periods: Annotated[int, typer.Option(help="Number of billing periods.")],
    seed: Annotated[int, typer.Option(help="Seed of the Monte Carlo runs.")],
    compare_plan: Annotated[
        Path | None, typer.Option("--compare-plan", help="A second plan, priced on the same runs.")
    ] = None,
    threshold: Annotated[
        str | None, typer.Option(help="Adopt once this fraction of neighbours has (0.4 or 2/5).")
    ] = None,
    random_thresholds: Annotated[
        bool,
        typer.Option(
            "--random-thresholds", help="Draw each node's threshold uniform on (0, 1] per run."
        ),
    ] = False,
    payoff_a: Annotated[str | None, typer.Option(help="Payoff a when both adopt.")] = None,
    payoff_b: Annotated[
        str | None, typer.Option(help="Payoff b when neither does; threshold b / (a + b).")
    ] = None,
    usage_noise: Annotated[
        float, typer.Option(help="Sigma of a mean-one lognormal factor on each usage.")
    ] = 0.0,
    rounds_per_period: Annotated[int, typer.Option(help="Cascade rounds per billing period.")] = 1,
    churn: Annotated[
        float, typer.Option(help="Chance a paying adopter leaves at each later period.")
    ] = 0.0,
    runs: Annotated[int, typer.Option(help="Monte Carlo runs.")] = 100,
    chart: Annotated[
        Path | None, typer.Option(help="Write a PNG of revenue per period here.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Forecast adopters and revenue per billing period, priced by the plan.

    Initial adopters adopt in period 1; cascade round r in period 1 + r // ROUNDS_PER_PERIOD.

    An adopter pays from the period it adopts in until it churns; it still spreads adoption.

    With --compare-plan both plans are priced on the very same runs.
    """
    import numpy as np

    from iotbill.adapters.plan_files import read_plan
    from iotbill.adoption.forecast import (
        Scenario,
        UsageProfile,
        compare_forecasts,
        forecast,
    )
    from iotbill.entrypoints.cli.progress import progress_bar

    quantities = _usage(usage)
    seed_ids = [part.strip() for part in seeds.split(",") if part.strip()]
    if not seed_ids:
        raise InvalidInput.at("--seeds", "name at least one initial adopter")
    the_plan = read_plan(str(plan))
    other = read_plan(str(compare_plan)) if compare_plan is not None else None
    graph = read_graph(edges)
    seed_indices = tuple(int(i) for i in graph.index_of(seed_ids, location="--seeds"))
    rng = np.random.default_rng(seed)
    with named_as_flags(_FLAGS):
        rule = _threshold_rule(threshold, random_thresholds, payoff_a, payoff_b)
        scenario = Scenario(
            graph,
            seed_indices,
            rule,
            UsageProfile(quantities, usage_noise),
            periods,
            rounds_per_period,
            churn,
        )
        with progress_bar("forecasting runs", runs, enabled=not as_json) as advance:
            if other is None:
                results = [forecast(the_plan, scenario, runs, rng, advance)]
            else:
                results = list(compare_forecasts(the_plan, other, scenario, runs, rng, advance))
    if chart is not None:
        _write_chart(chart, results)
    payloads = [_as_json(result) for result in results]
    if as_json:
        compared = payloads[1] if len(payloads) > 1 else None
        print_json({**payloads[0], "compare": compared, "mapping": scenario.mapping})
        return
    from rich.console import Console

    console = Console()
    _print_table(console, payloads, runs, seed)
    console.print(f"Mapping: {scenario.mapping}.")
    if chart is not None:
        console.print(f"Chart written to {chart}")
