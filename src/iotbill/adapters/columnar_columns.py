"""Arrow text columns checked, told apart and ordered in bulk, for the columnar reader of
event files (:mod:`iotbill.adapters.columnar_events`): ids and types within their limits,
timestamps under one grammar and in the rules' range, ids all different, and rows in
``(timestamp, id)`` order, each without a Python object per row."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from iotbill.domain.event_table import Rows
from iotbill.domain.input_rules import EARLIEST, ID_LIMITS, LATEST
from iotbill.domain.periods import to_micros

TIMESTAMP = (
    r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    r"(\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)
"""The timestamps the columnar path reads: RFC 3339 with ``T``, at most six fractional
digits, ``Z`` or an offset; any other form (which the exact decoder may accept or
refuse) takes the exact path."""

_ID_LIMIT = ID_LIMITS["event"]
_EARLIEST, _LATEST = to_micros(EARLIEST), to_micros(LATEST)


def within_limit(column: pa.StringArray | pa.ChunkedArray) -> bool:
    """Whether every text of ``column`` has 1 to :data:`_ID_LIMIT` characters (counted in
    bytes first: only a text of more bytes than the limit may have too many characters)."""
    sizes = pc.min_max(pc.binary_length(column)).as_py()
    if sizes["min"] is None:  # no text at all (a piece of white space: rows != lines)
        return True
    if sizes["min"] < 1:
        return False
    longest: int = sizes["max"]
    if longest > _ID_LIMIT:
        longest = pc.max(pc.utf8_length(column)).as_py()
    return longest <= _ID_LIMIT


_SHAPE = np.frombuffer(b"0000-00-00T00:00:00", dtype=np.uint8)
_DIGITS = [byte == ord("0") for byte in b"0000-00-00T00:00:00"]
_ZULU_LOW = np.frombuffer(b"0000-00-00T00:00:00Z", dtype=np.uint8)
_ZULU_HIGH = np.frombuffer(b"9999-99-99T99:99:99Z", dtype=np.uint8)


def timestamps_of(column: pa.ChunkedArray) -> npt.NDArray[np.int64] | None:
    """Microseconds since the epoch of each timestamp; ``None`` unless every one matches
    :data:`TIMESTAMP` and lies within the rules' range.

    The usual forms (``...SSZ`` and ``...SS+HH:MM``) are checked byte by byte in numpy;
    any other is left to the regular expression.
    """
    unusual = np.flatnonzero(~np.concatenate([usual_forms(chunk) for chunk in column.chunks]))
    if unusual.size:
        others = column.take(int64s(unusual))
        if not pc.all(pc.match_substring_regex(others, TIMESTAMP)).as_py():
            return None
    try:
        stamps = pc.cast(column, pa.timestamp("us", tz="UTC")).cast(pa.int64())
    except (pa.ArrowException, ValueError):
        return None
    micros: npt.NDArray[np.int64] = stamps.to_numpy().astype(np.int64, copy=False)
    if micros.size and (micros.min() < _EARLIEST or micros.max() >= _LATEST):
        return None
    return micros


def usual_forms(chunk: pa.StringArray) -> npt.NDArray[np.bool_]:
    """Which texts of ``chunk`` are ``YYYY-MM-DDTHH:MM:SSZ`` or ``...SS+HH:MM`` (or ``-``),
    with an offset of less than 24 hours."""
    offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int32)
    offsets = offsets[chunk.offset : chunk.offset + len(chunk) + 1]
    data = np.frombuffer(chunk.buffers()[2], dtype=np.uint8)
    starts, lengths = offsets[:-1], np.diff(offsets)
    zulu, with_offset = lengths == 20, lengths == 25
    if len(chunk) and bool(zulu.all()):  # all ``...SSZ``, one after another: one test
        written = data[starts[0] : starts[0] + 20 * len(chunk)].reshape(-1, 20)
        if bool(((written >= _ZULU_LOW) & (written <= _ZULU_HIGH)).all()):
            return np.ones(len(chunk), dtype=bool)
    usual = zulu | with_offset
    chosen = starts[usual]
    fits = np.ones(chosen.size, dtype=bool)
    for position in range(_SHAPE.size):
        found = data[chosen + position]
        if _DIGITS[position]:
            fits &= (found >= 0x30) & (found <= 0x39)
        else:
            fits &= found == _SHAPE[position]
    sign = data[chosen + 19]
    is_zulu = zulu[usual]
    fits &= np.where(is_zulu, sign == ord("Z"), (sign == ord("+")) | (sign == ord("-")))
    if bool((~is_zulu).any()):
        at = chosen[~is_zulu] + 20  # HH:MM after the sign
        written = data[at[:, None] + np.arange(5)].astype(np.int64)
        digits = (written >= 0x30) & (written <= 0x39)
        shaped = digits[:, 0] & digits[:, 1] & (written[:, 2] == ord(":"))
        shaped &= digits[:, 3] & digits[:, 4]
        hours = (written[:, 0] - 0x30) * 10 + written[:, 1] - 0x30
        minutes = (written[:, 3] - 0x30) * 10 + written[:, 4] - 0x30
        fits[~is_zulu] &= shaped & (hours < 24) & (minutes < 60)
    result = np.zeros(len(chunk), dtype=bool)
    result[np.flatnonzero(usual)[fits]] = True
    return result


def int64s(values: npt.NDArray[np.int64] | Rows) -> pa.Int64Array:
    """``values`` as an Arrow array, sharing their memory (``pa.array`` would copy them,
    after importing ``numpy.ma`` to ask whether they are masked)."""
    values = np.ascontiguousarray(values, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), values.size, [None, pa.py_buffer(values)])


FINGERPRINT_ROWS = 4096
"""Ids fingerprinted at a time: a block of ids padded to whole 64-bit words stays small."""
_MIX = np.uint64(0x9E3779B97F4A7C15)
_SHIFT = np.uint64(29)


def all_different(
    ids: pa.StringArray | pa.ChunkedArray,
    fingerprints: npt.NDArray[np.uint64] | None = None,
) -> bool:
    """Whether no two of ``ids`` are equal (``fingerprints`` theirs, if taken already).

    Each id gets a 64-bit fingerprint of its bytes and its length; the fingerprints
    are sorted, and only ids whose fingerprints meet (equal ids, or rarely a
    collision) are compared as text. No hash table of a million texts is built.
    """
    if len(ids) < 2:
        return True
    if fingerprints is None:
        chunks = ids.chunks if isinstance(ids, pa.ChunkedArray) else [ids]
        fingerprints = np.concatenate([fingerprints_of(chunk) for chunk in chunks])
    ordered = np.sort(fingerprints)
    meeting = ordered[1:] == ordered[:-1]
    if not bool(meeting.any()):
        return True
    suspects = np.isin(fingerprints, ordered[1:][meeting])
    texts = ids.take(int64s(np.flatnonzero(suspects))).to_pylist()
    return len(set(texts)) == len(texts)


def fingerprints_of(chunk: pa.StringArray) -> npt.NDArray[np.uint64]:
    """A 64-bit fingerprint of each text of ``chunk``: equal texts have equal ones."""
    offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int32)
    offsets = offsets[chunk.offset : chunk.offset + len(chunk) + 1]
    data = np.frombuffer(chunk.buffers()[2], dtype=np.uint8)
    lengths = offsets[1:] - offsets[:-1]
    found = np.empty(len(chunk), dtype=np.uint64)
    for begin in range(0, len(chunk), FINGERPRINT_ROWS):
        block = slice(begin, begin + FINGERPRINT_ROWS)
        starts, sizes = offsets[:-1][block], lengths[block]
        width = int(sizes.max())
        padded = np.zeros((sizes.size, (width + 7) // 8 * 8), dtype=np.uint8)
        uniform = int(sizes.min()) == width
        if uniform:  # (as with UUIDs): the texts lie one after the other
            first = int(starts[0])
            padded[:, :width] = data[first : first + sizes.size * width].reshape(-1, width)
        else:  # byte j of each text, zero past its end (the length, mixed in, tells)
            for j in range(width):
                within = sizes > j
                padded[within, j] = data[starts[within] + j]
        mixed = sizes.astype(np.uint64)
        for index, word in enumerate(padded.view(np.uint64).T):
            stepped = (mixed ^ word) * _MIX
            stepped ^= stepped >> _SHIFT
            # Only the words a text has: its fingerprint is the same in any block.
            mixed = stepped if uniform else np.where(sizes > 8 * index, stepped, mixed)
        found[block] = mixed
    return found


def by_time_then_id(
    timestamps: npt.NDArray[np.int64], ids: pa.StringArray | pa.ChunkedArray
) -> Rows:
    """The rows in ``(timestamp, id)`` order: a numpy sort of the timestamps, then the
    rows that share a timestamp with another sorted again, with their ids."""
    order, ordered = sorted_with_positions(timestamps)
    tied = ordered[1:] == ordered[:-1]
    if not bool(tied.any()):
        return order
    in_tie = np.zeros(order.size, dtype=bool)
    in_tie[1:] |= tied
    in_tie[:-1] |= tied
    places = np.flatnonzero(in_tie)
    rows = order[places]
    ties = pa.table({"at": int64s(ordered[places]), "id": ids.take(int64s(rows))})
    again = pc.sort_indices(ties, sort_keys=[("at", "ascending"), ("id", "ascending")])
    order[places] = rows[again.to_numpy()]
    return order


def sorted_with_positions(
    values: npt.NDArray[np.int64],
) -> tuple[Rows, npt.NDArray[np.int64]]:
    """The positions that sort ``values`` (equal values in the order of their positions),
    and the sorted values.

    Where the span of the values and the positions fit in 64 bits together, each value
    is packed above its position and one sort of plain integers finds both (about
    twice as fast as an argsort).
    """
    if values.size == 0:
        return np.empty(0, dtype=np.intp), values
    low = int(values.min())
    position_bits = max(int(values.size - 1).bit_length(), 1)
    if (int(values.max()) - low).bit_length() + position_bits > 63:
        order = np.argsort(values, kind="stable").astype(np.intp, copy=False)
        return order, values[order]
    packed = (values - low) << position_bits
    packed |= np.arange(values.size, dtype=np.int64)
    packed.sort()
    order = (packed & ((1 << position_bits) - 1)).astype(np.intp, copy=False)
    packed >>= position_bits
    packed += low
    return order, packed
