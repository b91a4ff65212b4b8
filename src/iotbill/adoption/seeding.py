"""Choosing whom to convert first: seed sets that maximise expected final adoption.

Given a budget of ``k`` initial adopters, find the seed set ``S`` with the largest
spread ``σ(S)``, the expected number of final adopters. Finding the best set is
NP-hard, but under the linear threshold model of Kempe, Kleinberg and Tardos
(2003) ``σ`` is monotone and submodular, so the greedy choice (repeatedly add the
node with the largest marginal gain) is within ``1 - 1/e`` of the optimum.

The model: node ``v`` draws a threshold ``θ_v`` uniformly from ``[0, 1]`` and
adopts once the adopting share of its neighbours reaches it (edge weights
``1 / deg(v)``). It has the same final adopters in distribution as a *live-edge*
graph where each node listens to one neighbour chosen uniformly, and adopts when
its chain of listening reaches a seed (KKT, Claim 2.6). Spread is estimated on
``runs`` live-edge samples drawn once and shared by every candidate (common
random numbers): each sample's spread is a reachability count, submodular sample
by sample, so lazy evaluation (CELF, Leskovec et al. 2007) picks exactly what
plain greedy picks on the same samples, only faster.

Under one fixed threshold ``q`` for everybody (Easley and Kleinberg ch. 19),
spread is deterministic but not submodular, so the guarantee is gone; the same
greedy still serves as a heuristic (:class:`FixedThresholdSpread`, evaluated by
:func:`iotbill.adoption.threshold.cascade_with_requirements`) and evaluates every
remaining candidate at every step, since stale gains bound nothing there.
Cheap heuristics: :func:`highest_degree_seeds` and :func:`degree_discount_seeds`.
:func:`compare_seedings` sets each against random seed sets. Ties are broken by
node id (the label), in code-point order.

References
----------
D. Kempe, J. Kleinberg and É. Tardos, "Maximizing the spread of influence through a
social network", Proc. 9th ACM SIGKDD (2003) 137-146.
J. Leskovec et al., "Cost-effective outbreak detection in networks", Proc. 13th ACM
SIGKDD (2007) 420-429.
W. Chen, Y. Wang and S. Yang, "Efficient influence maximization in social
networks", Proc. 15th ACM SIGKDD (2009) 199-208.
D. Easley and J. Kleinberg, Networks, Crowds, and Markets (2010), ch. 19 and 20.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from functools import partial
from typing import Protocol

import numpy as np
import numpy.typing as npt

from iotbill.adoption.graph import Graph
from iotbill.adoption.threshold import cascade_with_requirements, required_counts
from iotbill.domain.errors import InvalidInput

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class LiveEdgeSamples:
    """``runs`` live-edge graphs over ``node_count`` nodes, stacked side by side.

    Each node listens to at most one node of its own sample. Sample ``r`` owns the
    flat nodes ``r * n .. r * n + n - 1``; the nodes that listen to flat node ``x``
    are ``children[child_start[x]:child_start[x + 1]]``.
    """

    node_count: int
    runs: int
    child_start: IntArray
    children: IntArray

    @classmethod
    def from_parents(cls, parents: npt.ArrayLike) -> LiveEdgeSamples:
        """Build from ``parents[r, v]``: whom ``v`` listens to in sample ``r`` (-1: nobody)."""
        table = np.asarray(parents, dtype=np.int64)
        runs, node_count = table.shape
        if table.size and (table.min() < -1 or table.max() >= node_count):
            raise InvalidInput.at("parents", f"must be -1 or a node in 0..{node_count - 1}")
        offset = (np.arange(runs, dtype=np.int64) * node_count)[:, None]
        listens = table >= 0
        flat_parent = (table + offset)[listens]
        listener = np.broadcast_to(np.arange(node_count) + offset, table.shape)[listens]
        order = np.argsort(flat_parent, kind="stable")
        counts = np.bincount(flat_parent, minlength=runs * node_count)
        child_start = np.concatenate([[0], np.cumsum(counts)])
        return cls(node_count, runs, child_start, listener[order])


def live_edge_samples(graph: Graph, runs: int, rng: np.random.Generator) -> LiveEdgeSamples:
    """Draw ``runs`` live-edge graphs: each node listens to a uniform neighbour.

    ``O(r n log(r n))`` for ``r = runs``: one draw per node and sample, then a sort.
    """
    if runs < 1:
        raise InvalidInput.at("runs", f"must be at least 1, got {runs}")
    listening = np.flatnonzero(graph.degrees > 0)
    choice = rng.integers(0, graph.degrees[listening], size=(runs, listening.size))
    parents = np.full((runs, graph.node_count), -1, dtype=np.int64)
    parents[:, listening] = graph.indices[graph.indptr[listening] + choice]
    return LiveEdgeSamples.from_parents(parents)


class Spread(Protocol):
    """Spread of a growing seed set over equally likely samples (one if deterministic)."""

    def gain(self, node: int) -> int:
        """How many more adopters, summed over the samples, if ``node`` joined the seeds."""

    def add(self, node: int) -> None:
        """Make ``node`` a seed."""

    def adopters(self) -> IntArray:
        """Final adopters of the seeds added so far, one count per sample."""


class LinearThresholdSpread:
    """Spread under the linear threshold model, counted on fixed live-edge samples.

    A seed converts, in each sample, every node whose chain of listening reaches it:
    a breadth-first search against the listening links that stops at nodes already
    converted.
    ``gain`` costs ``O(nodes it would convert + depth of the search)`` numpy steps.
    """

    def __init__(self, samples: LiveEdgeSamples) -> None:
        self._samples = samples
        self._per_run = np.zeros(samples.runs, dtype=np.int64)
        self._adopted = np.zeros(samples.runs * samples.node_count, dtype=bool)
        self._copies = np.arange(samples.runs, dtype=np.int64) * samples.node_count

    def gain(self, node: int) -> int:
        reached = self._convert(node)
        self._adopted[reached] = False
        return int(reached.size)

    def add(self, node: int) -> None:
        reached = self._convert(node)
        self._per_run += np.bincount(
            reached // self._samples.node_count, minlength=self._per_run.size
        )

    def adopters(self) -> IntArray:
        return self._per_run.copy()

    def _convert(self, node: int) -> IntArray:
        """Mark every flat node reached from ``node``'s copies; return them."""
        start, children = self._samples.child_start, self._samples.children
        frontier = self._copies + node
        frontier = frontier[~self._adopted[frontier]]
        reached = []
        while frontier.size:
            self._adopted[frontier] = True
            reached.append(frontier)
            lengths = start[frontier + 1] - start[frontier]
            first = np.repeat(start[frontier] - np.cumsum(lengths) + lengths, lengths)
            below = children[first + np.arange(first.size)]
            frontier = below[~self._adopted[below]]
        return np.concatenate(reached) if reached else frontier


class FixedThresholdSpread:
    """Final adopters of the threshold cascade with fixed thresholds (deterministic).

    A candidate's gain is one cascade with
    :func:`iotbill.adoption.threshold.cascade_with_requirements`, started from the
    current adopters plus the candidate: adopters only grow, so that ends where the
    cascade from the seeds plus the candidate ends, without replaying its rounds.
    ``O(n + m)`` per gain, and ``O(1)`` for a candidate who has already adopted.
    """

    def __init__(self, graph: Graph, threshold: Fraction | Sequence[Fraction]) -> None:
        self._graph = graph
        self._required = required_counts(graph, threshold)
        self._adopted = np.zeros(graph.node_count, dtype=bool)

    def gain(self, node: int) -> int:
        if self._adopted[node]:
            return 0
        return int(self._adopters_with(node).sum() - self._adopted.sum())

    def add(self, node: int) -> None:
        self._adopted = self._adopters_with(node)

    def adopters(self) -> IntArray:
        return np.array([self._adopted.sum()], dtype=np.int64)

    def _adopters_with(self, node: int) -> npt.NDArray[np.bool_]:
        seeds = np.append(np.flatnonzero(self._adopted), node)
        return cascade_with_requirements(self._graph, seeds, self._required).adopted


def id_rank(graph: Graph) -> IntArray:
    """Each node's position when the ids are sorted by code point: the tie-break order."""
    rank = np.empty(graph.node_count, dtype=np.int64)
    rank[sorted(range(graph.node_count), key=graph.labels.__getitem__)] = np.arange(rank.size)
    return rank


def _check_budget(node_count: int, budget: int) -> None:
    if not 1 <= budget <= node_count:
        raise InvalidInput.at(
            "budget", f"must be between 1 and the {node_count} nodes, got {budget}"
        )


def greedy_seeds(spread: Spread, budget: int, rank: IntArray) -> tuple[int, ...]:
    """Plain greedy: add the node of largest gain, ``budget`` times; ties to the lower rank.

    The reference for :func:`lazy_greedy_seeds`, and the heuristic under fixed
    thresholds. ``O(budget * n)`` gain evaluations.
    """
    _check_budget(rank.size, budget)
    chosen: list[int] = []
    for _ in range(budget):
        best = max(
            (node for node in range(rank.size) if node not in chosen),
            key=lambda node: (spread.gain(node), -rank[node]),
        )
        spread.add(best)
        chosen.append(best)
    return tuple(chosen)


def lazy_greedy_seeds(spread: Spread, budget: int, rank: IntArray) -> tuple[int, ...]:
    """Greedy with lazy evaluation (CELF): the same picks as :func:`greedy_seeds`
    whenever the gains are submodular.

    A gain computed when the seed set was smaller bounds the current gain from
    above, so candidates wait in a heap keyed by (stale gain, rank); the top one is
    recomputed, and taken once its gain is fresh. ``n`` evaluations up front, then
    typically a few per pick.
    """
    _check_budget(rank.size, budget)
    heap = [(-spread.gain(node), int(rank[node]), node) for node in range(rank.size)]
    heapq.heapify(heap)
    fresh_at = [0] * rank.size  # the seed count when each node's gain was computed
    chosen: list[int] = []
    while len(chosen) < budget:
        _, position, node = heapq.heappop(heap)
        if fresh_at[node] == len(chosen):
            spread.add(node)
            chosen.append(node)
        else:
            fresh_at[node] = len(chosen)
            heapq.heappush(heap, (-spread.gain(node), position, node))
    return tuple(chosen)


def highest_degree_seeds(graph: Graph, budget: int) -> tuple[int, ...]:
    """The ``budget`` nodes of highest degree, ties to the lower id. ``O(n log n)``."""
    _check_budget(graph.node_count, budget)
    order = np.lexsort((id_rank(graph), -graph.degrees.astype(np.int64)))
    return tuple(int(node) for node in order[:budget])


def degree_discount_seeds(graph: Graph, budget: int) -> tuple[int, ...]:
    """Highest degree, discounting each neighbour of a chosen seed by one per seed.

    The "single discount" of Chen, Wang and Yang (2009): an edge into the seed set
    adds little, since that neighbour is already reached. ``O(budget * n log n)``.
    """
    _check_budget(graph.node_count, budget)
    rank = id_rank(graph)
    score = graph.degrees.astype(np.int64)
    available = np.ones(graph.node_count, dtype=bool)
    chosen: list[int] = []
    for _ in range(budget):
        best = int(np.lexsort((rank, -np.where(available, score, -1)))[0])
        chosen.append(best)
        available[best] = False
        score[graph.indices[graph.indptr[best] : graph.indptr[best + 1]]] -= 1
    return tuple(chosen)


class Method(StrEnum):
    """How :func:`compare_seedings` picks seeds (random seed sets are always the baseline)."""

    GREEDY = "greedy"
    DEGREE = "degree"
    DEGREE_DISCOUNT = "degree-discount"


@dataclass(frozen=True, slots=True)
class SeedChoice:
    """The seeds one method picked, in the order picked, and their expected adopters.

    ``spread`` is a mean over samples, ``standard_error`` its standard error (0 when
    the model is deterministic).
    """

    method: Method
    seeds: tuple[int, ...]
    spread: float
    standard_error: float


@dataclass(frozen=True, slots=True)
class RandomBaseline:
    """Spread of ``draws`` uniformly random seed sets: mean, sample deviation and range."""

    draws: int
    mean: float
    deviation: float
    lowest: float
    highest: float


@dataclass(frozen=True, slots=True)
class SeedingReport:
    """Each method's seeds against random seeds, all measured by the same yardstick.

    ``threshold`` is ``None`` for the linear threshold model with random thresholds,
    whose spreads are averages over ``runs`` fresh live-edge samples (not the ones
    the greedy optimised on, so its choice is not flattered); under a fixed
    threshold spreads are exact and ``runs`` is ``None``.
    """

    budget: int
    threshold: Fraction | None
    runs: int | None
    choices: tuple[SeedChoice, ...]
    random: RandomBaseline


def compare_seedings(
    graph: Graph,
    budget: int,
    threshold: Fraction | None,
    methods: Sequence[Method],
    runs: int,
    draws: int,
    rng: np.random.Generator,
) -> SeedingReport:
    """Pick seeds with each method and measure them against ``draws`` random seed sets.

    With ``threshold`` ``None``: the linear threshold model, greedy by CELF on
    ``runs`` live-edge samples, every spread then measured on ``runs`` new samples.
    With a threshold: the deterministic cascade, plain greedy as a heuristic.
    """
    _check_budget(graph.node_count, budget)
    if draws < 1:
        raise InvalidInput.at("draws", f"must be at least 1, got {draws}")
    choose: Callable[[], Spread]
    measure: Callable[[], Spread]
    if threshold is None:
        choose = partial(LinearThresholdSpread, live_edge_samples(graph, runs, rng))
        measure = partial(LinearThresholdSpread, live_edge_samples(graph, runs, rng))
        greedy = lazy_greedy_seeds
    else:
        choose = measure = partial(FixedThresholdSpread, graph, threshold)
        greedy = greedy_seeds

    def spread_of(seeds: tuple[int, ...]) -> tuple[float, float]:
        """Mean adopters over the samples, and its standard error (0 if deterministic)."""
        spread = measure()
        for node in seeds:
            spread.add(node)
        adopters = spread.adopters()
        error = adopters.std(ddof=1) / np.sqrt(adopters.size) if adopters.size > 1 else 0.0
        return float(adopters.mean()), float(error)

    pickers: dict[Method, Callable[[], tuple[int, ...]]] = {
        Method.GREEDY: lambda: greedy(choose(), budget, id_rank(graph)),
        Method.DEGREE: lambda: highest_degree_seeds(graph, budget),
        Method.DEGREE_DISCOUNT: lambda: degree_discount_seeds(graph, budget),
    }
    choices = []
    for method in dict.fromkeys(methods):
        seeds = pickers[method]()
        choices.append(SeedChoice(method, seeds, *spread_of(seeds)))
    random_spreads = np.array(
        [
            spread_of(tuple(rng.choice(graph.node_count, budget, replace=False).tolist()))[0]
            for _ in range(draws)
        ]
    )
    baseline = RandomBaseline(
        draws,
        float(random_spreads.mean()),
        float(random_spreads.std(ddof=1)) if draws > 1 else 0.0,
        float(random_spreads.min()),
        float(random_spreads.max()),
    )
    return SeedingReport(
        budget, threshold, runs if threshold is None else None, tuple(choices), baseline
    )
