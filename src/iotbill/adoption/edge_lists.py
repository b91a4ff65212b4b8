"""Edge-list bytes to a :class:`Graph`, vectorised, with the grammar of :func:`parse_edge_list`.

The grammar is the one :func:`iotbill.adoption.graph.parse_edge_list` reads: one ``u v``
pair per line, separated by whitespace or by one comma (with optional whitespace around
it); ``#`` starts a comment; blank lines are skipped; a repeated edge counts once; a
self-loop is refused. :func:`parse_edge_bytes` reads a file that fits the common case
in a few numpy passes over its bytes:

1. every byte is classed once through a 256-entry table: part of an id, whitespace,
   comma, newline, or *other* (form feeds, a lone carriage return, the separators
   ``str.splitlines`` also breaks at); text beyond ASCII must be UTF-8 without the
   Unicode spaces and line breaks Python's ``str`` knows, and is then part of ids;
2. comments are blanked from each line's first ``#`` to its end;
3. ids are the runs of id bytes; each line must hold none or exactly two, and a comma
   may only stand alone between the two;
4. the ids are factorized by an Arrow dictionary encoding (first appearance order,
   the order :meth:`Graph.from_edges` gives), and the graph is built from the codes.

Whenever a byte is *other*, a line breaks rule 3, or an edge is a self-loop, the bytes
are handed to the exact line-by-line parser instead, which gives the same graph for
text that fits and names every bad line with its number. So the fast path never
decides an error message, and never costs a Python object per line.

>>> g = parse_edge_bytes(b"a b\\n# note\\nb , c  # trailing\\n\\na b\\n")
>>> g.labels, g.edge_count
(('a', 'b', 'c'), 2)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from iotbill.adoption.graph import Graph, parse_edge_list
from iotbill.domain.errors import InvalidInput

#: The characters beyond ASCII that ``str.isspace`` (so ``str.strip`` and the regex ``\\s``)
#: takes for whitespace, some of them line breaks of ``str.splitlines``, in UTF-8.
UNICODE_SPACES = tuple(
    chr(code).encode()
    for code in (0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000)
)

#: Ids of at most this many digits may be read as numbers (below 10**18, within int64).
MAX_DIGITS = 18

_TAB, _NEWLINE, _CARRIAGE_RETURN, _SPACE = 0x09, 0x0A, 0x0D, 0x20
_COMMA, _HASH, _ZERO = ord(","), ord("#"), ord("0")


def parse_edge_bytes(data: bytes, source: str = "edges") -> Graph:
    """Parse an edge list given as UTF-8 bytes; same result and errors as :func:`parse_edge_list`.

    Text that is not UTF-8 is :class:`InvalidInput` at ``source``.
    """
    graph = _fast_parse(data)
    if graph is not None:
        return graph
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidInput.at(source, f"is not UTF-8 text: {error}") from None
    return parse_edge_list(text, source=source)


def _fast_parse(data: bytes) -> Graph | None:
    """The graph of ``data`` when it fits the common case; ``None`` otherwise."""
    raw = np.frombuffer(data, dtype=np.uint8)
    if not _plain_text(data, raw):
        return None
    newlines = np.flatnonzero(raw == _NEWLINE)
    is_id = (raw != _SPACE) & (raw != _TAB) & (raw != _COMMA) & (raw != _CARRIAGE_RETURN)
    is_id[newlines] = False
    hashes = np.flatnonzero(raw == _HASH)
    if hashes.size:
        in_comment = _comments(raw.size, hashes, newlines)
        is_id &= ~in_comment
    starts, ends = _runs(is_id)
    if starts.size == 0 or starts.size % 2:
        return None
    lines = np.searchsorted(newlines, starts)
    first_lines = lines[0::2]
    if (first_lines != lines[1::2]).any() or (np.diff(first_lines) <= 0).any():
        return None
    del lines, first_lines, newlines
    is_comma = raw == _COMMA
    if hashes.size:
        is_comma &= ~in_comment
        del in_comment
    commas = np.flatnonzero(is_comma)
    del is_comma
    if commas.size:
        before = np.searchsorted(starts, commas, side="right")
        if (before % 2 == 0).any() or (np.diff(before) == 0).any():
            return None
    text = raw[is_id]
    del is_id
    factorized = _factorize_numbers(text, raw[starts], ends - starts)
    if factorized is None:
        factorized = _factorize_text(text, ends - starts)
    del text, starts, ends
    codes, labels = factorized
    sources, targets = codes[0::2], codes[1::2]
    if (sources == targets).any():
        return None
    return Graph.from_edge_arrays(len(labels), sources, targets, labels=labels)


def _plain_text(data: bytes, raw: npt.NDArray[np.uint8]) -> bool:
    """Whether ``data`` has only the separators the fast path knows.

    Beyond ASCII it must be UTF-8 without Unicode spaces; below the space only tab,
    newline and a carriage return right before a newline may stand, besides the control
    characters that Python's ``str`` takes for neither whitespace nor a line break.
    """
    if (raw >= 0x80).any():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return False
        if any(space in data for space in UNICODE_SPACES):
            return False
    low = raw[raw < _SPACE]
    if ((low >= 0x0B) & (low <= 0x0D) | (low >= 0x1C) & (low <= 0x1F)).any():
        carriage_returns = np.flatnonzero(raw == _CARRIAGE_RETURN)
        if carriage_returns.size != np.count_nonzero((low >= 0x0B) & (low <= 0x0D) | (low >= 0x1C)):
            return False
        if carriage_returns[-1] + 1 == raw.size:
            return False
        return bool((raw[carriage_returns + 1] == _NEWLINE).all())
    return True


def _comments(
    size: int, hashes: npt.NDArray[np.intp], newlines: npt.NDArray[np.intp]
) -> npt.NDArray[np.bool_]:
    """Which bytes lie in a comment: from a line's first ``#`` up to its newline."""
    line_of_hash = np.searchsorted(newlines, hashes)
    first = np.ones(hashes.size, dtype=np.bool_)
    first[1:] = line_of_hash[1:] != line_of_hash[:-1]
    begins = hashes[first]
    line_of_hash = line_of_hash[first]
    finishes = np.full(begins.size, size, dtype=np.intp)
    has_end = line_of_hash < newlines.size
    finishes[has_end] = newlines[line_of_hash[has_end]]
    inside = np.zeros(size + 1, dtype=np.int8)
    inside[begins] = 1
    inside[finishes] -= 1
    np.cumsum(inside, out=inside)
    return inside[:-1].view(np.bool_)


def _runs(mask: npt.NDArray[np.bool_]) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Starts and (exclusive) ends of the runs of ``True`` in ``mask``."""
    starts = np.flatnonzero(mask[1:] > mask[:-1]) + 1
    ends = np.flatnonzero(mask[:-1] > mask[1:]) + 1
    if mask.size and mask[0]:
        starts = np.concatenate(([0], starts))
    if mask.size and mask[-1]:
        ends = np.concatenate((ends, [mask.size]))
    return starts, ends


def _factorize_numbers(
    text: npt.NDArray[np.uint8], first_bytes: npt.NDArray[np.uint8], lengths: npt.NDArray[np.intp]
) -> tuple[npt.NDArray[np.int64], tuple[str, ...]] | None:
    """Codes and labels when every id is a number written canonically (``0``, ``17``,
    never ``017`` nor ``+17``); ``None`` otherwise.

    A canonical number and its text determine each other, so numbers are factorized in
    place of their text: by a lookup table when they are dense, by a sort otherwise.
    """
    import pyarrow as pa

    if int(lengths.max()) > MAX_DIGITS or ((first_bytes < _ZERO) | (first_bytes > _ZERO + 9)).any():
        return None
    if ((first_bytes == _ZERO) & (lengths > 1)).any():
        return None
    try:
        values = _as_strings(text, lengths).cast(pa.int64()).to_numpy()
    except pa.ArrowInvalid:
        return None
    count = values.size
    largest = int(values.max())
    if largest < 4 * count + 1024:
        first_seen = np.full(largest + 1, count, dtype=np.int64)
        np.minimum.at(first_seen, values, np.arange(count, dtype=np.int64))
        present = np.flatnonzero(first_seen < count)
        distinct = present[np.argsort(first_seen[present], kind="stable")]
        code_of = np.empty(largest + 1, dtype=np.int64)
        code_of[distinct] = np.arange(distinct.size, dtype=np.int64)
        codes = code_of[values]
    else:
        unique, first_index, inverse = np.unique(values, return_index=True, return_inverse=True)
        order = np.argsort(first_index, kind="stable")
        rank = np.empty(order.size, dtype=np.int64)
        rank[order] = np.arange(order.size, dtype=np.int64)
        distinct, codes = unique[order], rank[inverse]
    return codes, tuple(map(str, distinct.tolist()))


def _as_strings(text: npt.NDArray[np.uint8], lengths: npt.NDArray[np.intp]) -> Any:
    """An Arrow string array over ids laid end to end in ``text`` (no copy of the text)."""
    import pyarrow as pa

    offsets = np.zeros(lengths.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return pa.LargeStringArray.from_buffers(lengths.size, pa.py_buffer(offsets), pa.py_buffer(text))


def _factorize_text(
    text: npt.NDArray[np.uint8], lengths: npt.NDArray[np.intp]
) -> tuple[npt.NDArray[np.int64], tuple[str, ...]]:
    """Codes of the ids laid end to end in ``text``, and the distinct ids in first order."""
    encoded = _as_strings(text, lengths).dictionary_encode()
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    return codes, tuple(encoded.dictionary.to_pylist())
