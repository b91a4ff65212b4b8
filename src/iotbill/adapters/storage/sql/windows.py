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
PostgreSQL's time). On PostgreSQL the windows are five arrays unnested into rows,
five parameters instead of five per window. What the index cannot express is
applied here, event by event: the window's own event types (the query asks for
those of every window) and its scope's devices.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec
import numpy as np
from sqlalchemy import Connection, text

from iotbill.adapters.storage.sql.aggregation import Query
from iotbill.domain.event_table import STORED, DecodedProperties, EventColumns, EventTable
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
    properties: list[dict[str, Any]]

    @classmethod
    def empty(cls) -> StoredRows:
        return cls([], [], [], [], [], [], [])

    def table(self) -> EventTable:
        """The rows as a table for the pure core, without an event object per row."""
        type_names: dict[str, int] = {}
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
            properties=DecodedProperties(self.properties),
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


def load_events(
    connection: Connection, tenant_id: int, windows: Sequence[EventWindow]
) -> list[StoredRows]:
    """Every window's events in its period; the caller adds the readings carried into it."""
    found: list[StoredRows] = []
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
            for item, event_type, device, events in connection.execute(
                text(statement), query.parameters
            ):
                if scopes[item].takes(event_type, device):
                    found[item] += events
        counts.extend(found)
    return counts


def _load_chunk(
    connection: Connection, tenant_id: int, windows: Sequence[EventWindow]
) -> list[StoredRows]:
    found = [StoredRows.empty() for _ in windows]
    query = Query(connection.dialect.name)
    gathered = _GATHERED[query.dialect]
    statement = _joined(query, tenant_id, windows, gathered, " GROUP BY wanted.item")
    if statement is None:
        return found
    queried = frozenset(meter.event_type for window in windows for meter in window.meters)
    for item, seqs, ids, types, devices, times, replacements, properties in connection.execute(
        text(statement), query.parameters
    ).all():
        rows = StoredRows(
            _INTEGERS.decode(seqs),
            _TEXTS.decode(ids),
            _TEXTS.decode(types),
            _TEXTS.decode(devices),
            _INTEGERS.decode(times),
            _OPTIONAL_TEXTS.decode(replacements),
            _PROPERTIES.decode(f"[{properties}]"),
        )
        if len(rows.properties) != len(rows.seqs):
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
            rows = StoredRows(*([column[index] for index in kept] for column in _columns_of(rows)))
        found[item] = rows
    return found


def _columns_of(rows: StoredRows) -> tuple[list[Any], ...]:
    return (
        rows.seqs,
        rows.ids,
        rows.types,
        rows.devices,
        rows.micros,
        rows.replacements,
        rows.properties,
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
