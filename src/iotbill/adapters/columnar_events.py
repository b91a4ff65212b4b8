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
  :data:`~iotbill.adapters.columnar_columns.TIMESTAMP` and within the rules' range,
  every number within the 64-bit nano-unit range, every key a meter reads a text, an
  integer or a boolean (the checks of the columns are in
  :mod:`iotbill.adapters.columnar_columns`).

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
import pyarrow.json as pj

from iotbill.adapters.columnar_columns import (
    all_different,
    by_time_then_id,
    fingerprints_of,
    int64s,
    timestamps_of,
    within_limit,
)
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
from iotbill.domain.metering import PropertyKind

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
_LONG_KEY = re.compile(rb'"[^"\n]{%d,}":' % (MAX_PROPERTY_NAME + 1))
"""A key of more bytes than a property's name may have characters (with no backslash in
the file, a key is its quotes, what they hold and a colon)."""


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
        self.fingerprints: list[npt.NDArray[np.uint64]] = []  # of the ids (see all_different)
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
        if not all(within_limit(texts[name]) for name in ("id", "type", "device")):
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
        micros = timestamps_of(texts["timestamp"])
        if micros is None:
            return False
        columns = {"at": int64s(micros), "id": texts["id"], "type": texts["type"]}
        for name in sorted(self.wanted.numbers):
            columns[f"property {name}"] = children[name]
        self.tables.append(pa.table(columns))
        self.fingerprints.extend(fingerprints_of(chunk) for chunk in texts["id"].chunks)
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
    if not all_different(ids, fingerprints):
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
    order_rows = by_time_then_id(timestamps, ids)
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
