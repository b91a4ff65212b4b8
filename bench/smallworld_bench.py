"""Benchmark of the small-world generators and greedy search.

Prints:

* Watts–Strogatz at 1,000,000 nodes, k = 10, for p = 0.1 and p = 1: the wall time
  of generating the graph (best of a few runs) and the peak memory of one run
  (traced numpy and Python allocations), beside the floor measured in the same
  run: building the plain ring lattice's graph, with no rewiring. Target: about
  a second.
* Kleinberg's lattice at side 1,000 (a million nodes), for r = 0, 2 and 3: the time
  to draw every node's long-range contact, beside the floor of drawing one
  uniform node per node (no distance law, no rejection); then greedy search over
  10,000 uniform pairs, its time and mean hops.

Run: ``python bench/smallworld_bench.py [--nodes N] [--side N] [--pairs M] [--seed S]``.
Asserts nothing about time.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Callable

import numpy as np

from iotbill.adoption.navigation import kleinberg_lattice, mean_delivery_time
from iotbill.adoption.smallworld import ring_lattice, watts_strogatz

DEGREE = 10
REPEATS = 3


def best_time(work: Callable[[], object]) -> float:
    """The shortest of a few wall times: the least disturbed by other processes."""
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def traced_peak_mib(work: Callable[[], object]) -> float:
    tracemalloc.start()
    work()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def watts_strogatz_figures(node_count: int, seed: int) -> None:
    print(f"Watts–Strogatz, {node_count:,} nodes, k = {DEGREE}")

    def floor() -> object:
        return ring_lattice(node_count, DEGREE)

    floor_time = best_time(floor)
    print(f"  floor: ring lattice graph, no rewiring   {floor_time:6.3f} s")
    for rewire in (0.1, 1.0):

        def generate(rewire: float = rewire) -> object:
            return watts_strogatz(node_count, DEGREE, rewire, np.random.default_rng(seed))

        elapsed = best_time(generate)
        peak = traced_peak_mib(generate)
        print(
            f"  p = {rewire:<4}  generation               {elapsed:6.3f} s"
            f"  ({elapsed / floor_time:4.2f} x floor)  peak {peak:,.0f} MiB"
        )


def kleinberg_figures(side: int, pairs: int, seed: int) -> None:
    node_count = side * side
    print(f"Kleinberg lattice, side {side:,} ({node_count:,} nodes), {pairs:,} search pairs")
    rng = np.random.default_rng(seed)
    floor_time = best_time(lambda: rng.integers(0, node_count, size=node_count))
    print(f"  floor: one uniform node per node          {floor_time:6.3f} s")
    for exponent in (0.0, 2.0, 3.0):
        lattice = kleinberg_lattice(side, exponent, np.random.default_rng(seed))
        build = best_time(
            lambda e=exponent: kleinberg_lattice(side, e, np.random.default_rng(seed))
        )
        start = time.perf_counter()
        hops = mean_delivery_time(lattice, pairs, np.random.default_rng(seed + 1))
        search = time.perf_counter() - start
        print(
            f"  r = {exponent:<3}  contacts {build:6.3f} s ({build / floor_time:5.1f} x floor)"
            f"  search {search:6.3f} s  mean {hops:7.1f} hops"
        )
    peak = traced_peak_mib(lambda: kleinberg_lattice(side, 2.0, np.random.default_rng(seed)))
    print(f"  peak memory of one build (r = 2)          {peak:,.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1_000_000)
    parser.add_argument("--side", type=int, default=1_000)
    parser.add_argument("--pairs", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2026)
    arguments = parser.parse_args()
    watts_strogatz_figures(arguments.nodes, arguments.seed)
    kleinberg_figures(arguments.side, arguments.pairs, arguments.seed)


if __name__ == "__main__":
    main()
