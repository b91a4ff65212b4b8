"""Cross-check against NDlib's ThresholdModel: same graph, same seeds, same adopters.

NDlib (``ndlib.models.epidemics.ThresholdModel``) updates synchronously: every
susceptible node with neighbours compares ``float(infected) / degree >= threshold``
against the previous iteration's statuses, and nobody recovers. That is the book's
rule; the only difference is NDlib's floats. A float quotient of integers and the
float of an exact fraction are both correctly rounded, so an exact tie ``k/d == q``
compares equal on both sides, and with small degrees no ratio comes within a rounding
error of a threshold it does not equal. So the nodes switching in each round, and
the final sets, must agree exactly.
"""

from __future__ import annotations

from fractions import Fraction

import ndlib.models.epidemics as epidemics
import ndlib.models.ModelConfig as model_config
import networkx as nx
import numpy as np
import pytest

from iotbill.adoption.graph import Graph
from iotbill.adoption.threshold import threshold_cascade


def ndlib_rounds(
    network: nx.Graph, seeds: list[int], thresholds: dict[int, float]
) -> list[set[int]]:
    """The nodes that NDlib infects in each iteration, iterated until nothing changes."""
    model = epidemics.ThresholdModel(network, seed=0)
    config = model_config.Configuration()
    config.add_model_initial_configuration("Infected", seeds)
    for node, threshold in thresholds.items():
        config.add_node_configuration("threshold", node, threshold)
    model.set_initial_status(config)
    model.iteration()
    rounds = []
    while changed := model.iteration()["status"]:
        assert set(changed.values()) == {1}
        rounds.append(set(changed))
    return rounds


NETWORKS = {
    "watts-strogatz": lambda: nx.watts_strogatz_graph(600, 6, 0.1, seed=5),
    "sparse random": lambda: nx.gnp_random_graph(500, 3 / 500, seed=8),
    "grid": lambda: nx.convert_node_labels_to_integers(nx.grid_2d_graph(20, 20)),
}


@pytest.mark.parametrize("name", sorted(NETWORKS))
@pytest.mark.parametrize(
    "threshold", [Fraction(1, 5), Fraction(1, 4), Fraction(1, 3), Fraction(1, 2)]
)
def test_same_final_set_as_ndlib_with_a_uniform_threshold(name: str, threshold: Fraction) -> None:
    network = NETWORKS[name]()
    rng = np.random.default_rng(17)
    seeds = sorted(int(s) for s in rng.choice(network.number_of_nodes(), size=12, replace=False))
    graph = Graph.from_networkx(network)
    ours = threshold_cascade(graph, graph.index_of(map(str, seeds)), threshold)
    expected = ndlib_rounds(network, seeds, dict.fromkeys(network, float(threshold)))
    assert [{int(i) for i in graph.ids_of(r)} for r in ours.rounds] == expected
    assert {int(i) for i in graph.ids_of(ours.adopters)} == set(seeds).union(*expected)


def test_same_final_set_as_ndlib_with_thresholds_per_node() -> None:
    network = nx.watts_strogatz_graph(800, 8, 0.2, seed=3)
    rng = np.random.default_rng(29)
    choices = [Fraction(1, 10), Fraction(3, 10), Fraction(3, 8), Fraction(1, 2), Fraction(7, 10)]
    thresholds = {node: choices[int(rng.integers(len(choices)))] for node in network}
    seeds = sorted(int(s) for s in rng.choice(800, size=40, replace=False))
    graph = Graph.from_networkx(network)
    per_node = [thresholds[int(label)] for label in graph.labels]
    ours = threshold_cascade(graph, graph.index_of(map(str, seeds)), per_node)
    expected = ndlib_rounds(network, seeds, {node: float(q) for node, q in thresholds.items()})
    assert [{int(i) for i in graph.ids_of(r)} for r in ours.rounds] == expected
    final = set(seeds).union(*expected)
    assert {int(i) for i in graph.ids_of(ours.adopters)} == final
    assert len(seeds) < len(final) < 800
