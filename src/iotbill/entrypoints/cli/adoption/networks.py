"""``iotbill adoption small-world | search | seeds``: the shape of the customer network.

``small-world`` measures a Watts–Strogatz graph against its unrewired ring,
``search`` times greedy routing on Kleinberg's lattice, and ``seeds`` picks whom to
convert first and compares the picks with random seeds. Every random result is
reproducible from ``--seed``. With ``--json`` each command prints one JSON object
(see docs/adoption.md); without it, readable tables. Bad input exits 2 with a
message naming the flag. (``forecast``, which prices adopters with a plan, is in
:mod:`iotbill.entrypoints.cli.adoption.forecast`.)
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from iotbill.domain.errors import InvalidInput
from iotbill.entrypoints.cli.adoption import app
from iotbill.entrypoints.cli.adoption.options import (
    EdgesOption,
    JsonOption,
    SeedOption,
    emit_json,
    named_as_flags,
    parse_fraction,
    read_graph,
    shown_ids,
)
from iotbill.entrypoints.cli.errors import report_errors

#: Parameters of the adoption core that these commands take as flags of the same name.
_FLAGS = {
    name: f"--{name}"
    for name in (
        "nodes", "degree", "rewire", "samples", "side", "exponent", "pairs", "budget", "runs",
        "draws",
    )
}  # fmt: skip


@app.command("small-world")
@report_errors
def small_world(
    nodes: Annotated[int, typer.Option(help="Number of nodes N on the ring.")],
    degree: Annotated[int, typer.Option(help="Neighbours K of each node on the ring: even, < N.")],
    rewire: Annotated[float, typer.Option(help="Probability P in [0, 1] that an edge is rewired.")],
    seed: SeedOption,
    samples: Annotated[
        int,
        typer.Option(help="Breadth-first searches sampled for the path length (exact if >= N)."),
    ] = 100,
    as_json: JsonOption = False,
) -> None:
    """Watts–Strogatz small world: clustering and path length against the plain ring.

    Watts and Strogatz (1998), Easley and Kleinberg ch. 20. The ratios divide by the
    exact values of the same ring with no rewiring, C(0) and L(0); the clustering ratio
    is null when C(0) is 0 (K = 2).
    """
    import numpy as np

    from iotbill.adoption.smallworld import (
        average_path_length,
        clustering_coefficient,
        ring_lattice_clustering,
        ring_lattice_path_length,
        watts_strogatz,
    )

    rng = np.random.default_rng(seed)
    with named_as_flags(_FLAGS):
        graph = watts_strogatz(nodes, degree, rewire, rng)
        path_length = average_path_length(graph, samples, rng)
    clustering = clustering_coefficient(graph)
    lattice_clustering = ring_lattice_clustering(nodes, degree)
    lattice_path_length = ring_lattice_path_length(nodes, degree)
    payload: dict[str, float | None] = {
        "clustering": clustering,
        "path_length": path_length,
        "clustering_ratio": clustering / lattice_clustering if lattice_clustering else None,
        "path_length_ratio": path_length / lattice_path_length,
    }
    if as_json:
        emit_json(payload)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("measure")
    for column in (f"p = {rewire}", "p = 0", "ratio"):
        table.add_column(column, justify="right")
    ratio = payload["clustering_ratio"]
    table.add_row(
        "clustering C",
        f"{clustering:.4f}",
        f"{lattice_clustering:.4f}",
        "—" if ratio is None else f"{ratio:.4f}",
    )
    table.add_row(
        "path length L",
        f"{path_length:.3f}",
        f"{lattice_path_length:.3f}",
        f"{path_length / lattice_path_length:.4f}",
    )
    exact = "exact" if samples >= nodes else f"from {samples} sampled sources"
    Console().print(f"Watts–Strogatz, N = {nodes}, K = {degree} (path length {exact})")
    Console().print(table)


@app.command("search")
@report_errors
def search(
    side: Annotated[int, typer.Option(help="Grid side N: the lattice has N x N nodes.")],
    exponent: Annotated[float, typer.Option(help="r >= 0: contacts at distance d ∝ d^-r.")],
    pairs: Annotated[int, typer.Option(help="Uniform (source, target) pairs to route.")],
    seed: SeedOption,
    as_json: JsonOption = False,
) -> None:
    """Greedy decentralised search on Kleinberg's lattice: mean delivery time in hops.

    Kleinberg (2000), Easley and Kleinberg 20.4: fast (about log² n) only at r = 2.
    """
    import numpy as np

    from iotbill.adoption.navigation import kleinberg_lattice, mean_delivery_time

    rng = np.random.default_rng(seed)
    with named_as_flags(_FLAGS):
        lattice = kleinberg_lattice(side, exponent, rng)
        mean_steps = mean_delivery_time(lattice, pairs, rng)
    if as_json:
        emit_json({"mean_steps": mean_steps})
        return
    from rich.console import Console

    Console().print(
        f"Kleinberg lattice {side} x {side}, r = {exponent}: greedy search takes "
        f"{mean_steps:.2f} hops on average over {pairs} pairs"
    )


@app.command("seeds")
@report_errors
def seeds(
    edges: EdgesOption,
    budget: Annotated[int, typer.Option(help="Number K of initial adopters to choose.")],
    seed: SeedOption,
    threshold: Annotated[
        str | None,
        typer.Option(help="One fixed threshold q for everybody (e.g. 0.4 or 2/5)."),
    ] = None,
    random_thresholds: Annotated[
        bool,
        typer.Option(
            "--random-thresholds",
            help="Linear threshold model: uniform random thresholds, weights 1/degree.",
        ),
    ] = False,
    method: Annotated[
        str, typer.Option(help="greedy, degree, degree-discount, or a comma list, or all.")
    ] = "all",
    runs: Annotated[
        int, typer.Option(help="Monte Carlo samples of the random-threshold model.")
    ] = 200,
    draws: Annotated[int, typer.Option(help="Random seed sets to compare against.")] = 20,
    as_json: JsonOption = False,
) -> None:
    """Whom to convert first: seed sets that maximise expected adoption, against random.

    With --random-thresholds, the linear threshold model of Kempe, Kleinberg and Tardos
    (2003): greedy with lazy evaluation on RUNS shared samples, every spread measured on
    RUNS fresh ones. With --threshold, the deterministic cascade of Easley and Kleinberg
    ch. 19 with greedy as a heuristic. Seeds are listed in the order picked.
    """
    import numpy as np

    from iotbill.adoption.seeding import Method, compare_seedings

    if (threshold is None) == (not random_thresholds):
        raise InvalidInput.at("--threshold", "give either --threshold Q or --random-thresholds")
    q = None
    if threshold is not None:
        q = parse_fraction(threshold, "--threshold")
        if not 0 <= q <= 1:
            raise InvalidInput.at("--threshold", f"must be in [0, 1], got {threshold}")
    known = [m.value for m in Method]
    wanted = known if method == "all" else [part.strip() for part in method.split(",")]
    unknown = [m for m in wanted if m not in known]
    if unknown or not wanted:
        raise InvalidInput.at(
            "--method", f"expected all or some of {', '.join(known)}, got {method!r}"
        )
    graph = read_graph(edges)
    with named_as_flags(_FLAGS):
        report = compare_seedings(
            graph, budget, q, [Method(m) for m in wanted], runs, draws, np.random.default_rng(seed)
        )
    random = report.random
    choices: list[dict[str, Any]] = [
        {
            "method": choice.method.value,
            "seeds": graph.ids_of(choice.seeds),
            "spread": choice.spread,
            "standard_error": choice.standard_error,
            "versus_random": choice.spread / random.mean if random.mean else None,
        }
        for choice in report.choices
    ]
    if as_json:
        emit_json(
            {
                "model": "fixed-threshold" if q is not None else "linear-threshold",
                "threshold": None if q is None else float(q),
                "budget": budget,
                "runs": report.runs,
                "methods": choices,
                "random": {
                    "draws": random.draws,
                    "mean": random.mean,
                    "deviation": random.deviation,
                    "lowest": random.lowest,
                    "highest": random.highest,
                },
            }
        )
        return
    model = (
        f"fixed threshold q = {q}"
        if q is not None
        else f"linear threshold model, {report.runs} samples"
    )
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"{budget} seeds among {graph.node_count} nodes, {model}")
    table = Table("method")
    table.add_column("expected adopters", justify="right")
    table.add_column("× random", justify="right")
    table.add_column("seeds (in order picked)")
    for choice in choices:
        versus = choice["versus_random"]
        table.add_row(
            choice["method"],
            f"{choice['spread']:.2f} ± {choice['standard_error']:.2f}"
            if choice["standard_error"]
            else f"{choice['spread']:.2f}",
            "—" if versus is None else f"{versus:.2f}",
            shown_ids(choice["seeds"]),
        )
    table.add_row(
        f"random ({random.draws} draws)",
        f"{random.mean:.2f} ± {random.deviation:.2f}",
        "1.00" if random.mean else "—",
        f"from {random.lowest:.2f} to {random.highest:.2f}",
    )
    console.print(table)
    console.print(
        "± after a method: standard error over the samples; after random: the standard "
        "deviation over the random seed sets."
        if q is None
        else "± after random: the standard deviation over the random seed sets."
    )
