"""Many event windows in one query: the tables of a bill run, a batch at a time.

A window (:class:`~iotbill.services.ports.EventWindow`) is a customer's events of
some types in a period, stored before an instant. Each window becomes one row of
a ``VALUES`` list joined to ``usage_events``, so the database finds every
window's events by a range scan of the index on ``(tenant_id, customer_id,
event_type, occurred_at)``, in one statement instead of one per window.

The database returns one row per window: each column of its events gathered
into a JSON array, which msgspec decodes in C. Fetching a Python row per event
costs several times more. Only what pricing reads is gathered: the events'
``seq``, timestamps and measured properties (below), the count of events that
correct or void another, and types and devices where the windows read together
need them to tell their events apart. The rest (ids, devices, the event named,
the properties themselves) took as long again to gather: it is read by ``seq``,
for every window at once by :func:`load_events`, or for a bill run's windows
only where a table asks for it (two events at one instant, ordered by id; a value
the measures cannot give; an event named in an error).

The arrays of a window line up: SQLite and PostgreSQL both feed each row of a
group to all its aggregates at once, so every array holds the group's rows in
one order (which order does not matter: an aggregate told to ``ORDER BY`` sorts
its own input, once per column, and took two thirds of PostgreSQL's time). Each
property a window's meters read comes as an array of its ``measures`` value (a
number as integer nano-units): the pure core takes its columns from those
(:class:`MeasuredProperties`) and decodes the properties themselves only where
they cannot say the same, so a bill run makes no decimal per event.

On PostgreSQL the windows are five arrays unnested into rows, five parameters
instead of five per window; a table whose statistics know fewer events than the
windows asked for is analyzed first (a table never analyzed, as after a first bulk
load, looked nearly empty to the planner, which then hashed all of its events for
every statement: 0.75 s a batch at a million events). What the index cannot
express is applied here, event by event: the window's own event types (the query
asks for those of every window) and its scope's devices.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

import msgspec
import numpy as np
from sqlalchemy import Connection, text

from iotbill.adapters.storage.sql.aggregation import Query
from iotbill.adapters.storage.sql.statistics import refresh_outgrown
from iotbill.adapters.storage.sql.tables import usage_events
from iotbill.domain.event_table import (
    STORED,
    DecodedProperties,
    EventColumns,
    EventTable,
    MeasuredProperties,
)
from iotbill.domain.events import UsageEvent
from iotbill.domain.periods import from_micros, to_micros
from iotbill.services.ports import EventWindow

CHUNK = 1_000  # windows per statement: five to seven parameters each, below SQLite's limit
NEVER = 2**63 - 1  # the received_before of a window that has none
Reading = Literal["all", "when_asked"]
_PROPERTIES = msgspec.json.Decoder(list[dict[str, Any]], float_hook=Decimal)
VALUES = msgspec.json.Decoder(list[Any])
REPLACEMENT = (
    "CASE WHEN e.replaces IS NULL THEN NULL WHEN e.is_void THEN '-' || e.replaces "
    "ELSE '+' || e.replaces END"
)
"""The event an event corrects (``+id``) or voids (``-id``), if any: one column to read."""
ARRAY = {"sqlite": "json_group_array({})", "postgresql": "CAST(json_agg({}) AS TEXT)"}
"""A column of a window's events gathered into one JSON array."""
JOINED = {
    "sqlite": "group_concat(e.properties, ',')",
    "postgresql": "string_agg(e.properties, ',')",
}
"""The properties of a window's events, their JSON objects joined by commas."""


def joined_properties(joined: str) -> list[dict[str, Any]]:
    """The properties of :data:`JOINED`, decoded in one call, their numbers exact."""
    return _PROPERTIES.decode(f"[{joined}]")


def stored_event(
    event_id: str,
    event_type: str,
    device: str,
    micros: int,
    properties: dict[str, Any],
    replacement: str | None,
) -> UsageEvent:
    """An event as stored, with the event it corrects or voids (see :data:`REPLACEMENT`)."""
    at = from_micros(micros)
    if replacement is None:
        return UsageEvent(event_id, event_type, device, at, properties)
    named = replacement[1:]
    if replacement[0] == "-":
        return UsageEvent(event_id, event_type, device, at, properties, voids=named)
    return UsageEvent(event_id, event_type, device, at, properties, corrects=named)


@dataclass(slots=True)
class StoredRows:
    """Stored events as columns, as the database gives them: ``seq`` (the line an error
    names), id, type, device, microseconds, the event named (:data:`REPLACEMENT`) and the
    decoded properties, in no particular order."""

    seqs: list[int]
    ids: Sequence[str]
    types: list[str]
    devices: Sequence[str]
    micros: list[int]
    replacements: Sequence[str | None]
    properties: Sequence[dict[str, Any]]
    measured: dict[str, list[Any]] = field(default_factory=dict)
    """Some properties as ``measures`` holds them (see :class:`MeasuredProperties`)."""
    ids_unique: bool = False
    """Whether the ids are known to be unique (the store's key on them): not read to check."""

    @classmethod
    def empty(cls) -> StoredRows:
        return cls([], [], [], [], [], [], [])

    def table(self) -> EventTable:
        """The rows as a table for the pure core, without an event object per row."""
        type_names: dict[str, int] = {}
        if len(set(self.types)) == 1:
            type_names[self.types[0]] = 0
            codes: Any = np.zeros(len(self.types), dtype=np.int32)
        else:
            codes = [type_names.setdefault(name, len(type_names)) for name in self.types]
        replacements = self.replacements
        naming = None
        if any(replacements):
            naming = [
                None if named is None else ("voids" if named[0] == "-" else "corrects", named[1:])
                for named in replacements
            ]
        columns = EventColumns(
            ids=self.ids,
            timestamps=np.array(self.micros, dtype=np.int64),
            type_codes=np.array(codes, dtype=np.int32),
            type_names=type_names,
            properties=MeasuredProperties(self.measured, self.properties)
            if self.measured
            else DecodedProperties(self.properties),
            make_event=self.event,
            naming=naming,
            ids_unique=self.ids_unique,
        )
        return EventTable.from_columns(columns, np.array(self.seqs, dtype=np.int64), STORED)

    def event(self, index: int) -> UsageEvent:
        """The event at ``index``, made only when asked for."""
        return stored_event(
            self.ids[index],
            self.types[index],
            self.devices[index],
            self.micros[index],
            self.properties[index],
            self.replacements[index],
        )


def load_events(
    connection: Connection,
    tenant_id: int,
    windows: Sequence[EventWindow],
    reading: Reading = "all",
) -> list[StoredRows]:
    """Every window's events in its period; the caller adds the readings carried into it.

    ``reading`` ``"all"``: every column, gathered by the same query (the properties
    decoded when first read); ``"when_asked"``: the columns pricing seldom needs
    (:class:`_Unread`) read for a window when first asked for, on ``connection``, which
    must then still be open.
    """
    found: list[StoredRows] = []
    refresh_outgrown(connection, [usage_events], len(windows))
    collecting = gc.isenabled()
    gc.disable()  # many new objects, none in a reference cycle
    try:
        for start in range(0, len(windows), CHUNK):
            chunk = windows[start : start + CHUNK]
            found.extend(_load_chunk(connection, tenant_id, chunk, reading))
    finally:
        if collecting:
            gc.enable()
    return found


def count_events(
    connection: Connection, tenant_id: int, windows: Sequence[EventWindow]
) -> list[int]:
    """How many events each window holds in its period."""
    counts: list[int] = []
    refresh_outgrown(connection, [usage_events], len(windows))
    for start in range(0, len(windows), CHUNK):
        chunk = windows[start : start + CHUNK]
        found = [0] * len(chunk)
        query = Query(connection.dialect.name, numbered=True)
        statement = _joined(
            query,
            tenant_id,
            chunk,
            "e.event_type, e.device_id, COUNT(*)",
            " GROUP BY wanted.item, e.event_type, e.device_id",
        )
        if statement is not None:
            scopes = [_Scope.of(window) for window in chunk]
            for item, event_type, device, events in rows_of(connection, statement, query):
                if scopes[item].takes(event_type, device):
                    found[item] += events
        counts.extend(found)
    return counts


def _load_chunk(
    connection: Connection, tenant_id: int, windows: Sequence[EventWindow], reading: Reading
) -> list[StoredRows]:
    """The windows' events: what pricing reads (timestamps, the measured properties) from
    the query; the rest (:class:`_Unread`) too when ``reading`` all, else when asked for."""
    found = [StoredRows.empty() for _ in windows]
    whole = reading == "all"
    query = Query(connection.dialect.name, numbered=True)
    names = _measured_names(windows)
    queried = sorted({meter.event_type for window in windows for meter in window.meters})
    scopes = [_Scope.of(window) for window in windows]
    typed = len(queried) > 1  # else every event found is of the one type queried
    placed = any(scope.devices is not None or scope.excluded_devices for scope in scopes)
    array = ARRAY[query.dialect]
    gathered = ", ".join(
        [
            array.format("e.seq"),
            array.format("e.occurred_at"),
            "COUNT(e.replaces)",
            *([array.format("e.event_type")] if typed else []),
            *([array.format("e.device_id")] if placed else []),
            *(_measured(query, name) for name in names),
            *(
                [array.format(name) for name in ("e.event_id", "e.device_id", REPLACEMENT)]
                + [JOINED[query.dialect]]  # last: the properties, as text
                if whole
                else []
            ),
        ]
    )
    statement = _gathered(query, tenant_id, windows, gathered, not whole)
    if statement is None:
        return found
    every_type = frozenset(queried)
    for item, (seqs, times, naming, *rest) in _gathered_rows(
        connection, statement, query, not whole
    ):
        if not seqs:
            continue
        unread_columns = rest[-4:] if whole else None
        rest = rest[:-4] if whole else rest
        types = rest.pop(0) if typed else [queried[0]] * len(seqs)
        devices = rest.pop(0) if placed else None
        measured = {
            name: column
            for name, values in zip(names, rest, strict=True)
            if (column := _measured_column(query.dialect, values)) is not None
        }
        columns: list[list[Any]] = [
            times,
            types,
            *([devices] if devices else []),
            *measured.values(),
        ]
        if any(len(column) != len(seqs) for column in columns):
            raise ValueError("the columns of a window's events do not line up")
        scope = scopes[item]
        if not scope.takes_all(every_type):
            kept = [
                index
                for index, event_type in enumerate(types)
                if scope.takes(event_type, None if devices is None else devices[index])
            ]
            seqs = [seqs[index] for index in kept]
            times = [times[index] for index in kept]
            types = [types[index] for index in kept]
            measured = {name: [column[i] for i in kept] for name, column in measured.items()}
        else:
            kept = None
        unread = _Unread(connection, seqs)
        if unread_columns is not None:
            ids, devices_read, named, properties = unread_columns
            unread.fill(ids, devices_read, named, properties, kept)
        rows = StoredRows(
            seqs,
            _UnreadColumn(unread, 0),
            types,
            _UnreadColumn(unread, 1),
            times,
            _UnreadColumn(unread, 2) if naming else [None] * len(seqs),
            _UnreadColumn(unread, 3),
            measured,
            ids_unique=True,  # the store's key: (tenant_id, event_id)
        )
        if naming:  # some event corrects or voids another: the table makes the events
            unread.read()
        found[item] = rows
    return found


class _Unread:
    """The columns of some stored events that a window's query may leave out, read by
    ``seq`` in one query when one is first asked for: their ids, devices, the events they
    name (:data:`REPLACEMENT`) and their properties. Pricing needs none of them unless two
    events share a timestamp (ordered by id), a value was not measured (read from the
    properties) or an event is named in an error; gathering them for every event took
    as long as the rest of the query. Stored events never change, so they read the same
    whenever asked for, in the transaction the window was read in. The properties are
    decoded when first read."""

    def __init__(self, connection: Connection, seqs: list[int]) -> None:
        self._connection = connection
        self.seqs = seqs
        self._columns: list[list[Any]] | None = None
        self._properties: tuple[str, list[int] | None] | None = None

    def __len__(self) -> int:
        return len(self.seqs)

    def column(self, index: int) -> list[Any]:
        """Column ``index`` (ids, devices, named events, properties), in ``seqs``' order."""
        columns = self.read()
        if index == 3 and self._properties is not None:
            joined, kept = self._properties
            decoded = joined_properties(joined)
            columns[3] = decoded if kept is None else [decoded[at] for at in kept]
            self._properties = None
        return columns[index]

    def read(self) -> list[list[Any]]:
        if self._columns is None:
            _read(self._connection, [self])
        assert self._columns is not None
        return self._columns

    def fill(
        self,
        ids: list[str],
        devices: list[str],
        named: list[str | None],
        properties: str,
        kept: list[int] | None = None,
    ) -> None:
        """Its columns as gathered (``properties``: the objects' JSON joined by commas), of
        which only the positions ``kept`` if given."""
        columns: list[list[Any]] = [ids, devices, named]
        if kept is not None:
            columns = [[column[at] for at in kept] for column in columns]
        if any(len(column) != len(self.seqs) for column in columns):
            raise ValueError("the columns of a window's events do not line up")
        self._columns = [*columns, []]
        self._properties = (properties, kept)


def _read(connection: Connection, unreads: Sequence[_Unread]) -> None:
    """The columns of every one of ``unreads`` read, in one query per ``CHUNK`` events."""
    seqs = [seq for unread in unreads for seq in unread.seqs]
    by_seq: dict[int, Any] = {}
    for start in range(0, len(seqs), CHUNK):
        query = Query(connection.dialect.name, numbered=True)
        listed = ", ".join(query.bind(seq) for seq in seqs[start : start + CHUNK])
        statement = (  # the tenant's rows: a window's query found these seqs
            f"SELECT e.seq, e.event_id, e.device_id, {REPLACEMENT}, e.properties "
            f"FROM usage_events AS e WHERE e.seq IN ({listed})"
        )
        by_seq.update((row[0], row) for row in rows_of(connection, statement, query))
    for unread in unreads:
        ordered = [by_seq[seq] for seq in unread.seqs]
        unread.fill(
            [row[1] for row in ordered],
            [row[2] for row in ordered],
            [row[3] for row in ordered],
            ",".join(row[4] for row in ordered),
        )


class _UnreadColumn(Sequence[Any]):
    """One column of :class:`_Unread`, read when first indexed or iterated."""

    def __init__(self, unread: _Unread, index: int) -> None:
        self._unread = unread
        self._index = index

    def __getitem__(self, index: Any) -> Any:
        return self._unread.column(self._index)[index]

    def __len__(self) -> int:
        return len(self._unread)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._unread.column(self._index))


def rows_of(connection: Connection, statement: str, query: Query) -> Sequence[Any]:
    """The rows of ``statement`` (its ``query`` :attr:`~Query.numbered`); on SQLite, whose
    driver takes the parameters itself, without SQLAlchemy's parsing of a statement of
    thousands of them."""
    if query.dialect == "sqlite":
        return connection.exec_driver_sql(statement, query.arguments).all()
    return connection.execute(text(statement), query.parameters).all()


def _measured_names(windows: Sequence[EventWindow]) -> list[str]:
    """The properties the windows' meters read: each is also read from ``measures``."""
    names: set[str] = set()
    for window in windows:
        for meter in window.meters:
            names.update(name for name in (meter.property, meter.group_by) if name is not None)
            names.update(name for name, _ in meter.filters)
    return sorted(name for name in names if '"' not in name)  # (a JSON path cannot say it)


def _measured(query: Query, name: str) -> str:
    """The array of property ``name`` of a window's events, as ``measures`` holds it.

    On SQLite ``json_extract`` (a third of the cost of ``->``, which writes each
    value out as JSON) gives a boolean as 1 or 0: see :func:`_measured_column`.
    """
    if query.dialect == "postgresql":
        return f"CAST(json_agg(e.measures -> {query.bind(name)}) AS TEXT)"
    path = '$."' + name + '"'
    return f"json_group_array(json_extract(e.measures, {query.bind(path)}))"


def _measured_column(dialect: str, values: list[Any]) -> list[Any] | None:
    """A column of :func:`_measured`; ``None`` where it cannot say what the properties
    say (then they are read themselves, as for any value the measures cannot give): a
    zero may have been written ``-0``, which a key labels so; on SQLite, a 0 or 1 may
    have been a boolean."""
    if 0 in values or (dialect == "sqlite" and 1 in values):
        return None
    return values


def _gathered(
    query: Query, tenant_id: int, windows: Sequence[EventWindow], columns: str, lean: bool
) -> str | None:
    """``SELECT wanted.item, columns`` of each window's events, the columns aggregates
    (:data:`ARRAY`); ``None`` if no window meters any.

    Each window's events are aggregated by a subquery of their own: the rows of a window
    come from one range of the index, so nothing is sorted (grouping the join's rows by
    window sorted every row first: on SQLite a fifth of the statement's time, on
    PostgreSQL a third, spilled to disk beyond its ``work_mem``). On PostgreSQL a
    ``LATERAL`` subquery, which leaves out a window with no events; on SQLite a scalar
    subquery of one JSON array of the columns, which gives a window with no events empty
    arrays. Not so on SQLite when the properties are gathered too (``lean`` false):
    escaped into a JSON string and read back, they cost more than the sorter.
    """
    if query.dialect == "sqlite" and not lean:
        return _joined(query, tenant_id, windows, columns, " GROUP BY wanted.item")
    sqlite = query.dialect == "sqlite"
    statement = _joined(query, tenant_id, windows, f"json_array({columns})" if sqlite else columns)
    if statement is None:
        return None
    joined, _, conditions = statement.partition(" FROM wanted JOIN usage_events AS e ON ")
    head, _, selected = joined.partition(" SELECT wanted.item, ")
    if sqlite:
        return (
            f"{head} SELECT wanted.item, (SELECT {selected} FROM usage_events AS e "
            f"WHERE {conditions}) FROM wanted"
        )
    return (
        f"{head} SELECT wanted.item, found.* FROM wanted CROSS JOIN LATERAL "
        f"(SELECT {selected} FROM usage_events AS e WHERE {conditions} "
        "HAVING COUNT(*) > 0) AS found"
    )


def _gathered_rows(
    connection: Connection, statement: str, query: Query, lean: bool
) -> Iterator[tuple[int, list[Any]]]:
    """Each window's item and its columns decoded, from :func:`_gathered`'s rows; unless
    ``lean``, the last column left as text (:data:`JOINED`: not one JSON value)."""
    text_last = not lean
    if query.dialect == "sqlite" and lean:
        for item, columns in rows_of(connection, statement, query):
            yield item, VALUES.decode(columns)
    else:
        for item, *columns in rows_of(connection, statement, query):
            last = columns.pop() if text_last else None
            decoded = [
                column if isinstance(column, int) else VALUES.decode(column) for column in columns
            ]
            yield item, decoded if last is None else [*decoded, last]


def _joined(
    query: Query,
    tenant_id: int,
    windows: Sequence[EventWindow],
    columns: str,
    grouping: str = "",
) -> str | None:
    """``SELECT wanted.item, columns`` of the windows' events; ``None`` if no window meters any."""
    types = sorted({meter.event_type for window in windows for meter in window.meters})
    chosen = [(item, window) for item, window in enumerate(windows) if window.meters]
    if not types or not chosen:
        return None
    columns_of_windows = (
        [item for item, _ in chosen],
        [window.scope.customer for _, window in chosen],
        [window.period.start_micros for _, window in chosen],
        [window.period.end_micros for _, window in chosen],
        [
            NEVER if window.received_before is None else to_micros(window.received_before)
            for _, window in chosen
        ],
    )
    return (
        f"{wanted(query, WANTED, columns_of_windows)} "
        f"SELECT wanted.item, {columns} FROM wanted JOIN usage_events AS e "
        f"ON e.tenant_id = {query.bind(tenant_id)} AND e.customer_id = wanted.customer_id "
        f"AND e.event_type IN ({', '.join(query.bind(name) for name in types)}) "
        "AND e.occurred_at >= wanted.start_at AND e.occurred_at < wanted.end_at "
        f"AND e.received_at < wanted.before_at{grouping}"
    )


WANTED = {
    "item": "integer",
    "customer_id": "text",
    "start_at": "bigint",
    "end_at": "bigint",
    "before_at": "bigint",
}
"""A window's columns in :func:`wanted`: its position, customer, period and
``received_before`` (:data:`NEVER` if none), with their types on PostgreSQL."""


def wanted(query: Query, names: dict[str, str], columns: Sequence[Sequence[Any]]) -> str:
    """``WITH wanted (names) AS (...)``: a row of ``columns`` (one list per name) per
    window. On PostgreSQL the lists are arrays unnested into rows, a parameter each."""
    if query.dialect == "postgresql":
        arrays = ", ".join(
            f"CAST({query.bind(values)} AS {kind}[])"
            for values, kind in zip(columns, names.values(), strict=True)
        )
        rows = f"SELECT * FROM unnest({arrays})"
    else:
        rows = "VALUES " + ", ".join(
            "(" + ", ".join(query.bind(value) for value in row) + ")"
            for row in zip(*columns, strict=True)
        )
    return f"WITH wanted ({', '.join(names)}) AS ({rows})"


@dataclass(frozen=True, slots=True)
class _Scope:
    """What the query cannot tell apart: a window's own event types and devices."""

    types: frozenset[str]
    devices: frozenset[str] | None
    excluded_devices: frozenset[str]

    @classmethod
    def of(cls, window: EventWindow) -> _Scope:
        types = frozenset(meter.event_type for meter in window.meters)
        return cls(types, window.scope.devices, window.scope.excluded_devices)

    def takes_all(self, queried: frozenset[str]) -> bool:
        """Whether every event of the types ``queried`` is one of the window's own."""
        return self.types == queried and self.devices is None and not self.excluded_devices

    def takes(self, event_type: str, device: str | None) -> bool:
        """Whether an event the query found for the window is one of its own (``device``:
        ``None`` when the windows read together name no devices)."""
        return (
            event_type in self.types
            and (self.devices is None or device in self.devices)
            and device not in self.excluded_devices
        )
