"""Edge-list bytes to a :class:`Graph`, vectorised, with the grammar of :func:`parse_edge_list`.

The grammar is the one :func:`iotbill.adoption.graph.parse_edge_list` reads: one ``u v``
pair per line, separated by whitespace or by one comma (with optional whitespace around
it); ``#`` starts a comment; blank lines are skipped; a repeated edge counts once; a
self-loop is refused. :func:`parse_edge_bytes` reads a file that fits the common case
in a few numpy passes over its bytes:

1. the text must be plain: no byte that Python's ``str`` takes for a line break or for
   whitespace beyond space, tab, newline and a carriage return before a newline (form
   feeds, a lone carriage return, ``\\x1c``-``\\x1f``); beyond ASCII, UTF-8 without the
   Unicode spaces and line breaks ``str`` knows, which is then part of ids. Checked by
   C passes of ``bytes`` methods, and beyond ASCII on the lines holding such bytes only
   (when they are few);
2. an id byte is any byte above the space but a comma (and the control characters
   ``str`` keeps in ids), outside comments, which run from a line's first ``#`` to its end;
3. ids are the runs of id bytes; each line must hold none or exactly two, and a comma
   may only stand alone between the two;
4. ids that are all canonical numbers are factorized as numbers (their order as text
   follows from the numbers); others by an Arrow dictionary encoding. Codes follow first
   appearance, the order :meth:`Graph.from_edges` gives.

Whenever the text is not plain, a line breaks rule 3, or an edge is a self-loop, the bytes
are handed to the exact line-by-line parser instead, which gives the same graph for
text that fits and names every bad line with its number. So the fast path never
decides an error message, and never costs a Python object per line.

>>> g = parse_edge_bytes(b"a b\\n# note\\nb , c  # trailing\\n\\na b\\n")
>>> g.labels, g.edge_count
(('a', 'b', 'c'), 2)
"""

from __future__ import annotations

from dataclasses import dataclass
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
    controls = data.translate(None, _NOT_CONTROLS)  # one C pass; none, as a rule
    if not _plain_text(data, controls):
        return None
    raw = np.frombuffer(data, dtype=np.uint8)
    size = raw.size
    is_id = np.zeros(size + 1, dtype=np.bool_)  # a last byte False: every run ends inside
    np.greater(raw, _SPACE, out=is_id[:size])  # a byte above the space, or a control
    if controls.translate(None, _NOT_IN_IDS):  # character that str keeps in ids
        is_id[:size] |= (raw < _SPACE) & (raw != _TAB) & (raw != _NEWLINE)
        is_id[:size] &= raw != _CARRIAGE_RETURN
    is_newline = raw == _NEWLINE
    comments = _Comments.of(data, raw, is_newline) if b"#" in data else None
    commas = data.count(b",")
    if comments is not None:
        comments.clear(is_id[:size])
        has_commas = commas > 0 and commas != comments.commas  # outside them, or uncounted
    else:
        has_commas = commas > 0
    if has_commas:
        is_id[:size] &= raw != _COMMA
    changes = _changes(is_id)
    starts, ends = changes[0::2], changes[1::2]
    if starts.size == 0 or starts.size % 2:
        return None
    lengths = ends - starts
    if not _two_per_line(changes, lengths, is_newline):
        return None
    del is_newline
    if has_commas and not _commas_between(raw, comments, starts):
        return None
    del comments
    text = raw[is_id[:size]]
    del is_id
    factorized = _factorize_numbers(text, raw[starts], lengths)
    if factorized is None:
        factorized = _factorize_text(text, lengths)
    del text, starts, ends, lengths
    codes, labels, label_order = factorized
    sources, targets = codes[0::2], codes[1::2]
    if (sources == targets).any():
        return None
    return Graph.from_factorized(sources, targets, labels, label_order)


def _all_bytes_but(kept: bytes) -> bytes:
    return bytes(sorted(set(range(256)) - set(kept)))


#: For ``bytes.translate``, which deletes them in one C pass: every byte but those below
#: the space that ``str`` takes for whitespace or a line break (tab, newline and a
#: carriage return before a newline aside), and every byte but the other controls.
_NOT_BREAKS = _all_bytes_but(b"\x0b\x0c\r\x1c\x1d\x1e\x1f")
_NOT_IN_IDS = _all_bytes_but(bytes(range(0x00, 0x09)) + bytes(range(0x0E, 0x1C)))


def _plain_text(data: bytes, controls: bytes) -> bool:
    """Whether ``data`` has only the separators the fast path knows (``controls``: its
    control characters but tab and newline, in order).

    Beyond ASCII it must be UTF-8 without Unicode spaces; below the space only tab,
    newline and a carriage return right before a newline may stand, besides the control
    characters that Python's ``str`` takes for neither whitespace nor a line break.
    """
    if not data.isascii() and not _plain_beyond_ascii(data):
        return False
    if not controls:
        return True
    breaks = controls.translate(None, _NOT_BREAKS)
    return not breaks.strip(b"\r") and data.count(b"\r") == data.count(b"\r\n")


#: For ``bytes.translate``: every byte but the controls other than tab and newline.
_NOT_CONTROLS = _all_bytes_but(bytes(range(0x00, 0x09)) + bytes(range(0x0B, 0x20)))
#: :data:`UNICODE_SPACES` as characters.
_SPACE_CHARACTERS = frozenset(space.decode() for space in UNICODE_SPACES)
#: Up to this many bytes beyond ASCII, only the lines holding them are decoded and
#: searched; beyond, the whole text is.
_FEW_BEYOND_ASCII = 4096


def _plain_beyond_ascii(data: bytes) -> bool:
    """Whether ``data``, which is not ASCII, is UTF-8 without :data:`UNICODE_SPACES`.

    ASCII bytes are UTF-8 whatever stands around them, so where only a few bytes lie
    beyond ASCII (a heading comment's dash, a few ids), only the lines that hold them
    are decoded and searched: decoding all of a 69 MB edge list and searching it once
    per space took over a second.

    >>> _plain_beyond_ascii("1 2\\n# ids – numbers\\n".encode())
    True
    >>> _plain_beyond_ascii("a\\u3000b c\\n".encode()), _plain_beyond_ascii(b"a\\xff b\\n")
    (False, False)
    """
    beyond = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) >= 0x80)
    if beyond.size > _FEW_BEYOND_ASCII:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return not any(space in data for space in UNICODE_SPACES)
    line_end = -1
    for at in beyond.tolist():
        if at < line_end:
            continue  # on a line read already
        line_start = data.rfind(b"\n", 0, at) + 1
        line_end = data.find(b"\n", at)
        if line_end < 0:
            line_end = len(data)
        try:
            line = data[line_start:line_end].decode("utf-8")
        except UnicodeDecodeError:
            return False
        if not _SPACE_CHARACTERS.isdisjoint(line):
            return False
    return True


def _two_per_line(
    changes: npt.NDArray[np.intp], lengths: npt.NDArray[np.intp], is_newline: npt.NDArray[np.bool_]
) -> bool:
    """Whether ids come two to a line: the two of a pair on one line, each pair on its own.

    ``changes`` are the ids' starts and ends in turn (:func:`_changes`), ``lengths`` the
    ids' lengths. Where one byte stands between every two ids (as usual), that byte is
    the newline or not; else the newlines of every stretch between them are counted in
    one pass over the bytes (a search of the line of each id took twice as long). None
    may stand between the two ids of a pair, one at least between a pair and the next.
    """
    after = changes[1:-1:2]  # where each id but the last ends
    between = int(changes[-2]) - int(changes[1]) - int(lengths[1:-1].sum())
    if between == lengths.size - 1:  # each stretch is a byte at least, so each is one
        newline_after = is_newline[after]
        return not (newline_after[0::2].any() or not newline_after[1::2].all())
    # The last end left out: the last stretch then runs to the end of the text, and
    # every index is within it (an id may end the text).
    counts = np.add.reduceat(is_newline, changes[:-1], dtype=np.int32)
    gaps = counts[1::2]  # the newlines after each id but the last
    return not (gaps[0::2].any() or (gaps[1::2] == 0).any())


def _commas_between(
    raw: npt.NDArray[np.uint8],
    comments: _Comments | None,
    starts: npt.NDArray[np.intp],
) -> bool:
    """Whether every comma outside comments stands alone between the two ids of a line."""
    is_comma = raw == _COMMA
    if comments is not None:
        comments.clear(is_comma)
    commas = np.flatnonzero(is_comma)
    del is_comma
    before = np.searchsorted(starts, commas, side="right")  # ids that start before each
    return not ((before % 2 == 0).any() or (np.diff(before) == 0).any())


#: Up to this many hashes, comments are followed one by one; more, by a running sum.
_FEW_COMMENTS = 1024


@dataclass(frozen=True, slots=True)
class _Comments:
    """Where the comments of a text lie, each from a line's first ``#`` up to its newline:
    a few as spans (a heading, a few notes: followed one by one to their line's end, no
    pass over every byte), many as a mask of the bytes; and how many commas they hold
    (``None`` when many: not counted)."""

    spans: list[tuple[int, int]]
    mask: npt.NDArray[np.bool_] | None
    commas: int | None

    @classmethod
    def of(
        cls, data: bytes, raw: npt.NDArray[np.uint8], is_newline: npt.NDArray[np.bool_]
    ) -> _Comments:
        if data.count(b"#") <= _FEW_COMMENTS:
            spans = []
            begin = data.find(b"#")
            while begin >= 0:
                finish = data.find(b"\n", begin)
                finish = len(data) if finish < 0 else finish
                spans.append((begin, finish))
                begin = data.find(b"#", finish)
            return cls(spans, None, sum(data.count(b",", *span) for span in spans))
        hashes = np.flatnonzero(raw == _HASH)
        breaks = np.flatnonzero(is_newline)
        line_of_hash = np.searchsorted(breaks, hashes)
        first = np.ones(hashes.size, dtype=np.bool_)
        first[1:] = line_of_hash[1:] != line_of_hash[:-1]
        begins = hashes[first]
        line_of_hash = line_of_hash[first]
        finishes = np.full(begins.size, raw.size, dtype=np.intp)
        has_end = line_of_hash < breaks.size
        finishes[has_end] = breaks[line_of_hash[has_end]]
        inside = np.zeros(raw.size + 1, dtype=np.int8)
        inside[begins] = 1
        inside[finishes] -= 1
        np.cumsum(inside, out=inside)
        return cls([], inside[:-1].view(np.bool_), None)

    def clear(self, mask: npt.NDArray[np.bool_]) -> None:
        """Set ``mask`` (one flag per byte) ``False`` inside the comments."""
        if self.mask is None:
            for begin, finish in self.spans:
                mask[begin:finish] = False
        else:
            np.greater(mask, self.mask, out=mask)  # and not: no array of ~mask


def _changes(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.intp]:
    """Where the runs of ``True`` in ``mask`` start and (exclusive) end, in turn: its last
    element is ``False``, so every run ends, and the changes alternate."""
    changes = np.flatnonzero(mask[1:] != mask[:-1])
    changes += 1  # in place: a second array of every change cost as much as finding them
    if mask[0]:
        changes = np.concatenate(([0], changes))
    return changes


Factorized = tuple[npt.NDArray[np.int64], tuple[str, ...], npt.NDArray[np.intp] | None]
"""Each id's code, the distinct ids in order of first appearance, and (when known) the
codes in the order of their ids sorted as text."""


def _factorize_numbers(
    text: npt.NDArray[np.uint8], first_bytes: npt.NDArray[np.uint8], lengths: npt.NDArray[np.intp]
) -> Factorized | None:
    """Codes, labels and their order as text when every id is a number written
    canonically (``0``, ``17``, never ``017`` nor ``+17``); ``None`` otherwise.

    A canonical number and its text determine each other, so numbers are factorized in
    place of their text: by a lookup table when they are dense, by a sort otherwise.
    Their order as text is their order once each is padded with zeros on the right to
    the longest one's digits, a shorter first on a tie (``1 < 10 < 100 < 2``).
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
        firsts = first_seen[first_seen < count]  # where each value first stands
        firsts.sort()  # in the order of appearance (sorted in place: an argsort took twice as long)
        distinct = values[firsts]
        code_of = np.empty(largest + 1, dtype=np.int64)
        code_of[distinct] = np.arange(distinct.size, dtype=np.int64)
        codes = code_of[values]
    else:
        unique, first_index, inverse = np.unique(values, return_index=True, return_inverse=True)
        order = np.argsort(first_index, kind="stable")
        rank = np.empty(order.size, dtype=np.int64)
        rank[order] = np.arange(order.size, dtype=np.int64)
        distinct, codes = unique[order], rank[inverse]
    digits = np.searchsorted(_POWERS_OF_TEN, distinct, side="right") + 1
    longest = int(digits.max())
    padded = distinct * _POWERS_OF_TEN[longest - digits]
    if longest < MAX_DIGITS:  # room below 2^63 for the digits in the low five bits
        text_order = np.argsort(padded * 32 + digits)
    else:
        text_order = np.lexsort((digits, padded))
    return codes, tuple(map(str, distinct.tolist())), text_order


_POWERS_OF_TEN = 10 ** np.arange(MAX_DIGITS + 1, dtype=np.int64)


def _as_strings(text: npt.NDArray[np.uint8], lengths: npt.NDArray[np.intp]) -> Any:
    """An Arrow string array over ids laid end to end in ``text`` (no copy of the text)."""
    import pyarrow as pa

    offsets = np.zeros(lengths.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return pa.LargeStringArray.from_buffers(lengths.size, pa.py_buffer(offsets), pa.py_buffer(text))


def _factorize_text(text: npt.NDArray[np.uint8], lengths: npt.NDArray[np.intp]) -> Factorized:
    """Codes of the ids laid end to end in ``text``, and the distinct ids in first order."""
    encoded = _as_strings(text, lengths).dictionary_encode()
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    return codes, tuple(encoded.dictionary.to_pylist()), None
