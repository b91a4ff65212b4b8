"""Benchmark of the threshold cascade: iotbill against NDlib, and iotbill alone at scale.

Prints:

* at 1,000,000 nodes (Watts–Strogatz, k = 10, p = 0.1, threshold 0.2, 1% random
  seeds): the wall time of generating the graph plus running the cascade to
  convergence, and the peak memory (traced numpy and Python allocations, and the
  process's peak resident set). Target: under 3 s.
* at 100,000 nodes, for thresholds 0.2 and 0.25 and the same 1% random seeds: the
  time of iotbill's cascade and of NDlib's ThresholdModel iterated until no node
  changes, and their ratio; graph construction and conversion are outside both
  timers. Both must end with the same adopters. Target: iotbill at least 200x faster.

Run: ``python bench/cascade_bench.py [--nodes N] [--big N] [--seed S]``.
Asserts nothing about time.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
import tracemalloc
from fractions import Fraction

import ndlib.models.epidemics as epidemics
import ndlib.models.ModelConfig as model_config
import networkx as nx
import numpy as np

from iotbill.adoption.smallworld import watts_strogatz
from iotbill.adoption.threshold import threshold_cascade

DEGREE = 10
REWIRE = 0.1
THRESHOLDS = (Fraction(1, 5), Fraction(1, 4))


def random_seeds(node_count: int, rng: np.random.Generator) -> np.ndarray:
    return np.sort(rng.choice(node_count, size=node_count // 100, replace=False))


def generate_and_cascade(node_count: int, seed: int) -> tuple[int, int]:
    """Rounds and adopters of the cascade on a freshly generated graph."""
    rng = np.random.default_rng(seed)
    graph = watts_strogatz(node_count, DEGREE, REWIRE, rng)
    result = threshold_cascade(graph, random_seeds(node_count, rng), THRESHOLDS[0])
    return len(result.rounds), int(result.adopted.sum())


def at_scale(node_count: int, seed: int) -> None:
    start = time.perf_counter()
    rounds, adopters = generate_and_cascade(node_count, seed)
    elapsed = time.perf_counter() - start
    tracemalloc.start()
    generate_and_cascade(node_count, seed)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    resident_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"iotbill alone, {node_count:,} nodes, q = {THRESHOLDS[0]}:")
    print(f"  generation + cascade: {elapsed:.2f} s ({rounds} rounds, {adopters:,} adopters)")
    print(f"  peak memory: {traced_peak / 2**20:.0f} MiB traced, {resident_peak:.0f} MiB resident")


def ndlib_cascade(network: nx.Graph, seeds: list[int], threshold: float) -> tuple[float, set[int]]:
    model = epidemics.ThresholdModel(network, seed=0)
    config = model_config.Configuration()
    config.add_model_initial_configuration("Infected", seeds)
    for node in network:
        config.add_node_configuration("threshold", node, threshold)
    model.set_initial_status(config)
    start = time.perf_counter()
    model.iteration()
    while model.iteration()["status"]:
        pass
    elapsed = time.perf_counter() - start
    return elapsed, {node for node, status in model.status.items() if status == 1}


def against_ndlib(node_count: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    graph = watts_strogatz(node_count, DEGREE, REWIRE, rng)
    seeds = random_seeds(node_count, rng)
    network = nx.from_scipy_sparse_array(graph.adjacency)
    print(f"threshold cascade, Watts–Strogatz {node_count:,} nodes, k = {DEGREE}, p = {REWIRE}:")
    for threshold in THRESHOLDS:
        times = []
        for _ in range(5):
            start = time.perf_counter()
            result = threshold_cascade(graph, seeds, threshold)
            times.append(time.perf_counter() - start)
        ours = statistics.median(times)
        theirs, infected = ndlib_cascade(network, seeds.tolist(), float(threshold))
        same = infected == set(result.adopters.tolist())
        print(
            f"  q = {float(threshold)}: iotbill {ours * 1000:.1f} ms "
            f"({len(result.rounds)} rounds), NDlib {theirs:.2f} s, "
            f"ratio {theirs / ours:.0f}x, same adopters: {same}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100_000, help="graph size against NDlib")
    parser.add_argument("--big", type=int, default=1_000_000, help="graph size for iotbill alone")
    parser.add_argument("--seed", type=int, default=2026)
    arguments = parser.parse_args()
    at_scale(arguments.big, arguments.seed)
    against_ndlib(arguments.nodes, arguments.seed)


if __name__ == "__main__":
    main()
