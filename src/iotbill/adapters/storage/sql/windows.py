"""Many event windows in one query: the tables of a bill run, a batch at a time.

A window (:class:`~iotbill.services.ports.EventWindow`) is a customer's events of
some types in a period, stored before an instant. Each window becomes one row of
a ``VALUES`` list joined to ``usage_events``, so the database finds every
window's events by a range scan of the index on ``(tenant_id, customer_id,
event_type, occurred_at)``, in one statement instead of one per window.

The database returns one row per window: each column of its events gathered
into a JSON array (the stored properties, which are JSON objects, joined into
one), which msgspec decodes in C. Fetching a Python row per event costs several
times more. The arrays of a window line up: SQLite and PostgreSQL both feed
each row of a group to all its aggregates at once, so every array holds the
group's rows in one order (which order does not matter: an aggregate told to
``ORDER BY`` sorts its own input, once per column, and took two thirds of
PostgreSQL's time). Beside the stored properties, each property a window's meters
read comes as an array of its ``measures`` value (a number as integer nano-units):
the pure core takes its columns from those (:class:`MeasuredProperties`) and decodes
the properties themselves only where they cannot say the same, so a bill run makes
no decimal per event. On PostgreSQL the windows are five arrays unnested into rows,
five parameters instead of five per window; a table whose statistics know fewer
events than the windows asked for is analyzed first (a table never analyzed, as
after a first bulk load, looked nearly empty to the planner, which then hashed all
of its events for every statement: 0.75 s a batch at a million events). What the
index cannot express is
applied here, event by event: the window's own event types (the query asks for
those of every window) and its scope's devices.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

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

CHUNK = 1_000  # windows per statement: five parameters each, far below SQLite's limit
_ARRAY_TYPES = ("integer", "text", "bigint", "bigint", "bigint")  # a window's five columns
NEVER = 2**63 - 1  # the received_before of a window that has none
_PROPERTIES = msgspec.json.Decoder(list[dict[str, Any]], float_hook=Decimal)
_INTEGERS = msgspec.json.Decoder(list[int])
_TEXTS = msgspec.json.Decoder(list[str])
_OPTIONAL_TEXTS = msgspec.json.Decoder(list[str | None])
_VALUES = msgspec.json.Decoder(list[Any])
REPLACEMENT = (
    "CASE WHEN e.replaces IS NULL THEN NULL WHEN e.is_void THEN '-' || e.replaces "
    "ELSE '+' || e.replaces END"
)
"""The event an event corrects (``+id``) or voids (``-id``), if any: one column to read."""
_COLUMNS = ("e.seq", "e.event_id", "e.event_type", "e.device_id", "e.occurred_at", REPLACEMENT)
_GATHERED = {
    "sqlite": ", ".join(
        [*(f"json_group_array({name})" for name in _COLUMNS), "group_concat(e.properties, ',')"]
    ),
    "postgresql": ", ".join(
        [
            *(f"CAST(json_agg({name}) AS TEXT)" for name in _COLUMNS),
            "string_agg(e.properties, ',')",
        ]
    ),
}


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
    ids: list[str]
    types: list[str]
    devices: list[str]
    micros: list[int]
    replacements: list[str | None]
    properties: Sequence[dict[str, Any]]
    measured: dict[str, list[Any]] = field(default_factory=dict)
    """Some properties as ``measures`` holds them (see :class:`MeasuredProperties`)."""

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


class _StoredProperties(Sequence[dict[str, Any]]):
    """A window's stored properties objects (``text``: their JSON joined by commas, as the
    query gathers them), decoded on first use; ``kept``: the positions of those kept."""

    def __init__(self, text: str, count: int, kept: list[int] | None = None) -> None:
        self._text = text
        self._count = count
        self._kept = kept
        self._decoded: list[dict[str, Any]] | None = None

    def keeping(self, kept: list[int]) -> _StoredProperties:
        """Only the objects at positions ``kept`` (of this sequence)."""
        if self._kept is not None:
            kept = [self._kept[index] for index in kept]
        return _StoredProperties(self._text, self._count, kept)

    def _objects(self) -> list[dict[str, Any]]:
        if self._decoded is None:
            decoded = _PROPERTIES.decode(f"[{self._text}]")
            if len(decoded) != self._count:
                raise ValueError("the columns of a window's events do not line up")
            if self._kept is not None:
                decoded = [decoded[index] for index in self._kept]
            self._decoded = decoded
        return self._decoded

    def __getitem__(self, index: Any) -> Any:
        return self._objects()[index]

    def __len__(self) -> int:
        return self._count if self._kept is None else len(self._kept)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._objects())


def load_events(
    connection: Connection, tenant_id: int, windows: Sequence[EventWindow]
) -> list[StoredRows]:
    """Every window's events in its period; the caller adds the readings carried into it."""
    found: list[StoredRows] = []
    refresh_outgrown(connection, [usage_events], len(windows))
    collecting = gc.isenabled()
    gc.disable()  # many new objects, none in a reference cycle
    try:
        for start in range(0, len(windows), CHUNK):
            found.extend(_load_chunk(connection, tenant_id, windows[start : start + CHUNK]))
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
        query = Query(connection.dialect.name)
        statement = _joined(
            query,
            tenant_id,
            chunk,
            "e.event_type, e.device_id, COUNT(*)",
            " GROUP BY wanted.item, e.event_type, e.device_id",
        )
        if statement is not None:
            scopes = [_Scope.of(window) for window in chunk]
            for item, event_type, device, events in _rows(connection, statement, query):
                if scopes[item].takes(event_type, device):
                    found[item] += events
        counts.extend(found)
    return counts


def _load_chunk(
    connection: Connection, tenant_id: int, windows: Sequence[EventWindow]
) -> list[StoredRows]:
    found = [StoredRows.empty() for _ in windows]
    query = Query(connection.dialect.name)
    names = _measured_names(windows)
    gathered = ", ".join([_GATHERED[query.dialect], *(_measured(query, name) for name in names)])
    statement = _joined(query, tenant_id, windows, gathered, " GROUP BY wanted.item")
    if statement is None:
        return found
    queried = frozenset(meter.event_type for window in windows for meter in window.meters)
    for item, seqs, ids, types, devices, times, replacements, properties, *measured in _rows(
        connection, statement, query
    ):
        count = len(seqs := _INTEGERS.decode(seqs))
        stored = _StoredProperties(properties, count)
        rows = StoredRows(
            seqs,
            _TEXTS.decode(ids),
            _TEXTS.decode(types),
            _TEXTS.decode(devices),
            _INTEGERS.decode(times),
            _OPTIONAL_TEXTS.decode(replacements),
            stored,
            {
                name: column
                for name, values in zip(names, measured, strict=True)
                if (column := _measured_column(query.dialect, values)) is not None
            },
        )
        if any(len(column) != count for column in [*_columns_of(rows), *rows.measured.values()]):
            raise ValueError("the columns of a window's events do not line up")
        scope = _Scope.of(windows[item])
        if not scope.takes_all(queried):
            kept = [
                index
                for index, (event_type, device) in enumerate(
                    zip(rows.types, rows.devices, strict=True)
                )
                if scope.takes(event_type, device)
            ]
            seqs, ids, types, devices, times, replacements = (
                [column[index] for index in kept] for column in _columns_of(rows)
            )
            rows = StoredRows(
                seqs,
                ids,
                types,
                devices,
                times,
                replacements,
                stored.keeping(kept),
                {name: [column[index] for index in kept] for name, column in rows.measured.items()},
            )
        found[item] = rows
    return found


def _rows(connection: Connection, statement: str, query: Query) -> Sequence[Any]:
    """The rows of ``statement``; on SQLite, whose driver takes the ``:name`` parameters
    itself, without SQLAlchemy's parsing of a statement of thousands of them."""
    if query.dialect == "sqlite":
        return connection.exec_driver_sql(statement, query.parameters).all()
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


def _measured_column(dialect: str, text: str) -> list[Any] | None:
    """A column of :func:`_measured` decoded; ``None`` where it cannot say what the
    properties say (then they are read themselves, as for any value the measures cannot
    give): a zero may have been written ``-0``, which a key labels so; on SQLite, a 0 or
    1 may have been a boolean."""
    values = _VALUES.decode(text)
    if 0 in values or (dialect == "sqlite" and 1 in values):
        return None
    return values


def _columns_of(rows: StoredRows) -> tuple[list[Any], ...]:
    return (
        rows.seqs,
        rows.ids,
        rows.types,
        rows.devices,
        rows.micros,
        rows.replacements,
    )


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
    if query.dialect == "postgresql":
        arrays = ", ".join(
            f"CAST({query.bind(values)} AS {kind}[])"
            for values, kind in zip(columns_of_windows, _ARRAY_TYPES, strict=True)
        )
        wanted = f"SELECT * FROM unnest({arrays})"
    else:
        rows = zip(*columns_of_windows, strict=True)
        wanted = "VALUES " + ", ".join(
            "(" + ", ".join(query.bind(value) for value in row) + ")" for row in rows
        )
    return (
        "WITH wanted (item, customer_id, start_at, end_at, before_at) "
        f"AS ({wanted}) "
        f"SELECT wanted.item, {columns} FROM wanted JOIN usage_events AS e "
        f"ON e.tenant_id = {query.bind(tenant_id)} AND e.customer_id = wanted.customer_id "
        f"AND e.event_type IN ({', '.join(query.bind(name) for name in types)}) "
        "AND e.occurred_at >= wanted.start_at AND e.occurred_at < wanted.end_at "
        f"AND e.received_at < wanted.before_at{grouping}"
    )


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

    def takes(self, event_type: str, device: str) -> bool:
        """Whether an event the query found for the window is one of its own."""
        return (
            event_type in self.types
            and (self.devices is None or device in self.devices)
            and device not in self.excluded_devices
        )
