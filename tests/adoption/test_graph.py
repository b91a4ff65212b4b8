"""The shared graph: constructors keep the adjacency symmetric and simple; edge lists parse."""

from __future__ import annotations

from collections.abc import Callable

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from iotbill.adoption.graph import Graph, parse_edge_list
from iotbill.domain.errors import InvalidInput


def neighbour_sets(graph: Graph) -> dict[str, set[str]]:
    return {
        graph.labels[i]: set(graph.ids_of(graph.indices[graph.indptr[i] : graph.indptr[i + 1]]))
        for i in range(graph.node_count)
    }


def test_from_edges_collapses_repeats_in_either_direction() -> None:
    graph = Graph.from_edges([("a", "b"), ("b", "a"), ("b", "c"), ("a", "b")])
    assert graph.labels == ("a", "b", "c")
    assert graph.edge_count == 2
    assert graph.degrees.tolist() == [1, 2, 1]
    assert neighbour_sets(graph) == {"a": {"b"}, "b": {"a", "c"}, "c": {"b"}}


def test_adjacency_is_symmetric_csr_with_int32_sorted_indices() -> None:
    rng = np.random.default_rng(7)
    sources, targets = rng.integers(0, 50, 300), rng.integers(0, 50, 300)
    keep = sources != targets
    graph = Graph.from_edge_arrays(50, sources[keep], targets[keep])
    adjacency = graph.adjacency
    assert graph.indices.dtype == np.int32 and graph.indptr.dtype == np.int32
    assert (adjacency != adjacency.T).nnz == 0
    assert adjacency.diagonal().sum() == 0
    assert set(adjacency.data.tolist()) == {1}
    assert adjacency.has_sorted_indices
    expected = {
        frozenset(e) for e in zip(sources[keep].tolist(), targets[keep].tolist(), strict=True)
    }
    assert graph.edge_count == len(expected)


def test_isolated_nodes_are_kept() -> None:
    graph = Graph.from_edges([("a", "b")], nodes=["z"])
    assert graph.labels == ("z", "a", "b")
    assert graph.degrees.tolist() == [0, 1, 1]


@pytest.mark.parametrize(
    "build",
    [
        lambda: Graph.from_edges([("a", "b"), ("c", "c")]),
        lambda: Graph.from_edge_arrays(3, [0, 2], [1, 2]),
        lambda: Graph.from_networkx(nx.Graph([(1, 2), (2, 2)])),
        lambda: Graph.from_sparse(sp.csr_array(np.array([[1, 1], [1, 0]]))),
    ],
)
def test_a_self_loop_is_invalid(build: Callable[[], Graph]) -> None:
    with pytest.raises(InvalidInput, match="self-loop"):
        build()


def test_empty_graph_is_invalid() -> None:
    with pytest.raises(InvalidInput, match="empty"):
        Graph.from_edges([])


def test_endpoint_out_of_range_is_invalid() -> None:
    with pytest.raises(InvalidInput, match="outside"):
        Graph.from_edge_arrays(3, [0], [3])


def test_from_networkx_uses_text_ids_and_rejects_directed_and_colliding() -> None:
    graph = Graph.from_networkx(nx.path_graph(4))
    assert graph.labels == ("0", "1", "2", "3")
    assert graph.degrees.tolist() == [1, 2, 2, 1]
    with pytest.raises(InvalidInput, match="undirected"):
        Graph.from_networkx(nx.DiGraph([(0, 1)]))
    with pytest.raises(InvalidInput, match="same id"):
        Graph.from_networkx(nx.Graph([(1, "1")]))


def test_from_sparse_reads_the_pattern_and_rejects_asymmetry() -> None:
    cycle = nx.to_scipy_sparse_array(nx.cycle_graph(5), weight=None) * 3.5
    graph = Graph.from_sparse(cycle, labels=list("abcde"))
    assert neighbour_sets(graph)["a"] == {"b", "e"}
    assert set(graph.adjacency.data.tolist()) == {1}
    with pytest.raises(InvalidInput, match="symmetric"):
        Graph.from_sparse(sp.csr_array(np.array([[0, 1], [0, 0]])))
    with pytest.raises(InvalidInput, match="square"):
        Graph.from_sparse(sp.csr_array(np.ones((2, 3))))


def test_index_of_names_every_unknown_id_at_the_location_given() -> None:
    graph = Graph.from_edges([("a", "b")])
    assert graph.index_of(["b", "a", "b"]).tolist() == [1, 0, 1]
    with pytest.raises(InvalidInput) as raised:
        graph.index_of(["x", "a", "y"], location="--seeds")
    assert str(raised.value) == "--seeds: unknown node id(s): x, y"


def test_parse_edge_list_accepts_comments_commas_blank_lines_and_repeats() -> None:
    text = "# customers\na b\n\nb,c   # referral\n  c , d\na\tb\nb a\n"
    graph = parse_edge_list(text)
    assert graph.labels == ("a", "b", "c", "d")
    assert graph.edge_count == 3


def test_parse_edge_list_reports_every_bad_line_with_file_and_line() -> None:
    text = "a b\na\nb b\nc d e\nx,,y\n"
    with pytest.raises(InvalidInput) as raised:
        parse_edge_list(text, source="net.txt")
    assert [p.location for p in raised.value.problems] == [
        "net.txt:2",
        "net.txt:3",
        "net.txt:4",
        "net.txt:5",
    ]
    assert "self-loop at node b" in raised.value.problems[1].message


@pytest.mark.parametrize("text", ["", "# only a comment\n\n"])
def test_parse_edge_list_without_edges_is_an_empty_graph(text: str) -> None:
    with pytest.raises(InvalidInput, match=r"net\.txt: the graph is empty"):
        parse_edge_list(text, source="net.txt")
