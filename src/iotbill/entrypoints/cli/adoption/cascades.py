"""``iotbill adoption herding | cascade | capacity | window``: cascades of adoption.

Numbers given as text (thresholds, accuracies, priors, payoffs) are read as exact
fractions: ``0.4`` and ``2/5`` are the same threshold. With ``--json`` each command
prints one JSON object (see docs/adoption.md); without it, readable tables. Bad input
exits 2 with a message naming what is wrong.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Annotated, Any

import typer

from iotbill.domain.errors import InvalidInput
from iotbill.entrypoints.cli.adoption.options import (
    EdgesOption,
    emit_json,
    parse_fraction,
    read_graph,
    shown_ids,
)
from iotbill.entrypoints.cli.session import JsonOption

SIMULATION_SEED = 2026
"""The seed of ``herding --simulate`` unless ``--seed`` is given: a run is repeatable as it
is, and the exact odds beside it do not depend on any seed."""


def register(app: typer.Typer) -> None:
    """Add ``herding``, ``cascade``, ``capacity``, ``window`` to ``app``."""
    app.command("herding")(herding)
    app.command("cascade")(cascade)
    app.command("capacity")(capacity)
    app.command("window")(window)


def herding(
    signal_accuracy: Annotated[
        str, typer.Option(help="Probability that a private signal is right, in (1/2, 1).")
    ],
    people: Annotated[int, typer.Option(help="Number of people who have decided.")],
    prior: Annotated[str, typer.Option(help="Probability that the option is good.")] = "1/2",
    tie: Annotated[
        str, typer.Option(help="At a posterior of exactly 1/2: own-signal, coin-flip or accept.")
    ] = "own-signal",
    simulate: Annotated[int | None, typer.Option(help="Also simulate this many sequences.")] = None,
    seed: Annotated[
        int, typer.Option(help="Seed of the simulation: the same seed, the same runs.")
    ] = SIMULATION_SEED,
    as_json: JsonOption = False,
) -> None:
    """Information cascades: chances of no, a correct or a wrong cascade after N people.

    The model of Bikhchandani, Hirshleifer and Welch (1992), Easley and Kleinberg ch. 16;
    exact fractions (100,000 people take about a second: the public belief has a few
    states, so the odds are a small matrix power), and a seeded Monte Carlo with
    --simulate.
    """
    import numpy as np

    from iotbill.adoption.herding import Herding, TieRule

    choices = ", ".join(rule.value for rule in TieRule)
    if tie not in {rule.value for rule in TieRule}:
        raise InvalidInput.at("--tie", f"must be one of {choices}, got {tie!r}")
    model = Herding(
        parse_fraction(signal_accuracy, "--signal-accuracy"),
        parse_fraction(prior, "--prior"),
        TieRule(tie),
    )
    from iotbill.entrypoints.cli.output import flag_names

    with flag_names(people="--people"):
        odds = model.cascade_odds(people)
    payload: dict[str, Any] = {
        "p_no_cascade": float(odds.no_cascade),
        "p_correct_cascade": float(odds.correct_cascade),
        "p_wrong_cascade": float(odds.wrong_cascade),
    }
    simulated = None
    if simulate is not None:
        simulated = model.simulate(people, simulate, np.random.default_rng(seed))
        payload["simulated"] = {
            "runs": simulated.runs,
            "seed": seed,
            "p_no_cascade": simulated.no_cascade,
            "p_correct_cascade": simulated.correct_cascade,
            "p_wrong_cascade": simulated.wrong_cascade,
        }
    if as_json:
        emit_json(payload)
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"After {people} people (q = {model.signal_accuracy}, prior {model.prior})")
    table = Table()
    table.add_column("outcome")
    table.add_column("exact", justify="right")
    table.add_column("probability", justify="right")
    if simulated is not None:
        table.add_column(f"simulated ({simulated.runs} runs)", justify="right")
    for label, exact, frequency in (
        ("no cascade", odds.no_cascade, simulated.no_cascade if simulated else None),
        ("correct cascade", odds.correct_cascade, simulated.correct_cascade if simulated else None),
        ("wrong cascade", odds.wrong_cascade, simulated.wrong_cascade if simulated else None),
    ):
        # a fraction of many digits (10^4 people and more) is shown by its value only
        exact_text = str(exact) if exact.denominator.bit_length() <= 96 else "…"
        row = [label, exact_text, f"{float(exact):.6f}"]
        table.add_row(*row, *([f"{frequency:.6f}"] if frequency is not None else []))
    console.print(table)
    if simulated is not None:
        console.print(f"Simulated with --seed {seed}: the same seed, the same runs.")


def _threshold(threshold: str | None, payoff_a: str | None, payoff_b: str | None) -> Fraction:
    from iotbill.adoption.threshold import threshold_from_payoffs

    if threshold is not None and (payoff_a is not None or payoff_b is not None):
        raise InvalidInput.at("--threshold", "give either --threshold or --payoff-a and --payoff-b")
    if threshold is not None:
        q = parse_fraction(threshold, "--threshold")
        if not 0 <= q <= 1:
            raise InvalidInput.at("--threshold", f"must be in [0, 1], got {threshold}")
        return q
    if payoff_a is None or payoff_b is None:
        raise InvalidInput.at("--threshold", "give --threshold, or both --payoff-a and --payoff-b")
    return threshold_from_payoffs(
        parse_fraction(payoff_a, "--payoff-a"), parse_fraction(payoff_b, "--payoff-b")
    )


def cascade(
    edges: EdgesOption,
    seeds: Annotated[str, typer.Option(help="Initial adopters: ids separated by commas.")],
    threshold: Annotated[
        str | None,
        typer.Option(help="Switch to A when at least this fraction of neighbours use A."),
    ] = None,
    payoff_a: Annotated[
        str | None, typer.Option(help="Payoff when both use A; threshold b / (a + b).")
    ] = None,
    payoff_b: Annotated[str | None, typer.Option(help="Payoff when both use B.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Threshold cascade: who switches to A, round by round.

    The network coordination game of Easley and Kleinberg ch. 19, compared exactly.
    """
    from iotbill.adoption.threshold import threshold_cascade

    q = _threshold(threshold, payoff_a, payoff_b)
    graph = read_graph(edges)
    seed_ids = [part.strip() for part in seeds.split(",") if part.strip()]
    if not seed_ids:
        raise InvalidInput.at("--seeds", "name at least one initial adopter")
    result = threshold_cascade(graph, graph.index_of(seed_ids, location="--seeds"), q)
    rounds = [graph.sorted_ids(switched) for switched in result.rounds]
    adopters = graph.sorted_ids(result.adopters)
    cluster = result.blocking_cluster()
    blocking = None
    if cluster is not None:
        blocking = {
            "nodes": graph.sorted_ids(cluster.nodes),
            "density": float(cluster.density),
        }
    if as_json:
        emit_json(
            {
                "threshold": float(q),
                "rounds": rounds,
                "adopters": adopters,
                "complete": result.complete,
                "blocking_cluster": blocking,
            }
        )
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"Threshold cascade at q = {q} from {len(result.seeds)} initial adopters")
    table = Table()
    table.add_column("round", justify="right")
    table.add_column("switched", justify="right")
    table.add_column("nodes")
    table.add_row("0", str(len(result.seeds)), shown_ids(graph.sorted_ids(result.seeds)))
    for number, switched in enumerate(rounds, start=1):
        table.add_row(str(number), str(len(switched)), shown_ids(switched))
    console.print(table)
    console.print(
        f"adopters: {len(adopters)} of {graph.node_count}; "
        f"complete: {'yes' if result.complete else 'no'}"
    )
    if cluster is not None:
        console.print(
            f"blocking cluster: {cluster.nodes.size} nodes, density {cluster.density} "
            f"(> 1 - q = {1 - q})"
        )


def capacity(
    edges: EdgesOption,
    max_seeds: Annotated[int, typer.Option(help="Most initial adopters allowed.")] = 1,
    as_json: JsonOption = False,
) -> None:
    """Cascade capacity: the largest threshold at which a few seeds convert everyone.

    Morris (2000), Easley and Kleinberg 19.5: the largest q at which some set of at most
    MAX_SEEDS nodes converts the whole graph. Exact, by exhaustive search: small graphs only.
    """
    from iotbill.adoption.threshold import cascade_capacity

    graph = read_graph(edges)
    value = cascade_capacity(graph, max_seeds)
    if as_json:
        emit_json(
            {
                "max_seeds": max_seeds,
                "capacity": None if value is None else float(value),
                "capacity_fraction": None if value is None else str(value),
            }
        )
        return
    from rich.console import Console

    text = "none: no seed set of that size converts every node" if value is None else str(value)
    Console().print(f"cascade capacity with at most {max_seeds} seed(s): {text}")


def window(
    threshold: Annotated[str, typer.Option(help="Uniform threshold phi in [0, 1].")],
    as_json: JsonOption = False,
) -> None:
    """Cascade window: mean degrees at which global cascades are possible.

    Watts (2002), for a random graph with Poisson degrees and a uniform threshold PHI.
    A null high end with a low end means the window has no upper bound (phi = 0).
    """
    from iotbill.adoption.threshold import cascade_window

    phi = parse_fraction(threshold, "--threshold")
    if not 0 <= phi <= 1:
        raise InvalidInput.at("--threshold", f"must be in [0, 1], got {threshold}")
    result = cascade_window(phi)
    low = None if result is None else result.low
    high = None if result is None or math.isinf(result.high) else result.high
    if as_json:
        emit_json({"mean_degree_low": low, "mean_degree_high": high})
        return
    from rich.console import Console

    if low is None:
        Console().print(f"no cascade window at phi = {phi}: global cascades are impossible")
    else:
        upper = "unbounded" if high is None else f"{high:.4f}"
        Console().print(f"cascade window at phi = {phi}: mean degree from {low:.4f} to {upper}")
