"""A JSON Lines file of usage events read straight into columns, when that is provably exact.

:func:`~iotbill.adapters.event_files.read_event_table` decodes one object per event
and checks each against the rules of :mod:`iotbill.domain.input_rules`. For a file of
millions of events, most of its time is then spent on those objects. This reader
decodes the file with pyarrow's JSON reader into columns instead (numbers that meters
read as ``decimal128(19, 9)``, so exact; timestamps as text, parsed under a grammar of
their own) and builds the :class:`~iotbill.domain.event_table.EventTable` from them
without making a single event.

It takes this path only where it provably gives what the exact reader gives, and
otherwise returns ``None``: the caller then reads the file the exact way, which also
finds and reports, line by line, whatever is wrong. The proof rests on counts taken
over the raw bytes, compared with what pyarrow decoded:

* Every key is written ``"name":`` (no quote of the file is followed by white space),
  so the occurrences of ``":`` are at least the keys written, which are at least the
  keys pyarrow decoded with a value (an event's fields and its properties'). If the
  two totals are equal, every line's are: no key is named twice, none is ``null``,
  no property nests another object, and no string holds ``":``.
* With no backslash in the file, each key and each string value is written with two
  quotes and nothing else has any; so if the file's quotes are twice its keys and its
  decoded strings, no number a meter reads was written as a string (pyarrow's
  decimal reader would take ``"2.5"``, which the rules refuse).
* One event on every line: as many rows as lines, no blank line, no byte below
  0x20 but the line ends, valid UTF-8, no ``NaN`` or ``Infinity`` (which pyarrow's
  parser may accept and JSON does not), no line longer than a :data:`PIECE`.
* No key longer than :data:`~iotbill.domain.events.MAX_PROPERTY_NAME` bytes: pyarrow
  leaves out the properties no meter reads, and the rules refuse a name of more
  characters among them (a longer key of fewer characters takes the exact path too).
  Only the pieces with a line longer than that are searched for one.

The file is read once, a piece of whole lines at a time: pyarrow decodes a piece on
its threads while the next piece's bytes are counted here.
* Every id unique, no event correcting or voiding another (those take the exact
  path, which reports duplicates and conflicts and follows the chains), every id,
  type and device of 1 to 256 characters, every timestamp matching
  :data:`TIMESTAMP` and within the rules' range, every number within the 64-bit
  nano-unit range, every key a meter reads a text, an integer or a boolean.

The tests check this reader against the exact one on generated files, good and bad.
"""

from __future__ import annotations

import codecs
import io
import itertools
import os
import re
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import overload

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from iotbill.domain.catalog import Plan
from iotbill.domain.event_table import (
    MISSING_VALUE,
    EventTable,
    KeyColumn,
    NumberColumn,
    Rows,
    json_key,
    json_label,
    key_column,
    number_column,
)
from iotbill.domain.events import MAX_PROPERTY_NAME, UsageEvent
from iotbill.domain.input_rules import EARLIEST, ID_LIMITS, LATEST
from iotbill.domain.metering import PropertyKind
from iotbill.domain.periods import to_micros

TIMESTAMP = (
    r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    r"(\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)
"""The timestamps the columnar path reads: RFC 3339 with ``T``, at most six fractional
digits, ``Z`` or an offset; any other form (which the exact decoder may accept or
refuse) takes the exact path."""
PIECE = 8 * 1024 * 1024
"""Bytes of the file read at a time, cut at its last line end (a longer line takes the
exact path): pyarrow decodes a piece on its own threads while this module counts the
bytes of the next piece and checks the columns of the one before."""
CHUNK = 256 * 1024
"""Bytes counted at a time (see :func:`_fits`, which writes its masks into one scratch
array: no chunk maps and unmaps memory, and few chunks mean few calls)."""
BLOCK = 1024 * 1024
"""Bytes pyarrow decodes at a time, on one of its threads: small blocks keep its
buffers few and warm (larger ones cost memory and page faults, and decode no faster)."""
_FIELDS = ("id", "type", "device", "timestamp", "properties", "corrects", "voids")
_TEXT_FIELDS = ("id", "type", "device", "timestamp")
_ID_LIMIT = ID_LIMITS["event"]
_LONG_KEY = re.compile(rb'"[^"\n]{%d,}":' % (MAX_PROPERTY_NAME + 1))
"""A key of more bytes than a property's name may have characters (with no backslash in
the file, a key is its quotes, what they hold and a colon)."""
_EARLIEST, _LATEST = to_micros(EARLIEST), to_micros(LATEST)


@dataclass(frozen=True, slots=True)
class PlanProperties:
    """The event properties a plan's meters and charges read: as numbers, and as keys."""

    numbers: frozenset[str]
    keys: frozenset[str]

    @classmethod
    def of(cls, plan: Plan) -> PlanProperties:
        numbers: set[str] = set()
        keys: set[str] = set()
        for meter in plan.meters:
            kind = meter.aggregator().property_kind
            if meter.property is not None and kind is PropertyKind.NUMBER:
                numbers.add(meter.property)
            elif meter.property is not None and kind is PropertyKind.KEY:
                keys.add(meter.property)
            if meter.group_by is not None:
                keys.add(meter.group_by)
            keys.update(name for name, _ in meter.filters)
        for charge in plan.charges:
            amount = charge.model.amount_property
            if amount is not None:
                numbers.add(amount)
        return cls(frozenset(numbers), frozenset(keys))


@dataclass(slots=True)
class _Counts:
    """What the raw bytes of a file say, for the proof in the module's docstring."""

    lines: int = 0
    colons: int = 0
    quotes: int = 0
    seen: int = 0
    """Bytes counted so far."""
    line_start: int = 0
    """Where the line being counted starts in the file."""
    long_lines: bool = False
    """Whether the piece being counted has a line that may hold too long a key."""


def _pieces(stream: io.BufferedReader) -> Iterator[memoryview]:
    """The file in pieces of at most :data:`PIECE` bytes, each ending at a line end but
    the file's last; a line longer than a piece raises :class:`_TooLong`.

    Two buffers take turns: a piece stays whole while the one after it is read.
    """
    buffers = (bytearray(PIECE), bytearray(PIECE))
    for turn in itertools.cycle((0, 1)):
        buffer = buffers[turn]
        size = stream.readinto(buffer)
        if not size:
            return
        if size == PIECE:  # (a buffered file fills the buffer unless it ends)
            end = buffer.rfind(b"\n", 0, size) + 1
            if end == 0:
                raise _TooLong
            stream.seek(end - size, os.SEEK_CUR)  # the cut line starts the next piece
            size = end
        yield memoryview(buffer)[:size]


class _TooLong(Exception):
    """A line longer than a piece."""


def _counted(
    piece: memoryview, counts: _Counts, scratch: npt.NDArray[np.bool_] | None = None
) -> bool:
    """Add the counts of ``piece`` (whole lines, after a line end) to ``counts``;
    ``False`` if a byte rules the fast path out. ``scratch`` is room for three masks of a
    chunk and the byte before it (made here if not given)."""
    buffer = piece.obj
    assert isinstance(buffer, bytearray)
    size = len(piece)
    if buffer.find(b"\\", 0, size) >= 0:
        return False
    if (buffer.find(b"N", 0, size) >= 0 and buffer.find(b"NaN", 0, size) >= 0) or (
        buffer.find(b"I", 0, size) >= 0 and buffer.find(b"Inf", 0, size) >= 0
    ):
        return False  # pyarrow's parser reads them as numbers, JSON does not
    if not buffer.isascii():  # (bytes past the piece may be an old piece's: then decode)
        try:
            codecs.utf_8_decode(piece, "strict", True)
        except UnicodeDecodeError:
            return False
    if scratch is None:
        scratch = np.empty((3, CHUNK + 1), dtype=bool)
    for start in range(0, size, CHUNK):
        # Each chunk after the byte before it; the first after a line end.
        joined = piece[start - 1 : start + CHUNK] if start else b"\n" + piece[:CHUNK]
        if not _fits(joined, counts, scratch):
            return False
    if counts.long_lines or counts.seen - counts.line_start > MAX_PROPERTY_NAME:
        counts.long_lines = False
        if _LONG_KEY.search(piece) is not None:
            return False  # pyarrow leaves out an unread property: its name is too long
    return True


def _fits(joined: bytes | memoryview, counts: _Counts, scratch: npt.NDArray[np.bool_]) -> bool:
    """Add the counts of ``joined`` (a chunk after the byte before it) to ``counts``;
    ``False`` if a byte rules the fast path out. Every mask is written into ``scratch``:
    nothing is allocated, whatever the chunk's size."""
    written = np.frombuffer(joined, dtype=np.uint8)
    size = written.size
    line_ends, quotes, found = scratch[0, :size], scratch[1, : size - 1], scratch[2, : size - 1]
    np.equal(written, 0x0A, out=line_ends)
    newlines = int(np.count_nonzero(line_ends))
    np.less(written, 0x20, out=scratch[2, :size])
    if int(np.count_nonzero(scratch[2, :size])) != newlines:
        return False  # a control character (or a carriage return)
    if bool(np.logical_and(line_ends[1:], line_ends[:-1], out=found).any()):
        return False  # a blank line
    np.equal(written[:-1], 0x22, out=quotes)  # each with the byte after it
    after = written[1:]
    np.equal(after, 0x20, out=found)
    np.logical_or(found, line_ends[1:], out=found)
    if bool(np.logical_and(found, quotes, out=found).any()):
        return False  # a quote before white space
    np.equal(after, 0x3A, out=found)
    colons = int(np.count_nonzero(np.logical_and(found, quotes, out=found)))
    ends = np.flatnonzero(line_ends[1:]) + counts.seen  # where the chunk's lines end
    if ends.size:
        if int(ends[0]) - counts.line_start > MAX_PROPERTY_NAME or (
            ends.size > 1 and int(np.diff(ends).max()) > MAX_PROPERTY_NAME + 1
        ):
            counts.long_lines = True
        counts.line_start = int(ends[-1]) + 1
    counts.seen += size - 1
    # The byte before the chunk was counted with the chunk before (at the file's start,
    # a line end that is not there); a last quote waits for the byte after it.
    before = joined[:1]
    counts.lines += newlines - (1 if before == b"\n" else 0)
    counts.colons += colons
    last_quote = 1 if joined[-1:] == b'"' else 0
    counts.quotes += int(np.count_nonzero(quotes)) + last_quote - (1 if before == b'"' else 0)
    return True


def read_columnar_table(path: str, wanted: PlanProperties) -> EventTable | None:
    """The table of the events in the file at ``path``, read as columns; ``None`` when
    that is not provably what :func:`~iotbill.adapters.event_files.read_event_table`
    gives (then read it so)."""
    file = Path(path)
    if path == "-" or not file.is_file() or wanted.numbers & wanted.keys:
        return None
    properties_type = pa.struct([(name, pa.decimal128(19, 9)) for name in sorted(wanted.numbers)])
    schema = pa.schema(
        [
            *((name, pa.string()) for name in _TEXT_FIELDS),
            ("properties", properties_type),
        ]
    )
    options = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="infer")
    kept = _Kept(wanted)
    counts = _Counts()
    with ThreadPoolExecutor(max_workers=1) as decoding, file.open("rb") as stream:
        try:
            read = _read(_pieces(stream), options, counts, kept, decoding)
        except (pa.ArrowException, ValueError, _TooLong):
            read = False
    columns = kept.columns() if read and kept.decoded.proves(counts) else None
    fingerprints = np.concatenate(kept.fingerprints) if columns is not None else None
    del kept
    table = None if columns is None else _table(path, columns, wanted, fingerprints)
    del columns
    pa.default_memory_pool().release_unused()  # the decoded columns: now numpy's
    return table


def _read(
    pieces: Iterator[memoryview],
    options: pj.ParseOptions,
    counts: _Counts,
    kept: _Kept,
    decoding: ThreadPoolExecutor,
) -> bool:
    """Count and decode every piece, keeping the columns a table needs; ``False`` as soon
    as a check fails. While pyarrow decodes a piece (on its own threads, which run
    without the interpreter's lock), this thread counts the next piece's bytes and
    checks the columns of the piece before."""
    last = b"\n"
    pending: Future[pa.Table] | None = None
    scratch = np.empty((3, CHUNK + 1), dtype=bool)
    for piece in pieces:
        if not _counted(piece, counts, scratch):
            return False
        last = piece[-1:].tobytes()
        decoded = None if pending is None else pending.result()
        pending = decoding.submit(_decode, piece, options)
        if decoded is not None and not kept.add(decoded):
            return False
    if pending is not None and not kept.add(pending.result()):
        return False
    if last != b"\n":  # a last line without its line end
        counts.lines += 1
    return True


def _decode(piece: memoryview, options: pj.ParseOptions) -> pa.Table:
    """The events of ``piece``, decoded by pyarrow (which copies what it keeps)."""
    source = pa.BufferReader(pa.py_buffer(piece))
    return pj.read_json(
        source, read_options=pj.ReadOptions(block_size=BLOCK), parse_options=options
    )


@dataclass(slots=True)
class _Decoded:
    """What pyarrow decoded, for the proof in the module's docstring."""

    rows: int = 0
    keys: int = 0
    strings: int = 0

    def proves(self, counts: _Counts) -> bool:
        """Whether the file's bytes (``counts``) agree with what was decoded."""
        return (
            counts.lines == self.rows > 0
            and counts.colons == self.keys
            and counts.quotes == 2 * (self.keys + self.strings)
        )


class _Kept:
    """The columns a table needs, piece after piece: ``at`` (microseconds), ``id``,
    ``type``, the numbers the plan reads (decoded under the schema, so of one type in
    every piece) and the keys it reads (whose type pyarrow infers piece by piece)."""

    def __init__(self, wanted: PlanProperties) -> None:
        self.wanted = wanted
        self.decoded = _Decoded()
        self.tables: list[pa.Table] = []
        self.fingerprints: list[npt.NDArray[np.uint64]] = []  # of the ids (see _all_different)
        self.keys: dict[str, list[pa.Array]] = {name: [] for name in wanted.keys}

    def add(self, table: pa.Table) -> bool:
        """Keep what the table needs of ``table`` (a piece's events, checked column by
        column); ``False`` if a check of the module's docstring fails."""
        names = table.schema.names
        if not set(names) <= set(_FIELDS) or not set(_TEXT_FIELDS) <= set(names):
            return False
        if "corrects" in names or "voids" in names:
            return False  # events that name others: the exact path follows their chains
        size = table.num_rows
        texts = {name: table.column(name) for name in _TEXT_FIELDS}
        if any(column.null_count for column in texts.values()):
            return False
        if not all(_within_limit(texts[name]) for name in ("id", "type", "device")):
            return False
        properties = table.column("properties")
        if not pa.types.is_struct(properties.type):
            return False
        children = {
            properties.type.field(index).name: child
            for index, child in enumerate(properties.flatten())
        }
        decoded = self.decoded
        decoded.keys += 4 * size + size - properties.null_count
        decoded.keys += sum(len(child) - child.null_count for child in children.values())
        decoded.strings += 4 * size + sum(
            len(child) - child.null_count
            for child in children.values()
            if pa.types.is_string(child.type)
        )
        micros = _timestamps(texts["timestamp"])
        if micros is None:
            return False
        columns = {"at": _int64s(micros), "id": texts["id"], "type": texts["type"]}
        for name in sorted(self.wanted.numbers):
            columns[f"property {name}"] = children[name]
        self.tables.append(pa.table(columns))
        self.fingerprints.extend(_fingerprints(chunk) for chunk in texts["id"].chunks)
        for name, chunks in self.keys.items():
            found = children.get(name)
            chunks.extend(found.chunks if found is not None else [pa.nulls(size)])
        decoded.rows += size
        return True

    def columns(self) -> pa.Table | None:
        """Every kept column, the keys as one type each (a piece without a key has it
        missing throughout); ``None`` if pyarrow read a key as two types."""
        table = pa.concat_tables(self.tables)
        for name, chunks in sorted(self.keys.items()):
            types = {chunk.type for chunk in chunks} - {pa.null()}
            if len(types) > 1:
                return None
            kind = types.pop() if types else pa.null()
            column = pa.chunked_array(
                [chunk if chunk.type == kind else pa.nulls(len(chunk), kind) for chunk in chunks],
                type=kind,
            )
            table = table.append_column(f"property {name}", column)
        return table


def _table(
    path: str,
    kept: pa.Table,
    wanted: PlanProperties,
    fingerprints: npt.NDArray[np.uint64] | None = None,
) -> EventTable | None:
    rows = kept.num_rows
    ids = kept["id"].combine_chunks()  # (a take from one array is many times faster)
    if not _all_different(ids, fingerprints):
        return None
    children = {
        name.removeprefix("property "): kept[name]
        for name in kept.column_names
        if name.startswith("property ")
    }
    source = _ArrowProperties.of(children, rows, wanted, Path(path))
    if source is None:
        return None
    types = kept["type"].combine_chunks().dictionary_encode()
    type_names = {name: code for code, name in enumerate(types.dictionary.to_pylist())}
    type_codes = types.indices.to_numpy().astype(np.int32, copy=False)
    timestamps = kept["at"].to_numpy().astype(np.int64, copy=False)
    order_rows = _by_time_then_id(timestamps, ids)
    return EventTable(
        ids=_Ids(source, rows),
        order=order_rows,
        lines=np.add(order_rows, 1, dtype=np.int64),
        timestamps=timestamps[order_rows],
        type_codes=type_codes[order_rows],
        type_names=type_names,
        properties=source,
        make_event=source.event,
        source=path,
    )


FINGERPRINT_ROWS = 4096
"""Ids fingerprinted at a time: a block of ids padded to whole 64-bit words stays small."""
_MIX = np.uint64(0x9E3779B97F4A7C15)
_SHIFT = np.uint64(29)


def _all_different(
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
        fingerprints = np.concatenate([_fingerprints(chunk) for chunk in chunks])
    ordered = np.sort(fingerprints)
    meeting = ordered[1:] == ordered[:-1]
    if not bool(meeting.any()):
        return True
    suspects = np.isin(fingerprints, ordered[1:][meeting])
    texts = ids.take(_int64s(np.flatnonzero(suspects))).to_pylist()
    return len(set(texts)) == len(texts)


def _fingerprints(chunk: pa.StringArray) -> npt.NDArray[np.uint64]:
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


def _by_time_then_id(
    timestamps: npt.NDArray[np.int64], ids: pa.StringArray | pa.ChunkedArray
) -> Rows:
    """The rows in ``(timestamp, id)`` order: a numpy sort of the timestamps, then the
    rows that share a timestamp with another sorted again, with their ids."""
    order, ordered = _sorted_with_positions(timestamps)
    tied = ordered[1:] == ordered[:-1]
    if not bool(tied.any()):
        return order
    in_tie = np.zeros(order.size, dtype=bool)
    in_tie[1:] |= tied
    in_tie[:-1] |= tied
    places = np.flatnonzero(in_tie)
    rows = order[places]
    ties = pa.table({"at": _int64s(ordered[places]), "id": ids.take(_int64s(rows))})
    again = pc.sort_indices(ties, sort_keys=[("at", "ascending"), ("id", "ascending")])
    order[places] = rows[again.to_numpy()]
    return order


def _sorted_with_positions(
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


def _within_limit(column: pa.StringArray | pa.ChunkedArray) -> bool:
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


def _timestamps(column: pa.ChunkedArray) -> npt.NDArray[np.int64] | None:
    """Microseconds since the epoch of each timestamp; ``None`` unless every one matches
    :data:`TIMESTAMP` and lies within the rules' range.

    The usual forms (``...SSZ`` and ``...SS+HH:MM``) are checked byte by byte in numpy;
    any other is left to the regular expression.
    """
    unusual = np.flatnonzero(~np.concatenate([_usual_forms(chunk) for chunk in column.chunks]))
    if unusual.size:
        others = column.take(_int64s(unusual))
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


def _usual_forms(chunk: pa.StringArray) -> npt.NDArray[np.bool_]:
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


def _int64s(values: npt.NDArray[np.int64] | Rows) -> pa.Int64Array:
    """``values`` as an Arrow array, sharing their memory (``pa.array`` would copy them,
    after importing ``numpy.ma`` to ask whether they are masked)."""
    values = np.ascontiguousarray(values, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), values.size, [None, pa.py_buffer(values)])


class _Ids(Sequence[str]):
    """The ids of a columnar table, each read from its line when asked for (rarely)."""

    def __init__(self, source: _ArrowProperties, rows: int) -> None:
        self._source = source
        self._rows = rows

    def __len__(self) -> int:
        return self._rows

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(self._rows)[index]]
        if not -self._rows <= index < self._rows:
            raise IndexError(index)
        return self._source.event(index % self._rows).id


class _ArrowProperties:
    """The properties a plan reads, as columns over every row in file order."""

    def __init__(
        self, numbers: dict[str, NumberColumn], keys: dict[str, KeyColumn], file: Path
    ) -> None:
        self._numbers = numbers
        self._keys = keys
        self._file = file
        self._lines: list[bytes] | None = None

    @classmethod
    def of(
        cls,
        children: dict[str, pa.ChunkedArray],
        rows: int,
        wanted: PlanProperties,
        file: Path,
    ) -> _ArrowProperties | None:
        numbers: dict[str, NumberColumn] = {}
        for name in wanted.numbers:
            column = _numbers(children.get(name), rows)
            if column is None:
                return None
            numbers[name] = column
        keys: dict[str, KeyColumn] = {}
        for name in wanted.keys:
            key_column = _keys(children.get(name), rows)
            if key_column is None:
                return None
            keys[name] = key_column
        return cls(numbers, keys, file)

    def numbers(self, name: str, positions: Rows) -> NumberColumn:
        column = self._numbers.get(name)
        if column is None:  # not one the plan reads: decoded exactly, event by event
            return number_column([self.event(i).properties.get(name) for i in positions.tolist()])
        if positions.size == column.values.size:  # every row, in order: no copy
            return column
        return NumberColumn(column.values[positions], column.status[positions], {})

    def keys(self, name: str, positions: Rows) -> KeyColumn:
        column = self._keys.get(name)
        if column is None:
            return key_column([self.event(i).properties.get(name) for i in positions.tolist()])
        return KeyColumn(column.codes[positions], column.labels, column.code_of)

    def event(self, position: int) -> UsageEvent:
        """The event of line ``position + 1``, decoded exactly (for the few that need one)."""
        from iotbill.adapters.event_files import decode_event

        if self._lines is None:
            self._lines = self._file.read_bytes().split(b"\n")
        return decode_event(self._lines[position])


def _numbers(child: pa.ChunkedArray | None, rows: int) -> NumberColumn | None:
    """A decimal128(19, 9) column as nano-units, or ``None`` if a value is out of range."""
    if child is None:
        return NumberColumn(np.zeros(rows, np.int64), np.full(rows, MISSING_VALUE, np.int8), {})
    if not pa.types.is_decimal(child.type) or child.type.scale != 9:
        return None
    lows, valids = [], []
    for chunk in child.chunks:
        words = np.frombuffer(chunk.buffers()[1], dtype=np.int64)
        words = words[2 * chunk.offset : 2 * (chunk.offset + len(chunk))]
        low, high = words[0::2], words[1::2]
        valid = chunk.is_valid().to_numpy(zero_copy_only=False)
        # In 64 bits when the high word only extends the sign; -2^63 is refused, as by
        # to_scaled.
        if ((high[valid] != (low[valid] >> 63)) | (low[valid] == np.iinfo(np.int64).min)).any():
            return None
        lows.append(np.where(valid, low, 0))
        valids.append(valid)
    valid = np.concatenate(valids) if valids else np.zeros(0, dtype=bool)
    values = np.concatenate(lows).astype(np.int64) if lows else np.zeros(0, np.int64)
    status = np.where(valid, 0, MISSING_VALUE).astype(np.int8)
    return NumberColumn(values, status, {})


def _keys(child: pa.ChunkedArray | None, rows: int) -> KeyColumn | None:
    """A text, integer or boolean column as factorised keys; ``None`` for another type."""
    if child is None or pa.types.is_null(child.type):
        return KeyColumn(np.full(rows, -1, np.int64), [], {})
    if not (
        pa.types.is_string(child.type)
        or pa.types.is_boolean(child.type)
        or pa.types.is_int64(child.type)
    ):
        return None
    encoded = child.combine_chunks().dictionary_encode()
    codes = encoded.indices.fill_null(-1).to_numpy().astype(np.int64)
    found = encoded.dictionary.to_pylist()
    keys = [json_key(value) for value in found]
    code_of = {key: code for code, key in enumerate(keys) if key is not None}
    labels = [json_label(key) if key is not None else "" for key in keys]
    return KeyColumn(codes, labels, code_of)
