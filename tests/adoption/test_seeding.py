"""Seed selection: the live-edge estimator, greedy and CELF, heuristics and the report."""

from __future__ import annotations

import itertools
from fractions import Fraction

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iotbill.adoption.graph import Graph
from iotbill.adoption.seeding import (
    FixedThresholdSpread,
    LinearThresholdSpread,
    LiveEdgeSamples,
    Method,
    compare_seedings,
    degree_discount_seeds,
    greedy_seeds,
    highest_degree_seeds,
    id_rank,
    lazy_greedy_seeds,
    live_edge_samples,
)
from iotbill.adoption.smallworld import watts_strogatz
from iotbill.adoption.threshold import cascade_with_requirements
from iotbill.domain.errors import InvalidInput

TRIANGLE_WITH_TAIL = Graph.from_edges([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "e")])


def ids(graph: Graph, seeds: tuple[int, ...]) -> list[str]:
    return graph.ids_of(seeds)


# --- the estimator is the linear threshold model ---------------------------------------------


def test_live_edges_give_exactly_the_spread_of_uniform_random_thresholds() -> None:
    """Kempe, Kleinberg and Tardos, Claim 2.6, checked by enumerating both models.

    With weights 1/deg and a uniform threshold, node v adopts once ceil(θ · deg) of its
    neighbours have: a requirement uniform on 1..deg. Every combination of requirements
    and every choice of whom each node listens to are equally likely, 2·2·3·2·1 = 24 each.
    """
    graph = TRIANGLE_WITH_TAIL
    neighbours = [graph.indices[graph.indptr[v] : graph.indptr[v + 1]] for v in range(5)]
    every_listening = np.array(list(itertools.product(*neighbours)))
    every_requirement = list(itertools.product(*(range(1, len(n) + 1) for n in neighbours)))
    assert len(every_listening) == len(every_requirement) == 24
    samples = LiveEdgeSamples.from_parents(every_listening)
    for size in (1, 2):
        for seeds in itertools.combinations(range(5), size):
            spread = LinearThresholdSpread(samples)
            for node in seeds:
                spread.add(node)
            by_thresholds = sum(
                int(cascade_with_requirements(graph, seeds, np.array(r)).adopted.sum())
                for r in every_requirement
            )
            assert spread.adopters().sum() == by_thresholds, seeds


def test_gain_leaves_the_state_alone_and_add_counts_once() -> None:
    samples = live_edge_samples(TRIANGLE_WITH_TAIL, 50, np.random.default_rng(0))
    spread = LinearThresholdSpread(samples)
    first = spread.gain(2)
    assert spread.gain(2) == first and spread.adopters().sum() == 0
    spread.add(2)
    assert spread.adopters().sum() == first
    assert spread.adopters().size == 50 and spread.adopters().min() >= 1  # the seed, each time
    assert spread.gain(2) == 0  # a seed adds nothing twice


def test_isolated_nodes_listen_to_nobody_and_convert_only_themselves() -> None:
    graph = Graph.from_edges([("a", "b")], nodes=["alone"])
    spread = LinearThresholdSpread(live_edge_samples(graph, 10, np.random.default_rng(1)))
    assert spread.gain(0) == 10  # "alone": index 0
    assert spread.gain(1) == 20  # "a" converts "b", who listens to "a" in every sample


# --- greedy, lazily or not ---------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    nodes=st.integers(5, 40),
    density=st.floats(0.05, 0.4),
    budget=st.integers(1, 5),
    seed=st.integers(0, 2**32 - 1),
)
def test_celf_picks_the_same_seeds_as_plain_greedy(
    nodes: int, density: float, budget: int, seed: int
) -> None:
    graph = Graph.from_networkx(nx.gnp_random_graph(nodes, density, seed=seed))
    samples = live_edge_samples(graph, 30, np.random.default_rng(seed))
    rank = id_rank(graph)
    plain = greedy_seeds(LinearThresholdSpread(samples), budget, rank)
    lazy = lazy_greedy_seeds(LinearThresholdSpread(samples), budget, rank)
    assert lazy == plain


def test_ties_go_to_the_lowest_id_whatever_the_node_order() -> None:
    # a cycle: every node alike; indices run f, e, d, c, b, a, so "a" is index 5
    cycle = Graph.from_edges(
        [("f", "e"), ("e", "d"), ("d", "c"), ("c", "b"), ("b", "a"), ("a", "f")]
    )
    rank = id_rank(cycle)
    samples = LiveEdgeSamples.from_parents(np.full((1, 6), -1))  # nobody listens: all gains 1
    assert ids(cycle, greedy_seeds(LinearThresholdSpread(samples), 2, rank)) == ["a", "b"]
    assert ids(cycle, lazy_greedy_seeds(LinearThresholdSpread(samples), 2, rank)) == ["a", "b"]
    # at q = 1/2 any one seed converts the whole cycle, after which every gain is 0
    fixed = FixedThresholdSpread(cycle, Fraction(1, 2))
    assert ids(cycle, greedy_seeds(fixed, 2, rank)) == ["a", "b"]
    assert ids(cycle, highest_degree_seeds(cycle, 2)) == ["a", "b"]


def test_greedy_under_a_fixed_threshold_finds_the_hub_then_the_other_component() -> None:
    # star z - a, b, c, d and a separate triangle w, x, y; q = 1/2
    graph = Graph.from_edges(
        [("z", "a"), ("z", "b"), ("z", "c"), ("z", "d"), ("w", "x"), ("x", "y"), ("y", "w")]
    )
    spread = FixedThresholdSpread(graph, Fraction(1, 2))
    seeds = greedy_seeds(spread, 2, id_rank(graph))
    # the hub converts every leaf (5 adopters), a leaf only itself; then any triangle node
    # converts the triangle, and "w" is the lowest id of the three
    assert ids(graph, seeds) == ["z", "w"]
    assert spread.adopters().tolist() == [8]


def test_greedy_on_the_linear_threshold_model_beats_random_seeds() -> None:
    graph = watts_strogatz(400, 4, 0.05, np.random.default_rng(2))
    report = compare_seedings(
        graph, 6, None, [Method.GREEDY], runs=200, draws=20, rng=np.random.default_rng(3)
    )
    (greedy,) = report.choices
    assert greedy.spread >= report.random.mean
    assert greedy.spread > report.random.highest  # and clearly: above every random draw
    assert 0 < greedy.standard_error < 1  # 200 samples of a spread around 25


def test_budget_must_fit_the_graph() -> None:
    rank = id_rank(TRIANGLE_WITH_TAIL)
    samples = live_edge_samples(TRIANGLE_WITH_TAIL, 5, np.random.default_rng(0))
    for budget in (0, 6):
        with pytest.raises(InvalidInput) as raised:
            lazy_greedy_seeds(LinearThresholdSpread(samples), budget, rank)
        assert raised.value.problems[0].location == "budget"
        with pytest.raises(InvalidInput):
            highest_degree_seeds(TRIANGLE_WITH_TAIL, budget)


# --- the cheap heuristics ----------------------------------------------------------------


def test_degree_discount_avoids_a_hub_next_to_a_seed() -> None:
    # hubs "a" and "b" are adjacent, with 3 leaves each; hub "c" has 4 leaves: all degree 4
    edges = [("a", "b")]
    edges += [
        (hub, f"{hub}{i}") for hub, count in (("a", 3), ("b", 3), ("c", 4)) for i in range(count)
    ]
    graph = Graph.from_edges(edges)
    assert ids(graph, highest_degree_seeds(graph, 2)) == ["a", "b"]
    # after "a", "b" counts one neighbour fewer (3) and "c" (4) comes first
    assert ids(graph, degree_discount_seeds(graph, 2)) == ["a", "c"]


# --- the report --------------------------------------------------------------------------


def test_the_report_is_reproducible_from_the_seed() -> None:
    graph = watts_strogatz(120, 4, 0.1, np.random.default_rng(5))

    def report(seed: int) -> object:
        return compare_seedings(graph, 3, None, list(Method), 40, 5, np.random.default_rng(seed))

    assert report(9) == report(9)
    assert report(9) != report(10)


def test_the_report_under_a_fixed_threshold_is_exact() -> None:
    graph = Graph.from_edges([("z", "a"), ("z", "b"), ("z", "c"), ("a", "b")])
    report = compare_seedings(
        graph, 1, Fraction(1, 2), [Method.DEGREE, Method.GREEDY], 10, 4, np.random.default_rng(0)
    )
    assert report.runs is None and report.threshold == Fraction(1, 2)
    # z, a and b each convert all four (a: b has 1/2, then z 2/3, then c); c only itself.
    # Degree picks the hub z; greedy ties z, a and b at 4 and takes the lowest id, a.
    assert [
        (c.method, ids(graph, c.seeds), c.spread, c.standard_error) for c in report.choices
    ] == [
        (Method.DEGREE, ["z"], 4.0, 0.0),
        (Method.GREEDY, ["a"], 4.0, 0.0),
    ]
    assert report.random.lowest >= 1 and report.random.highest <= 4
    assert report.random.draws == 4


@pytest.mark.parametrize(("runs", "draws", "flag"), [(0, 5, "runs"), (10, 0, "draws")])
def test_report_parameters_are_checked(runs: int, draws: int, flag: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        compare_seedings(
            TRIANGLE_WITH_TAIL, 2, None, [Method.DEGREE], runs, draws, np.random.default_rng(0)
        )
    assert raised.value.problems[0].location == flag
