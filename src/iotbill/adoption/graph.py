"""The undirected graph that every adoption model runs on.

A :class:`Graph` is a symmetric ``scipy.sparse`` CSR adjacency with ``int32``
indices, sorted, no self-loops and no duplicate edges, plus ``labels``: the id
string of each node index. Build one from pairs of ids (:meth:`Graph.from_edges`),
from integer endpoint arrays (:meth:`Graph.from_edge_arrays`, the fast path for
generators), from a networkx graph or from a scipy sparse adjacency; parse edge-list
text with :func:`parse_edge_list`. Reading files is the caller's business: this
module does no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from iotbill.domain.errors import InvalidInput, ProblemCollector

IndexArray = npt.NDArray[np.int32]

_SEPARATOR = re.compile(r"\s*,\s*|\s+")


@dataclass(frozen=True, eq=False)
class Graph:
    """An undirected simple graph: symmetric CSR adjacency and node labels.

    Parameters
    ----------
    adjacency
        ``scipy.sparse.csr_array`` of shape ``(n, n)``, symmetric, entries 1,
        ``int32`` sorted indices, empty diagonal. Use the constructors, which
        guarantee this; the initialiser only checks the shape.
    labels
        ``labels[i]`` is the id string of node ``i``; all distinct.
    label_order
        Optionally, the node indices in the order of their labels sorted as text, when
        the builder knows it cheaply (computed on first use otherwise).

    Examples
    --------
    >>> g = Graph.from_edges([("a", "b"), ("b", "c"), ("b", "a")])
    >>> g.node_count, g.edge_count, g.degrees.tolist()
    (3, 2, [1, 2, 1])
    >>> g.index_of(["c", "a"]).tolist()
    [2, 0]
    """

    adjacency: Any
    labels: tuple[str, ...]
    label_order: npt.NDArray[np.intp] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        n = len(self.labels)
        if n == 0:
            raise InvalidInput("the graph is empty: it has no nodes")
        if self.adjacency.shape != (n, n):
            raise ValueError(f"adjacency of shape {self.adjacency.shape} for {n} labels")

    @property
    def node_count(self) -> int:
        return len(self.labels)

    @property
    def edge_count(self) -> int:
        return int(self.adjacency.nnz) // 2

    @property
    def indptr(self) -> IndexArray:
        """CSR row pointers: the neighbours of ``i`` are ``indices[indptr[i]:indptr[i+1]]``."""
        return self.adjacency.indptr  # type: ignore[no-any-return]

    @property
    def indices(self) -> IndexArray:
        """CSR column indices, sorted within each row."""
        return self.adjacency.indices  # type: ignore[no-any-return]

    @cached_property
    def degrees(self) -> IndexArray:
        """Number of neighbours of each node."""
        return np.diff(self.indptr).astype(np.int32)

    @cached_property
    def _position(self) -> dict[str, int]:
        return {label: i for i, label in enumerate(self.labels)}

    def index_of(self, ids: Iterable[str], location: str = "nodes") -> npt.NDArray[np.int64]:
        """Node indices of ``ids``, in order.

        Unknown ids raise :class:`InvalidInput` at ``location``, naming every one.
        """
        wanted = list(ids)
        if len(wanted) * 64 < self.node_count:  # a few ids: bisect the sorted labels
            found = self._bisect(wanted)
        else:
            position = self._position
            found = [position.get(i, -1) for i in wanted]
        unknown = sorted({i for i, at in zip(wanted, found, strict=True) if at < 0})
        if unknown:
            raise InvalidInput.at(location, f"unknown node id(s): {', '.join(unknown)}")
        return np.array(found, dtype=np.int64)

    def _bisect(self, wanted: list[str]) -> list[int]:
        """Indices of ``wanted`` found by bisection in the sorted labels (-1 when unknown)."""
        sorted_labels = self._sorted_labels
        places = np.searchsorted(sorted_labels, np.array(wanted, dtype=object))
        found = []
        for label, place in zip(wanted, places.tolist(), strict=True):
            hit = place < self.node_count and sorted_labels[place] == label
            found.append(int(self._text_order[place]) if hit else -1)
        return found

    def ids_of(self, indices: Iterable[int]) -> list[str]:
        """Labels of node ``indices``, in the order given."""
        return [self.labels[int(i)] for i in indices]

    @cached_property
    def _text_order(self) -> npt.NDArray[np.int64]:
        """Node indices in the order of their labels sorted as text."""
        if self.label_order is not None:
            return self.label_order.astype(np.int64, copy=False)
        import pyarrow as pa
        import pyarrow.compute as pc

        # UTF-8 bytes sort as the code points that ``sorted`` compares.
        labels = pa.array(self.labels, type=pa.large_string())
        return pc.array_sort_indices(labels).to_numpy().astype(np.int64)  # type: ignore[no-any-return]

    @cached_property
    def _sorted_labels(self) -> npt.NDArray[np.object_]:
        return np.array(self.labels, dtype=object)[self._text_order]

    @cached_property
    def _label_rank(self) -> npt.NDArray[np.int64]:
        """``_label_rank[i]`` is the place of ``labels[i]`` among the labels sorted as text."""
        rank = np.empty(self.node_count, dtype=np.int64)
        rank[self._text_order] = np.arange(self.node_count, dtype=np.int64)
        return rank

    def sorted_ids(self, indices: npt.ArrayLike) -> list[str]:
        """Labels of node ``indices`` sorted as text, ``sorted(self.ids_of(indices))``,
        from precomputed ranks instead of comparing strings.

        >>> Graph.from_edges([("b", "a10"), ("a10", "a9")]).sorted_ids([2, 0, 1])
        ['a10', 'a9', 'b']
        """
        ranks = self._label_rank[np.asarray(indices, dtype=np.int64).ravel()]
        chosen = np.zeros(self.node_count, dtype=np.bool_)
        chosen[ranks] = True
        if np.count_nonzero(chosen) == ranks.size:  # distinct: one pass, no sort
            return self._sorted_labels[chosen].tolist()  # type: ignore[no-any-return]
        return self._sorted_labels[np.sort(ranks)].tolist()  # type: ignore[no-any-return]

    @classmethod
    def from_edge_arrays(
        cls,
        node_count: int,
        sources: npt.ArrayLike,
        targets: npt.ArrayLike,
        labels: Sequence[str] | None = None,
    ) -> Graph:
        """Build from integer endpoints: edge ``e`` joins ``sources[e]`` and ``targets[e]``.

        Repeated edges (in either direction) count once; a self-loop or an endpoint
        outside ``[0, node_count)`` is :class:`InvalidInput`. Nodes without edges are
        kept. ``labels`` defaults to ``"0"``, ``"1"``, ... Runs in ``O(m + n)`` numpy time.
        """
        u = np.asarray(sources).ravel()
        v = np.asarray(targets).ravel()
        if u.shape != v.shape:
            raise ValueError("sources and targets differ in length")
        if u.size and not (
            np.issubdtype(u.dtype, np.integer) and np.issubdtype(v.dtype, np.integer)
        ):
            raise TypeError("edge endpoints must be integer node indices")
        if node_count <= 0:
            raise InvalidInput("the graph is empty: it has no nodes")
        if u.size and (min(u.min(), v.min()) < 0 or max(u.max(), v.max()) >= node_count):
            raise InvalidInput.at("edges", f"an endpoint is outside 0..{node_count - 1}")
        loops = u == v
        if loops.any():
            first = int(u[np.argmax(loops)])
            name = labels[first] if labels is not None else str(first)
            raise InvalidInput.at("edges", f"self-loop at node {name}")
        names = tuple(labels) if labels is not None else tuple(map(str, range(node_count)))
        if len(set(names)) != len(names):
            raise InvalidInput.at("labels", "node ids must be distinct")
        return cls(_symmetric_adjacency(node_count, u, v), names)

    @classmethod
    def from_factorized(
        cls,
        sources: npt.NDArray[np.integer[Any]],
        targets: npt.NDArray[np.integer[Any]],
        labels: tuple[str, ...],
        label_order: npt.NDArray[np.intp] | None = None,
    ) -> Graph:
        """Build from the codes of a factorization of the ids, as a parser makes them.

        The caller guarantees what :meth:`from_edge_arrays` checks: ``labels`` are
        distinct, every code indexes them, and no edge joins a node to itself; this
        saves a set of every label and three passes over the edges on a file of
        millions. ``label_order``, when given, is the order of ``labels`` sorted as text.
        """
        if not labels:
            raise InvalidInput("the graph is empty: it has no nodes")
        adjacency = _symmetric_adjacency(len(labels), sources, targets)
        return cls(adjacency, labels, label_order)

    @classmethod
    def from_edges(cls, edges: Iterable[tuple[str, str]], nodes: Iterable[str] = ()) -> Graph:
        """Build from pairs of ids; ``nodes`` adds ids that may have no edge.

        Node indices follow first appearance (``nodes`` first, then the edges).
        """
        position: dict[str, int] = {}
        for node in nodes:
            position.setdefault(node, len(position))
        sources: list[int] = []
        targets: list[int] = []
        for u, v in edges:
            sources.append(position.setdefault(u, len(position)))
            targets.append(position.setdefault(v, len(position)))
        return cls.from_edge_arrays(len(position), sources, targets, labels=list(position))

    @classmethod
    def from_networkx(cls, graph: Any) -> Graph:
        """Build from an undirected networkx graph; node ids become ``str(node)``."""
        if graph.is_directed():
            raise InvalidInput("the graph must be undirected")
        nodes: list[Hashable] = list(graph.nodes)
        labels = [str(node) for node in nodes]
        if len(set(labels)) != len(labels):
            raise InvalidInput.at("labels", "two nodes have the same id as text")
        position = {node: i for i, node in enumerate(nodes)}
        pairs = [(position[u], position[v]) for u, v in graph.edges()]
        sources = [u for u, _ in pairs]
        targets = [v for _, v in pairs]
        return cls.from_edge_arrays(len(nodes), sources, targets, labels=labels)

    @classmethod
    def from_sparse(cls, adjacency: Any, labels: Sequence[str] | None = None) -> Graph:
        """Build from a square scipy sparse adjacency: each non-zero entry is an edge.

        The pattern of non-zeros must be symmetric with an empty diagonal.
        """
        matrix = sp.csr_array(adjacency)
        matrix.eliminate_zeros()
        rows, cols = matrix.shape
        if rows != cols:
            raise InvalidInput.at("adjacency", f"must be square, got {rows} x {cols}")
        pattern = matrix != 0
        if (pattern != pattern.T).nnz:
            raise InvalidInput.at("adjacency", "must be symmetric (an undirected graph)")
        coo = sp.triu(pattern, k=0).tocoo()
        return cls.from_edge_arrays(rows, coo.row, coo.col, labels=labels)


def _symmetric_adjacency(
    node_count: int, u: npt.NDArray[np.integer[Any]], v: npt.NDArray[np.integer[Any]]
) -> Any:
    """The symmetric CSR adjacency of the edges ``u[e] - v[e]``: entries 1, int32 sorted
    indices, repeats (in either direction) counted once."""
    rows = np.empty(2 * u.size, dtype=np.int32)
    cols = np.empty(2 * u.size, dtype=np.int32)
    rows[: u.size] = cols[u.size :] = u
    rows[u.size :] = cols[: u.size] = v
    ones = np.ones(rows.size, dtype=np.int32)
    adjacency = sp.csr_array((ones, (rows, cols)), shape=(node_count, node_count))
    adjacency.sum_duplicates()
    adjacency.data[:] = 1
    adjacency.indices = adjacency.indices.astype(np.int32, copy=False)
    adjacency.indptr = adjacency.indptr.astype(np.int32, copy=False)
    return adjacency


def parse_edge_list(text: str, source: str = "edges") -> Graph:
    """Parse an edge list: one ``u v`` pair per line, whitespace or comma separated.

    ``#`` starts a comment; blank lines are skipped; a repeated edge counts once.
    Every malformed line and self-loop is reported at once as :class:`InvalidInput`
    located ``source:line``; a text with no edge is an empty graph, also invalid.

    >>> parse_edge_list("a b\\n# note\\nb,c\\n\\na b\\n").edge_count
    2
    """
    problems = ProblemCollector()
    edges: list[tuple[str, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        content = line.split("#", 1)[0].strip()
        if not content:
            continue
        fields = _SEPARATOR.split(content)
        if len(fields) != 2 or not all(fields):
            problems.add(f"{source}:{number}", f"expected two node ids 'u v', got {content!r}")
        elif fields[0] == fields[1]:
            problems.add(f"{source}:{number}", f"self-loop at node {fields[0]}")
        else:
            edges.append((fields[0], fields[1]))
    problems.raise_if_any()
    if not edges:
        raise InvalidInput.at(source, "the graph is empty: no edges found")
    return Graph.from_edges(edges)
