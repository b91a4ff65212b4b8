"""Small worlds (Easley and Kleinberg, ch. 20): Watts–Strogatz graphs and their measures.

A ring lattice is highly clustered but far across; rewiring a few edges at
random keeps the clustering and collapses the distances (Watts and Strogatz
1998). :func:`watts_strogatz` builds the model vectorised (numpy arrays, no
Python loop per edge); :func:`clustering_coefficient` (mean local clustering)
and :func:`average_path_length` (over connected pairs) measure any
:class:`~iotbill.adoption.graph.Graph`; :func:`ring_lattice_clustering` and
:func:`ring_lattice_path_length` give the unrewired ring's values exactly, the
baselines of ``C(p) / C(0)`` and ``L(p) / L(0)``. Every random choice comes
from the ``numpy.random.Generator`` passed in. Kleinberg's navigable lattice is
in :mod:`iotbill.adoption.navigation`.

References
----------
D. J. Watts and S. H. Strogatz, "Collective dynamics of 'small-world' networks",
Nature 393 (1998) 440-442.
D. Easley and J. Kleinberg, Networks, Crowds, and Markets (2010), ch. 20.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import scipy.sparse.csgraph as csgraph

from iotbill.adoption.graph import Graph
from iotbill.domain.errors import InvalidInput

IntArray = npt.NDArray[np.int64]

#: Most entries of ``A[rows] @ A`` held at once while counting triangles.
_TRIANGLE_BLOCK = 1 << 20


def _check_ring(node_count: int, degree: int) -> None:
    if degree < 2 or degree % 2:
        raise InvalidInput.at("degree", f"must be even and at least 2, got {degree}")
    if node_count <= degree:
        raise InvalidInput.at("nodes", f"must exceed the degree {degree}, got {node_count}")


def _ring_edges(node_count: int, half: int) -> tuple[IntArray, IntArray]:
    """Edge ``layer * n + i`` of the ring joins ``i`` and ``(i + layer + 1) mod n``."""
    sources = np.tile(np.arange(node_count, dtype=np.int64), half)
    targets = sources + np.repeat(np.arange(1, half + 1, dtype=np.int64), node_count)
    targets[targets >= node_count] -= node_count
    return sources, targets


def ring_lattice(node_count: int, degree: int) -> Graph:
    """The ring of ``node_count`` nodes, each joined to its ``degree`` nearest (p = 0).

    ``degree`` is even, at least 2 and below ``node_count``. ``O(n k)`` time.
    """
    _check_ring(node_count, degree)
    return Graph.from_edge_arrays(node_count, *_ring_edges(node_count, degree // 2))


def watts_strogatz(node_count: int, degree: int, rewire: float, rng: np.random.Generator) -> Graph:
    """Watts–Strogatz small world: the ring lattice with one end of some edges rewired.

    Each of the ``n k / 2`` ring edges ``(i, i + j)`` is chosen with probability
    ``rewire``; a chosen edge keeps ``i`` and moves its other end to a node ``w``
    drawn uniformly, redrawn while ``w`` is ``i`` or already a neighbour of ``i``
    (its old end included, as in the original model). Draws are made in
    vectorised rounds: every pending edge draws at once; a draw is placed if it
    is free in the graph as it stood at the start of the round and no earlier
    pending edge claims the same pair; the rest draw again. An edge whose ``i``
    already touches every other node stays where it is. The result has no
    self-loop and no duplicate edge, and keeps exactly ``n k / 2`` edges.

    Parameters
    ----------
    node_count, degree
        ``n`` nodes, each joined to ``k = degree`` ring neighbours (even, ``2 <= k < n``).
    rewire
        The probability ``p`` in ``[0, 1]`` that an edge is rewired.
    rng
        The only source of randomness.

    Notes
    -----
    ``O(n k)`` expected time and memory, plus ``O(p n k log(p n k))`` to find
    claims on the same pair; rounds after the first redraw only the few collisions
    (a fraction of about ``2k / n``). One million nodes with ``k = 10`` take about
    half a second at ``p = 0.1``, a second at ``p = 1`` (``bench/smallworld_bench.py``).

    Examples
    --------
    >>> g = watts_strogatz(20, 4, 0.3, np.random.default_rng(1))
    >>> g.edge_count, int(g.adjacency.diagonal().sum())
    (40, 0)
    """
    _check_ring(node_count, degree)
    if not 0.0 <= rewire <= 1.0:
        raise InvalidInput.at("rewire", f"must be a probability in [0, 1], got {rewire}")
    half = degree // 2
    sources, targets = _ring_edges(node_count, half)
    chosen = np.flatnonzero(rng.random(sources.size) < rewire)
    in_place = np.ones(sources.size, dtype=bool)
    placed: list[IntArray] = []  # sorted pair keys of the rewired edges, one array per round
    rewired_degree = np.zeros(node_count, dtype=np.int64)
    pending = chosen
    while pending.size:
        start = sources[pending]
        end = rng.integers(0, node_count, size=pending.size)
        keys = np.minimum(start, end) * node_count + np.maximum(start, end)
        free = (start != end) & ~_ring_edge_in_place(start, end, node_count, half, in_place)
        for earlier in placed:
            free &= ~_sorted_contains(earlier, keys)
        candidates = np.flatnonzero(free)
        new_keys, first = _first_claims(keys[candidates])
        won = candidates[first]
        in_place[pending[won]] = False
        targets[pending[won]] = end[won]
        placed.append(new_keys)
        rewired_degree += np.bincount(start[won], minlength=node_count)
        rewired_degree += np.bincount(end[won], minlength=node_count)
        lost = np.ones(pending.size, dtype=bool)
        lost[won] = False
        pending = pending[lost]
        start = sources[pending]
        current_degree = _ring_degree_in_place(start, node_count, half, in_place)
        pending = pending[current_degree + rewired_degree[start] < node_count - 1]
    return Graph.from_edge_arrays(node_count, sources, targets)


def _ring_edge_in_place(
    start: IntArray, end: IntArray, node_count: int, half: int, in_place: npt.NDArray[np.bool_]
) -> npt.NDArray[np.bool_]:
    """Whether the pair ``(start, end)`` is a ring edge still at its original place."""
    offset = end - start
    offset[offset < 0] += node_count
    near = np.flatnonzero((offset != 0) & ((offset <= half) | (offset >= node_count - half)))
    forward = offset[near] <= half
    slot = np.where(
        forward,
        (offset[near] - 1) * node_count + start[near],
        (node_count - offset[near] - 1) * node_count + end[near],
    )
    result = np.zeros(start.size, dtype=bool)
    result[near] = in_place[slot]
    return result


def _first_claims(keys: IntArray) -> tuple[IntArray, IntArray]:
    """The distinct ``keys``, sorted, and the position where each first occurs."""
    ordered = np.sort(keys)
    repeated = ordered[1:] == ordered[:-1]
    winners = np.ones(keys.size, dtype=bool)
    if repeated.any():
        contested = np.flatnonzero(_sorted_contains(np.unique(ordered[1:][repeated]), keys))
        _, first = np.unique(keys[contested], return_index=True)
        winners[contested] = False
        winners[contested[first]] = True
        ordered = ordered[np.concatenate([[True], ~repeated])]
    return ordered, np.flatnonzero(winners)


def _ring_degree_in_place(
    nodes: IntArray, node_count: int, half: int, in_place: npt.NDArray[np.bool_]
) -> IntArray:
    """How many ring edges at ``nodes`` are still at their original place."""
    layers = np.arange(half, dtype=np.int64)[:, None]
    as_source = layers * node_count + nodes
    as_target = layers * node_count + (nodes - layers - 1) % node_count
    counts: IntArray = in_place[as_source].sum(axis=0) + in_place[as_target].sum(axis=0)
    return counts


def _sorted_contains(sorted_keys: IntArray, keys: IntArray) -> npt.NDArray[np.bool_]:
    if not sorted_keys.size:
        return np.zeros(keys.size, dtype=bool)
    position = np.minimum(np.searchsorted(sorted_keys, keys), sorted_keys.size - 1)
    found: npt.NDArray[np.bool_] = sorted_keys[position] == keys
    return found


def ring_lattice_clustering(node_count: int, degree: int) -> float:
    """Exact clustering of the unrewired ring: ``C(0) = 3(k - 2) / (4(k - 1))``.

    The closed form holds when ``n > 3k/2``; on smaller rings, where neighbours
    meet again across the ring, the triangles are counted.
    """
    _check_ring(node_count, degree)
    if 2 * node_count > 3 * degree:
        return 3 * (degree - 2) / (4 * (degree - 1))
    return clustering_coefficient(ring_lattice(node_count, degree))


def ring_lattice_path_length(node_count: int, degree: int) -> float:
    """Exact mean distance on the unrewired ring, about ``n / (2k)`` for large ``n``.

    The node ``s`` places along the ring is ``ceil(min(s, n - s) / (k / 2))`` hops
    away; this averages that over ``s = 1 .. n - 1`` in ``O(n)``.
    """
    _check_ring(node_count, degree)
    half = degree // 2
    offsets = np.arange(1, node_count, dtype=np.int64)
    around = np.minimum(offsets, node_count - offsets)
    return float(((around + half - 1) // half).mean())


def clustering_coefficient(graph: Graph) -> float:
    """Mean local clustering: the fraction of a node's pairs of neighbours that are linked.

    A node of degree below 2 counts 0 (as in networkx's ``average_clustering``).
    Triangles through each node are the diagonal of ``A³`` halved, found as the
    row sums of ``(A @ A) ∘ A`` over blocks of rows so memory stays bounded.

    Notes
    -----
    ``O(Σ deg(v)²)`` time; ``O(n + m)`` memory plus one block of the product.

    Examples
    --------
    >>> triangle_and_tail = Graph.from_edges([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")])
    >>> round(clustering_coefficient(triangle_and_tail), 4)  # (1 + 1 + 1/3 + 0) / 4
    0.5833
    """
    adjacency = graph.adjacency
    degrees = graph.degrees.astype(np.int64)
    closed = np.zeros(graph.node_count, dtype=np.int64)
    for start, stop in _row_blocks(adjacency @ degrees, _TRIANGLE_BLOCK):
        block = adjacency[start:stop]
        closed[start:stop] = (block @ adjacency).multiply(block).sum(axis=1)
    pairs = degrees * (degrees - 1)
    local = np.divide(closed, pairs, out=np.zeros(graph.node_count), where=pairs > 0)
    return float(local.mean())


def _row_blocks(work: IntArray, budget: int) -> Iterator[tuple[int, int]]:
    """Consecutive row ranges whose summed ``work`` stays near ``budget`` (one row at least)."""
    cumulative = np.cumsum(work)
    cuts = np.searchsorted(cumulative, np.arange(budget, int(cumulative[-1]), budget), "right")
    bounds = np.unique(np.concatenate([[0], cuts, [work.size]]))
    yield from zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)


def average_path_length(
    graph: Graph, samples: int | None = None, rng: np.random.Generator | None = None
) -> float:
    """Mean hop distance over ordered pairs of distinct connected nodes.

    Exact (a breadth-first search from every node) when ``samples`` is ``None`` or
    at least the node count; otherwise from ``samples`` distinct sources drawn
    with ``rng``: total distance over total reachable pairs from those sources,
    a ratio estimator that converges to the exact mean.

    Notes
    -----
    One scipy ``breadth_first_order`` per source, ``O(n + m)``, then depths by
    pointer doubling over the search tree in ``O(n log depth)``.

    Examples
    --------
    >>> path = Graph.from_edges([("a", "b"), ("b", "c")])
    >>> average_path_length(path)  # (1 + 2 + 1 + 1 + 2 + 1) / 6
    1.3333333333333333
    """
    node_count = graph.node_count
    if samples is None or samples >= node_count:
        sources = np.arange(node_count)
    elif samples < 1:
        raise InvalidInput.at("samples", f"must be at least 1, got {samples}")
    elif rng is None:
        raise ValueError("sampling sources needs an rng")
    else:
        sources = rng.choice(node_count, size=samples, replace=False)
    total = 0
    pairs = 0
    for source in sources.tolist():
        depths = _bfs_depths(graph, source)
        total += int(depths.sum())
        pairs += depths.size - 1
    if pairs == 0:
        raise InvalidInput.at("graph", "no two nodes are connected, so no path length")
    return total / pairs


def _bfs_depths(graph: Graph, source: int) -> IntArray:
    """Hop distances from ``source`` to every node it reaches, in breadth-first order."""
    order, predecessors = csgraph.breadth_first_order(
        graph.adjacency, source, directed=True, return_predecessors=True
    )
    position = np.empty(graph.node_count, dtype=np.int64)
    position[order] = np.arange(order.size)
    parents = predecessors[order]
    parents[0] = source  # the search tree's root is its own parent
    jump = position[parents]
    span = np.ones(order.size, dtype=np.int64)
    span[0] = 0
    while jump.any():
        span += span[jump]
        jump = jump[jump]
    return span
