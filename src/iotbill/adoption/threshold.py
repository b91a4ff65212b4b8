"""Threshold cascades on networks: the coordination game of Easley and Kleinberg, ch. 19.

Two neighbours who both use behaviour A earn ``a`` each, both B earn ``b``, and
different behaviours earn nothing. A node does best to use A when at least a
fraction ``q = b / (a + b)`` of its neighbours do. Starting from initial adopters,
rounds are synchronous: in each round every node that uses B and has at least a
``q`` fraction of its neighbours on A switches; nobody switches back; a node with
no neighbour never switches. Comparisons are exact integers: a node of degree
``d`` switches once ``count >= ceil(q * d)``, which is ``count * den >= num * d``
for ``q = num / den``.

Also here: :func:`cascade_capacity`, the largest threshold at which some small
seed set converts the whole graph (Morris 2000; Easley and Kleinberg 19.5), and
:func:`cascade_window`, the mean degrees at which a random graph with Poisson
degrees and a uniform threshold allows global cascades (Watts 2002).

References
----------
D. Easley and J. Kleinberg, *Networks, Crowds, and Markets* (2010), chapter 19.
S. Morris, "Contagion", Review of Economic Studies 67 (2000) 57-78.
D. J. Watts, "A simple model of global cascades on random networks",
PNAS 99 (2002) 5766-5771.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import combinations
from typing import Any

import numpy as np
import numpy.typing as npt

from iotbill.adoption.graph import Graph
from iotbill.domain.errors import InvalidInput

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: A round whose adopters have more than ``n / DENSE_ROUND`` neighbour entries updates
#: whole arrays (fast sequential passes) instead of gathering per neighbour.
DENSE_ROUND = 8

#: Seed sets that :func:`cascade_capacity` tries at most, per threshold it tests.
MAX_SEED_SETS = 200_000


def threshold_from_payoffs(a: Fraction | int, b: Fraction | int) -> Fraction:
    """The switching threshold ``q = b / (a + b)`` of the coordination game.

    >>> threshold_from_payoffs(3, 2)
    Fraction(2, 5)
    """
    if a < 0 or b < 0 or a + b == 0:
        raise InvalidInput.at("payoffs", f"need a >= 0, b >= 0 and a + b > 0, got a={a}, b={b}")
    return Fraction(b) / (Fraction(a) + Fraction(b))


def _exact_threshold(q: Fraction | int, location: str) -> Fraction:
    """``q`` as a fraction in [0, 1]; a float is refused, since its tie would be inexact."""
    if not isinstance(q, Fraction | int):
        raise TypeError(
            f"{location}: pass thresholds as Fraction (e.g. Fraction('0.2')), got {q!r}"
        )
    if not 0 <= q <= 1:
        raise InvalidInput.at(location, f"a threshold must be in [0, 1], got {q}")
    return Fraction(q)


def required_counts(graph: Graph, threshold: Fraction | Sequence[Fraction]) -> IntArray:
    """Adopting neighbours each node needs: ``ceil(q_i * degree_i)``, exactly.

    ``threshold`` is one fraction for every node or one per node (in index order).
    A node without neighbours needs 1, which it can never have.
    """
    degrees = graph.degrees.astype(np.int64)
    if not isinstance(threshold, Sequence):
        q = _exact_threshold(threshold, "threshold")
        by_degree = np.zeros(int(degrees.max()) + 1, dtype=np.int64)
        distinct = np.flatnonzero(np.bincount(degrees))
        by_degree[distinct] = [-(-q.numerator * int(d) // q.denominator) for d in distinct]
        required = by_degree[degrees]
    else:
        if len(threshold) != graph.node_count:
            raise InvalidInput.at(
                "thresholds", f"need one per node ({graph.node_count}), got {len(threshold)}"
            )
        per_node = [
            _exact_threshold(q, f"thresholds[{label}]")
            for q, label in zip(threshold, graph.labels, strict=True)
        ]
        required = np.array(
            [
                -(-q.numerator * int(d) // q.denominator)
                for q, d in zip(per_node, degrees, strict=True)
            ],
            dtype=np.int64,
        )
    required[degrees == 0] = 1
    return required


@dataclass(frozen=True, slots=True)
class BlockingCluster:
    """The nodes a cascade never reached, and how tightly they hold together.

    ``density`` is the smallest fraction of a member's neighbours that are members,
    over members with at least one neighbour (1 when none has a neighbour). By the
    theorem of Easley and Kleinberg 19.3, it exceeds ``1 - q`` when a uniform
    threshold ``q`` stops the cascade.
    """

    nodes: IntArray
    density: Fraction


@dataclass(frozen=True, slots=True, eq=False)
class Cascade:
    """The outcome of a threshold cascade on ``graph``.

    ``rounds[r]`` holds the nodes (sorted indices) that switched in round ``r + 1``;
    the initial adopters are ``seeds`` and are in no round. There is no empty round.
    ``adopting_neighbours[i]`` counts the neighbours of ``i`` using A at the end.
    """

    graph: Graph
    seeds: IntArray
    rounds: tuple[IntArray, ...]
    adopted: BoolArray
    adopting_neighbours: IntArray

    @property
    def adopters(self) -> IntArray:
        """Every node that uses A at the end, initial adopters included, sorted."""
        return np.flatnonzero(self.adopted)

    @property
    def complete(self) -> bool:
        return bool(self.adopted.all())

    def blocking_cluster(self) -> BlockingCluster | None:
        """The set of all non-adopters with its density; ``None`` when the cascade is complete."""
        members = np.flatnonzero(~self.adopted)
        if members.size == 0:
            return None
        degree = self.graph.degrees[members].astype(np.int64)
        inside = degree - self.adopting_neighbours[members]
        has_neighbours = degree > 0
        if not has_neighbours.any():
            return BlockingCluster(members, Fraction(1))
        inside, degree = inside[has_neighbours], degree[has_neighbours]
        approximate = inside / degree
        close = approximate <= approximate.min() * (1 + 1e-9)
        density = min(
            Fraction(int(i), int(d)) for i, d in zip(inside[close], degree[close], strict=True)
        )
        return BlockingCluster(members, density)


def _neighbours_of(graph: Graph, nodes: IntArray) -> npt.NDArray[np.int32]:
    """Concatenated neighbour lists of ``nodes`` (with repeats), by CSR slicing."""
    starts = graph.indptr[nodes].astype(np.int64)
    lengths = graph.indptr[nodes + 1] - starts
    offsets = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    offsets += np.arange(offsets.size, dtype=np.int64)
    neighbours: npt.NDArray[np.int32] = graph.indices[offsets]
    return neighbours


def cascade_with_requirements(graph: Graph, seeds: Iterable[int], required: IntArray) -> Cascade:
    """Run the synchronous cascade where node ``i`` switches with ``required[i]`` adopting
    neighbours.

    Only the neighbours of the previous round's adopters are examined in a round, since
    nobody else's count changed; nodes that need 0 switch in round 1. Total work is
    ``O(n + sum of the adopters' degrees)`` numpy operations, plus an ``O(n)`` buffer
    fill in a round whose adopters' neighbourhoods cover more than an eighth of the graph.
    """
    n = graph.node_count
    seed_array = np.unique(np.fromiter(seeds, dtype=np.int64))
    if seed_array.size and (seed_array[0] < 0 or seed_array[-1] >= n):
        raise InvalidInput.at("seeds", f"node indices must be in 0..{n - 1}")
    adopted = np.zeros(n, dtype=np.bool_)
    adopted[seed_array] = True
    counts = np.zeros(n, dtype=np.int64)
    slot = np.zeros(n, dtype=np.int64)
    rounds: list[IntArray] = []
    frontier = seed_array
    unconditional = np.flatnonzero((required <= 0) & ~adopted)
    while frontier.size:
        touched = _neighbours_of(graph, frontier)
        if touched.size * DENSE_ROUND > n:
            counts += np.bincount(touched, minlength=n)
            switching: npt.NDArray[np.integer[Any]] = np.flatnonzero(
                ~adopted & (counts >= required)
            )
        else:
            np.add.at(counts, touched, 1)
            candidates = touched[~adopted[touched]]
            switching = candidates[counts[candidates] >= required[candidates]]
            slot[switching] = np.arange(switching.size)  # keep one copy of each: the last
            switching = np.sort(switching[slot[switching] == np.arange(switching.size)])
            if not rounds and unconditional.size:
                switching = np.union1d(switching, unconditional)
        frontier = switching.astype(np.int64, copy=False)
        adopted[frontier] = True
        if frontier.size:
            rounds.append(frontier)
    return Cascade(graph, seed_array, tuple(rounds), adopted, counts)


def threshold_cascade(
    graph: Graph, seeds: Iterable[int], threshold: Fraction | Sequence[Fraction]
) -> Cascade:
    """Run the cascade with one threshold for all nodes or one per node.

    Parameters
    ----------
    graph
        The network.
    seeds
        Indices of the initial adopters (see :meth:`Graph.index_of`).
    threshold
        ``q`` in ``[0, 1]``, exact; or a sequence of one threshold per node.

    Examples
    --------
    The path ``a - b - c`` with ``a`` adopting and ``q = 1/2``: ``b`` has half its
    neighbours on A and switches, then ``c``.

    >>> g = Graph.from_edges([("a", "b"), ("b", "c")])
    >>> result = threshold_cascade(g, g.index_of(["a"]), Fraction(1, 2))
    >>> [g.ids_of(r) for r in result.rounds], result.complete
    ([['b'], ['c']], True)
    """
    return cascade_with_requirements(graph, seeds, required_counts(graph, threshold))


def _breakpoints(graph: Graph) -> list[Fraction]:
    """Thresholds ``j / d`` for every degree ``d`` in the graph: where outcomes can change."""
    degrees = {int(d) for d in np.unique(graph.degrees) if d > 0}
    return sorted({Fraction(j, d) for d in degrees for j in range(d + 1)} | {Fraction(0)})


def cascade_capacity(graph: Graph, max_seeds: int) -> Fraction | None:
    """The largest ``q`` at which some set of at most ``max_seeds`` nodes cascades completely.

    Outcomes change only at the breakpoints ``j / d`` (``d`` a degree of the graph), and
    a complete cascade at ``q`` stays complete at every lower ``q`` and with any larger
    seed set; so a binary search over the breakpoints tests seed sets of exactly
    ``min(max_seeds, n)`` nodes. ``None`` when even ``q = 0`` fails (isolated nodes
    outnumber the seeds). Exact; cost ``O(log B * C(n, s) * (n + m))`` for ``B``
    breakpoints, so for small graphs only: more than :data:`MAX_SEED_SETS` seed sets
    is :class:`InvalidInput`.

    References
    ----------
    S. Morris, "Contagion" (2000); Easley and Kleinberg (2010), section 19.5.

    Examples
    --------
    On a path, one end converts everything while ``q <= 1/2``:

    >>> cascade_capacity(Graph.from_edges([("a", "b"), ("b", "c"), ("c", "d")]), 1)
    Fraction(1, 2)
    """
    n = graph.node_count
    size = min(max_seeds, n)
    if size < 1:
        raise InvalidInput.at("max_seeds", f"must be at least 1, got {max_seeds}")
    if math.comb(n, size) > MAX_SEED_SETS:
        raise InvalidInput.at(
            "max_seeds",
            f"{math.comb(n, size)} seed sets of {size} nodes exceed the {MAX_SEED_SETS} "
            "this exact search tries; use a smaller graph or fewer seeds",
        )

    def some_set_cascades(q: Fraction) -> bool:
        required = required_counts(graph, q)
        return any(
            cascade_with_requirements(graph, seeds, required).complete
            for seeds in combinations(range(n), size)
        )

    candidates = _breakpoints(graph)
    low, high = 0, len(candidates)
    while low < high:
        middle = (low + high) // 2
        if some_set_cascades(candidates[middle]):
            low = middle + 1
        else:
            high = middle
    return candidates[low - 1] if low else None


@dataclass(frozen=True, slots=True)
class CascadeWindow:
    """Mean degrees ``low <= z <= high`` at which global cascades are possible
    (``high`` is ``math.inf`` for a threshold of 0)."""

    low: float
    high: float


def cascade_window(phi: Fraction) -> CascadeWindow | None:
    """The Watts (2002) cascade window for Poisson degrees and a uniform threshold ``phi``.

    A node of degree ``k >= 1`` is vulnerable when ``1/k >= phi``, that is when
    ``k <= K = floor(1/phi)``. Global cascades are possible where the vulnerable
    cluster percolates: ``sum_k k (k - 1) p_k rho_k >= z`` with ``p_k`` Poisson of
    mean ``z`` and ``rho_k = [1 <= k <= K]``. Dividing by ``z``, that is
    ``h(z) = z * P(Poisson(z) <= K - 2) >= 1``; ``h`` rises then falls, so the window
    is an interval found by root finding. ``None`` when ``h`` never reaches 1 (every
    ``phi > 1/4``).

    Examples
    --------
    >>> window = cascade_window(Fraction(1, 5))
    >>> round(window.low, 4), round(window.high, 4)
    (1.0207, 5.7647)
    """
    from scipy.optimize import brentq
    from scipy.special import gammaln, pdtr

    phi = _exact_threshold(phi, "threshold")
    if phi == 0:
        return CascadeWindow(1.0, math.inf)
    top = math.floor(1 / phi) - 2
    if top < 0:
        return None

    def excess(z: float) -> float:
        return float(z * pdtr(top, z)) - 1.0

    def slope(z: float) -> float:
        pmf = math.exp(top * math.log(z) - z - float(gammaln(top + 1))) if z > 0 else 0.0
        return float(pdtr(top, z)) - z * pmf

    peak = float(brentq(slope, 0.0, top + 2.0)) if top > 0 else 1.0
    if excess(peak) < 0:
        return None
    far = 2 * peak + 2
    while excess(far) >= 0:
        far *= 2
    return CascadeWindow(float(brentq(excess, 0.0, peak)), float(brentq(excess, peak, far)))
