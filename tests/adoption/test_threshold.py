"""Threshold cascades, cascade capacity and the cascade window, on graphs written out by hand."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import networkx as nx
import numpy as np
import pytest

from iotbill.adoption.graph import Graph
from iotbill.adoption.threshold import (
    Cascade,
    cascade_capacity,
    cascade_window,
    threshold_cascade,
    threshold_from_payoffs,
)
from iotbill.domain.errors import InvalidInput

F = Fraction

#: Easley and Kleinberg, section 19.3: v and w adopt A; with a = 3, b = 2 (q = 2/5),
#: r and t see 2 of 3 neighbours on A and switch in round 1; s and u see 1 of 3, then
#: 2 of 3, and switch in round 2.
BOOK_EDGES = [
    ("v", "w"),
    ("v", "r"),
    ("w", "r"),
    ("v", "t"),
    ("w", "t"),
    ("r", "s"),
    ("t", "u"),
    ("s", "u"),
    ("v", "s"),
    ("w", "u"),
]

#: Seeds a and b pull c over; the clique d, e, f, g (d tied to c) holds: the cascade stops
#: at a cluster of density 3/4 > 1 - 2/5, as in Figure 19.4.
BLOCKED_EDGES = [
    ("a", "b"),
    ("a", "c"),
    ("b", "c"),
    ("c", "d"),
    *itertools.combinations("defg", 2),
]


def run(graph: Graph, seeds: list[str], threshold: Fraction | list[Fraction]) -> Cascade:
    return threshold_cascade(graph, graph.index_of(seeds), threshold)


def round_ids(graph: Graph, result: Cascade) -> list[list[str]]:
    return [sorted(graph.ids_of(r)) for r in result.rounds]


def reference_rounds(
    graph: nx.Graph, seeds: set[int], thresholds: dict[int, Fraction]
) -> list[set[int]]:
    """The definition, node by node, whole graph every round, in fractions."""
    adopted, rounds = set(seeds), list[set[int]]()
    while True:
        switching = {
            v
            for v in graph
            if v not in adopted
            and graph.degree(v) > 0
            and F(len(set(graph[v]) & adopted), graph.degree(v)) >= thresholds[v]
        }
        if not switching:
            return rounds
        adopted |= switching
        rounds.append(switching)


def test_book_six_node_example() -> None:
    graph = Graph.from_edges(BOOK_EDGES)
    result = run(graph, ["v", "w"], threshold_from_payoffs(3, 2))
    assert round_ids(graph, result) == [["r", "t"], ["s", "u"]]
    assert sorted(graph.ids_of(result.adopters)) == ["r", "s", "t", "u", "v", "w"]
    assert result.complete
    assert result.blocking_cluster() is None


def test_cascade_stops_at_a_dense_cluster() -> None:
    graph = Graph.from_edges(BLOCKED_EDGES)
    q = threshold_from_payoffs(3, 2)
    result = run(graph, ["a", "b"], q)
    assert round_ids(graph, result) == [["c"]]
    assert not result.complete
    cluster = result.blocking_cluster()
    assert cluster is not None
    assert sorted(graph.ids_of(cluster.nodes)) == ["d", "e", "f", "g"]
    assert cluster.density == F(3, 4)
    assert cluster.density > 1 - q


@pytest.mark.parametrize(
    ("degree", "adopting", "threshold", "switches"),
    [
        (10, 3, F("0.3"), True),
        (10, 3, F(3, 10) + F(1, 10**12), False),
        (3, 1, F(1, 3), True),
        (5, 2, threshold_from_payoffs(3, 2), True),
        (7, 3, F(3, 7), True),
        (7, 3, F(3, 7) + F(1, 10**15), False),
    ],
)
@pytest.mark.parametrize("padding", [0, 300], ids=["whole-array round", "neighbourhood round"])
def test_a_fraction_exactly_at_the_threshold_switches(
    degree: int, adopting: int, threshold: Fraction, switches: bool, padding: int
) -> None:
    """A far-away path of ``padding`` nodes makes the round small next to the graph."""
    far_path = [(f"far{i}", f"far{i + 1}") for i in range(padding)]
    graph = Graph.from_edges([("hub", f"leaf{i}") for i in range(degree)] + far_path)
    result = run(graph, [f"leaf{i}" for i in range(adopting)], threshold)
    assert bool(result.adopted[graph.index_of(["hub"])[0]]) is switches


def test_threshold_zero_converts_every_node_with_a_neighbour_in_round_one() -> None:
    graph = Graph.from_edges([("a", "b"), ("c", "d"), ("d", "e")], nodes=["lonely"])
    result = run(graph, ["a"], F(0))
    assert round_ids(graph, result) == [["b", "c", "d", "e"]]
    assert graph.ids_of(np.flatnonzero(~result.adopted)) == ["lonely"]


def test_threshold_one_needs_every_neighbour() -> None:
    graph = Graph.from_edges([("a", "x"), ("b", "x"), ("a", "y"), ("b", "y"), ("c", "y")])
    result = run(graph, ["a", "b"], F(1))
    assert round_ids(graph, result) == [["x"]]


def test_isolated_seed_stays_and_isolated_node_never_switches() -> None:
    graph = Graph.from_edges([("a", "b")], nodes=["solo seed", "solo"])
    result = run(graph, ["solo seed", "a"], F(0))
    assert sorted(graph.ids_of(result.adopters)) == ["a", "b", "solo seed"]
    cluster = result.blocking_cluster()
    assert cluster is not None and graph.ids_of(cluster.nodes) == ["solo"]
    assert cluster.density == 1


def test_per_node_thresholds() -> None:
    graph = Graph.from_edges([("a", "b"), ("b", "c"), ("c", "d")])
    thresholds = {"a": F(1), "b": F(1, 2), "c": F(1), "d": F(0)}
    result = run(graph, ["a"], [thresholds[label] for label in graph.labels])
    assert round_ids(graph, result) == [["b", "d"], ["c"]]
    assert result.complete


def test_invalid_thresholds_are_rejected() -> None:
    graph = Graph.from_edges(BOOK_EDGES)
    for bad in (F(-1, 10), F(11, 10)):
        with pytest.raises(InvalidInput, match=r"\[0, 1\]"):
            run(graph, ["v"], bad)
    with pytest.raises(InvalidInput, match="one per node"):
        run(graph, ["v"], [F(1, 2)] * 5)
    per_node = [F(1, 2)] * 6
    per_node[2] = F(3, 2)
    with pytest.raises(InvalidInput, match=rf"thresholds\[{graph.labels[2]}\]"):
        run(graph, ["v"], per_node)
    with pytest.raises(TypeError, match="Fraction"):
        threshold_cascade(graph, [0], 0.4)  # type: ignore[arg-type]
    for a, b in ((0, 0), (-1, 2), (3, -2)):
        with pytest.raises(InvalidInput, match="payoffs"):
            threshold_from_payoffs(a, b)


def test_seed_indices_out_of_range_are_rejected() -> None:
    with pytest.raises(InvalidInput, match="seeds"):
        threshold_cascade(Graph.from_edges(BOOK_EDGES), [6], F(1, 2))


@pytest.mark.parametrize("case", range(40))
def test_frontier_cascade_matches_the_definition_on_random_graphs(case: int) -> None:
    rng = np.random.default_rng(case)
    n = int(rng.choice([12, 40, 400]))
    network = nx.gnp_random_graph(n, float(rng.uniform(1.5, 6)) / n, seed=case)
    choices = [F(0), F(1, 5), F(1, 4), F(1, 3), F(2, 5), F(1, 2), F(2, 3), F(1)]
    if case % 2:
        thresholds = {v: choices[int(rng.integers(len(choices)))] for v in network}
    else:
        thresholds = dict.fromkeys(network, choices[1 + int(rng.integers(len(choices) - 2))])
    seeds = {int(s) for s in rng.choice(n, size=int(rng.integers(1, 4)), replace=False)}
    graph = Graph.from_networkx(network)
    per_node = [thresholds[int(label)] for label in graph.labels]
    result = threshold_cascade(graph, graph.index_of([str(s) for s in seeds]), per_node)
    expected = reference_rounds(network, seeds, thresholds)
    assert [{int(i) for i in graph.ids_of(r)} for r in result.rounds] == expected
    adopted = seeds.union(*expected)
    assert {int(i) for i in graph.ids_of(result.adopters)} == adopted
    cluster = result.blocking_cluster()
    assert (cluster is None) == (len(adopted) == n)
    if cluster is not None:
        members = set(network) - adopted
        with_neighbours = [v for v in members if network.degree(v)]
        density = min(
            (F(len(set(network[v]) & members), network.degree(v)) for v in with_neighbours),
            default=F(1),
        )
        assert cluster.density == density
        if case % 2 == 0:
            assert cluster.density > 1 - thresholds[0]


def test_capacity_of_hand_made_graphs() -> None:
    path = Graph.from_edges([("a", "b"), ("b", "c"), ("c", "d"), ("d", "e")])
    clique = Graph.from_networkx(nx.complete_graph(5))
    star = Graph.from_networkx(nx.star_graph(6))
    assert cascade_capacity(path, 1) == F(1, 2)
    assert cascade_capacity(clique, 1) == F(1, 4)
    assert cascade_capacity(clique, 2) == F(1, 2)
    assert cascade_capacity(clique, 5) == 1
    assert cascade_capacity(star, 1) == 1
    assert cascade_capacity(Graph.from_edges(BOOK_EDGES), 2) == F(2, 3)


def test_capacity_matches_an_exhaustive_search_over_every_threshold() -> None:
    for case in range(6):
        network = nx.gnp_random_graph(8, 0.4, seed=case)
        graph = Graph.from_networkx(network)
        degrees = {int(d) for d in graph.degrees if d}
        thresholds = sorted({F(j, d) for d in degrees for j in range(d + 1)} | {F(0)})
        for size in (1, 2):
            best = None
            for q, seeds in itertools.product(thresholds, itertools.combinations(range(8), size)):
                if threshold_cascade(graph, seeds, q).complete:
                    best = q if best is None else max(best, q)
            assert cascade_capacity(graph, size) == best


def test_capacity_is_none_when_isolated_nodes_outnumber_the_seeds() -> None:
    graph = Graph.from_edges([("a", "b")], nodes=["x", "y"])
    assert cascade_capacity(graph, 1) is None
    assert cascade_capacity(graph, 2) == 0
    assert cascade_capacity(graph, 3) == 1


def test_capacity_refuses_searches_too_large_to_be_exact() -> None:
    with pytest.raises(InvalidInput, match="seed sets"):
        cascade_capacity(Graph.from_networkx(nx.cycle_graph(200)), 3)
    with pytest.raises(InvalidInput, match="max_seeds"):
        cascade_capacity(Graph.from_edges(BOOK_EDGES), 0)


def vulnerable_excess(z: float, phi: Fraction) -> float:
    """Watts's condition written out: sum_k k(k-1) p_k rho_k - z for Poisson(z) degrees."""
    top = math.floor(1 / phi)
    return (
        sum(
            k * (k - 1) * math.exp(-z + k * math.log(z) - math.lgamma(k + 1))
            for k in range(2, top + 1)
        )
        - z
    )


@pytest.mark.parametrize("phi", [F(1, 4), F(1, 5), F(18, 100), F(1, 10), F(1, 40)])
def test_cascade_window_edges_satisfy_watts_condition(phi: Fraction) -> None:
    window = cascade_window(phi)
    assert window is not None
    assert 1 <= window.low < window.high
    for z in (window.low, window.high):
        assert abs(vulnerable_excess(z, phi)) < 1e-9 * z
    assert vulnerable_excess((window.low + window.high) / 2, phi) > 0
    assert vulnerable_excess(window.low * 0.99, phi) < 0
    assert vulnerable_excess(window.high * 1.01, phi) < 0


def test_cascade_window_narrows_as_the_threshold_rises_and_closes_above_one_quarter() -> None:
    wide, narrow = cascade_window(F(1, 10)), cascade_window(F(1, 5))
    assert wide is not None and narrow is not None
    assert wide.low < narrow.low and narrow.high < wide.high
    for phi in (F(1, 4) + F(1, 10**9), F(1, 3), F(1, 2), F(1)):
        assert cascade_window(phi) is None
    unbounded = cascade_window(F(0))
    assert unbounded is not None and unbounded.low == 1 and math.isinf(unbounded.high)
    with pytest.raises(InvalidInput):
        cascade_window(F(-1, 2))
