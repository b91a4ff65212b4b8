"""Watts–Strogatz graphs, clustering and path length: exact on small graphs, analytic limits."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iotbill.adoption.graph import Graph
from iotbill.adoption.smallworld import (
    average_path_length,
    clustering_coefficient,
    ring_lattice,
    ring_lattice_clustering,
    ring_lattice_path_length,
    watts_strogatz,
)
from iotbill.domain.errors import InvalidInput


def edge_set(graph: Graph) -> set[tuple[int, int]]:
    upper = graph.adjacency.tocoo()
    return {(int(u), int(v)) for u, v in zip(upper.row, upper.col, strict=True) if u < v}


# --- structure of the generator ------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    half=st.integers(1, 4),
    extra=st.integers(1, 30),
    rewire=st.sampled_from([0.0, 0.1, 0.5, 1.0]),
    seed=st.integers(0, 2**32 - 1),
)
def test_rewiring_keeps_a_simple_graph_with_every_edge(
    half: int, extra: int, rewire: float, seed: int
) -> None:
    degree = 2 * half
    nodes = degree + extra
    graph = watts_strogatz(nodes, degree, rewire, np.random.default_rng(seed))
    adjacency = graph.adjacency
    assert adjacency.diagonal().sum() == 0  # no self-loop
    assert (adjacency != adjacency.T).nnz == 0  # undirected
    assert adjacency.data.max() == 1  # duplicates would have merged into a lower edge count
    assert graph.edge_count == nodes * degree // 2
    assert int(graph.degrees.sum()) == nodes * degree
    # a rewired edge keeps its start, so every node still has its k/2 own edges
    assert int(graph.degrees.min()) >= half


def test_without_rewiring_the_graph_is_the_ring_lattice() -> None:
    graph = watts_strogatz(12, 4, 0.0, np.random.default_rng(0))
    expected = {tuple(sorted((i, (i + j) % 12))) for i in range(12) for j in (1, 2)}
    assert edge_set(graph) == expected
    assert edge_set(ring_lattice(12, 4)) == expected


def test_rewiring_everything_leaves_almost_no_ring_edge() -> None:
    ring = edge_set(ring_lattice(200, 4))
    graph = watts_strogatz(200, 4, 1.0, np.random.default_rng(3))
    # only a new end that happens to land on a free ring pair (about 1.5% of draws) is left
    assert len(edge_set(graph) & ring) < 20


def test_a_complete_ring_cannot_rewire_and_stays_complete() -> None:
    graph = watts_strogatz(7, 6, 1.0, np.random.default_rng(0))
    assert graph.edge_count == 21
    assert int(graph.degrees.min()) == 6


def test_the_same_seed_gives_the_same_graph_and_another_seed_another() -> None:
    first = watts_strogatz(500, 6, 0.2, np.random.default_rng(42))
    again = watts_strogatz(500, 6, 0.2, np.random.default_rng(42))
    other = watts_strogatz(500, 6, 0.2, np.random.default_rng(43))
    assert edge_set(first) == edge_set(again)
    assert edge_set(first) != edge_set(other)


def test_the_rewired_fraction_is_about_p() -> None:
    ring = edge_set(ring_lattice(5000, 10))
    graph = watts_strogatz(5000, 10, 0.3, np.random.default_rng(8))
    moved = 1 - len(edge_set(graph) & ring) / len(ring)
    assert moved == pytest.approx(0.3, abs=0.01)  # sd of the fraction is about 0.003


@pytest.mark.parametrize(
    ("nodes", "degree", "rewire", "flag"),
    [
        (10, 3, 0.1, "degree"),
        (10, 0, 0.1, "degree"),
        (10, 10, 0.1, "nodes"),
        (10, 12, 0.1, "nodes"),
        (10, 4, -0.1, "rewire"),
        (10, 4, 1.5, "rewire"),
        (10, 4, math.nan, "rewire"),
    ],
)
def test_bad_parameters_are_invalid_input_naming_the_parameter(
    nodes: int, degree: int, rewire: float, flag: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        watts_strogatz(nodes, degree, rewire, np.random.default_rng(0))
    assert raised.value.problems[0].location == flag


# --- the two measures, exactly on small graphs ---------------------------------------------


@pytest.mark.parametrize(
    ("edges", "clustering"),
    [
        ([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")], (1 + 1 + 1 / 3 + 0) / 4),
        ([("a", "b"), ("b", "c"), ("c", "d"), ("d", "a"), ("a", "c")], (2 / 3 + 1 + 2 / 3 + 1) / 4),
        ([("hub", leaf) for leaf in "wxyz"], 0.0),
        ([(u, v) for u in "abcd" for v in "abcd" if u < v], 1.0),
        ([("a", "b"), ("c", "d")], 0.0),
    ],
    ids=["triangle-with-tail", "diamond", "star", "complete", "two-edges"],
)
def test_clustering_on_hand_written_graphs(edges: list[tuple[str, str]], clustering: float) -> None:
    assert clustering_coefficient(Graph.from_edges(edges)) == pytest.approx(clustering, abs=1e-12)


@pytest.mark.parametrize(
    ("edges", "nodes", "length"),
    [
        ([("a", "b"), ("b", "c"), ("c", "d")], (), (3 * 1 + 2 * 2 + 1 * 3) * 2 / 12),
        ([("a", "b"), ("b", "c"), ("c", "d"), ("d", "e"), ("e", "a")], (), 1.5),
        ([("a", "b"), ("b", "c"), ("x", "y")], ("lonely",), (1 + 2 + 1 + 1) * 2 / 8),
    ],
    ids=["path", "five-cycle", "two-components-and-an-isolated-node"],
)
def test_path_length_on_hand_written_graphs(
    edges: list[tuple[str, str]], nodes: tuple[str, ...], length: float
) -> None:
    assert average_path_length(Graph.from_edges(edges, nodes)) == pytest.approx(length)


def test_path_length_needs_a_connected_pair() -> None:
    with pytest.raises(InvalidInput, match="no two nodes are connected"):
        average_path_length(Graph.from_edges([], ["a", "b"]))


@settings(max_examples=40, deadline=None)
@given(
    nodes=st.integers(2, 25),
    density=st.floats(0.05, 0.6),
    seed=st.integers(0, 2**32 - 1),
)
def test_both_measures_match_networkx_on_random_graphs(
    nodes: int, density: float, seed: int
) -> None:
    reference = nx.gnp_random_graph(nodes, density, seed=seed)
    graph = Graph.from_networkx(reference)
    assert clustering_coefficient(graph) == pytest.approx(nx.average_clustering(reference))
    distances = [
        d
        for source, row in nx.all_pairs_shortest_path_length(reference)
        for target, d in row.items()
        if target != source
    ]
    if distances:
        assert average_path_length(graph) == pytest.approx(sum(distances) / len(distances))


def test_sampled_path_length_is_reproducible_and_close_to_exact() -> None:
    graph = watts_strogatz(1500, 6, 0.1, np.random.default_rng(5))
    exact = average_path_length(graph)
    sampled = average_path_length(graph, 150, np.random.default_rng(9))
    assert sampled == average_path_length(graph, 150, np.random.default_rng(9))
    assert sampled != average_path_length(graph, 150, np.random.default_rng(10))
    assert sampled == pytest.approx(exact, rel=0.03)
    assert average_path_length(graph, 1500, np.random.default_rng(1)) == exact


def test_sampling_needs_a_positive_count_and_an_rng() -> None:
    graph = ring_lattice(20, 4)
    with pytest.raises(InvalidInput) as raised:
        average_path_length(graph, 0, np.random.default_rng(0))
    assert raised.value.problems[0].location == "samples"
    with pytest.raises(ValueError, match="rng"):
        average_path_length(graph, 5)


# --- the unrewired ring, exactly -----------------------------------------------------------


@pytest.mark.parametrize("degree", [2, 4, 6, 10])
def test_ring_lattice_values_match_counting_at_every_size(degree: int) -> None:
    for nodes in range(degree + 1, 3 * degree + 3):
        reference = nx.watts_strogatz_graph(nodes, degree, 0.0)
        assert ring_lattice_clustering(nodes, degree) == pytest.approx(
            nx.average_clustering(reference)
        )
        assert ring_lattice_path_length(nodes, degree) == pytest.approx(
            nx.average_shortest_path_length(reference)
        )


# --- Watts and Strogatz's analytic values at p = 0 and p = 1 -------------------------------


@pytest.mark.parametrize(("nodes", "degree"), [(2000, 10), (3000, 6)])
def test_at_p_zero_clustering_and_path_length_are_the_lattice_formulas(
    nodes: int, degree: int
) -> None:
    graph = watts_strogatz(nodes, degree, 0.0, np.random.default_rng(0))
    assert clustering_coefficient(graph) == pytest.approx(3 * (degree - 2) / (4 * (degree - 1)))
    path = average_path_length(graph, 40, np.random.default_rng(1))  # a ring: every node alike
    assert path == pytest.approx(ring_lattice_path_length(nodes, degree))
    assert path == pytest.approx(nodes / (2 * degree), rel=0.02)


def test_at_p_one_the_measures_approach_the_random_graph_limits() -> None:
    nodes, degree = 2000, 10
    graphs = [watts_strogatz(nodes, degree, 1.0, np.random.default_rng(s)) for s in range(5)]
    clustering = np.mean([clustering_coefficient(g) for g in graphs])
    path = np.mean([average_path_length(g, 100, np.random.default_rng(7)) for g in graphs])
    # C ≈ K / n (about 0.9 K / n here: every node keeps K / 2 edges, so degrees vary less)
    assert 0.75 < clustering / (degree / nodes) < 1.25
    # L ≈ ln n / ln K (the measured mean is 8% above it at this size)
    assert path == pytest.approx(math.log(nodes) / math.log(degree), rel=0.15)
    # and far from the lattice: the small-world collapse of distances
    assert path < ring_lattice_path_length(nodes, degree) / 10


def test_a_little_rewiring_keeps_clustering_and_collapses_distances() -> None:
    nodes, degree = 2000, 10
    graph = watts_strogatz(nodes, degree, 0.02, np.random.default_rng(4))
    clustering_ratio = clustering_coefficient(graph) / ring_lattice_clustering(nodes, degree)
    path_ratio = average_path_length(graph, 100, np.random.default_rng(1)) / (
        ring_lattice_path_length(nodes, degree)
    )
    assert clustering_ratio > 0.85  # about (1 - p)^3 = 0.94
    assert path_ratio < 0.25
