"""The hourly roll-up of usage: what a count or sum meter reads without rescanning events.

``usage_rollups`` holds, per customer, event type and UTC hour, the number of
events that count (``property`` ``''``) and, for each numeric property, the
sum of its values in integer nano-units (as ``measures`` holds them), in two
halves (``high × 2³² + low``) so that neither SQLite's 64-bit sums nor a stored
column can overflow.

**Kept exact, in the transaction that changes the events.**

* The new events of an append that name no other add their sums to the rows
  of their hours, in one statement per kind of row (counts, sums), in the
  order of the roll-up's key: an upsert per row from Python costs several
  times the writing of the events themselves. On SQLite the sums are taken
  in SQL from the rows just stored (numbered after the last row before the
  append: SQLite has one writer at a time) (:func:`add_rows`). On PostgreSQL
  an append whose rows all went straight in by ``COPY`` adds the sums
  computed while the batch was prepared (:func:`increments`), copied into a
  temporary table and upserted in one statement (:func:`add`); one that
  repeated a stored id sums in SQL the rows its ``INSERT`` returned
  (:func:`add_rows`). Repeats of stored ids add nothing. Sums commute, so two
  writers side by side add up right.
* The hours of events that correct or void another, and every device move,
  are recomputed from the stored events themselves (:func:`refresh`). An
  event counts unless it is a void or a stored event names it, as
  :func:`~iotbill.domain.events.counting` says of every chain ingest lets in;
  a correction or a void keeps the hour of the event it names.

**Concurrent writers.** Each writer sees only its own new events until it
commits, so a refresh beside another writer of the same hours would write a
partial hour, and collide with its row; two adds could lock the same rows in
opposite orders. On PostgreSQL both first lock each (tenant, customer, type)
they touch, in one statement and in one order (so two writers cannot wait on
each other in a circle), until the transaction ends: the later one waits, and
its statements, each with a fresh snapshot under READ COMMITTED, then see the
earlier one's events and rows. SQLite has one writer at a time.

**Read.** :func:`running_total` sums the whole hours of a span, one row an
hour, and the partial hours at its two ends from the events, in one statement. Only
numbers count as numbers: a value sent as text (``"2.5"``) is not summed here,
as the SQL meters do not sum it either.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, text

from iotbill.adapters.storage.sql.aggregation import Query
from iotbill.domain.catalog import Meter
from iotbill.domain.event_table import VALID, number_column
from iotbill.domain.events import UsageEvent
from iotbill.domain.periods import EPOCH, ONE_MICROSECOND, Period
from iotbill.domain.quantities import from_scaled

HOUR = 3_600_000_000
"""An hour in microseconds, the unit of ``occurred_at``."""
COUNTED = ""
"""The ``property`` of the rows that count events."""
Touched = tuple[str, str, int]
"""A customer, an event type and an hour (``occurred_at // HOUR``) whose roll-up changed."""
Increment = tuple[str, str, int, str, int, int, int]
"""A row's customer, event type, hour and property, and what to add: events, high, low."""
_HALF = 0xFFFFFFFF
_NUMBERS = {
    "sqlite": ("json_each(e.measures) AS j", "j.type = 'integer'", "j.value"),
    "postgresql": (
        "jsonb_each(e.measures) AS j",
        "jsonb_typeof(j.value) = 'number'",
        "((j.value #>> '{}')::bigint)",
    ),
}
"""Per dialect: each property of ``measures`` as a row ``j``, whether it is a number, and
its value in nano-units."""


def increments(events: Sequence[UsageEvent], customers: Sequence[str]) -> tuple[Increment, ...]:
    """What ``events`` (new, naming no other) add to the roll-up: per customer, type, hour
    and property, the events and the halves of the numbers' sum; a column at a time."""
    if not events:
        return ()
    hours = np.fromiter(
        ((event.timestamp - EPOCH) // ONE_MICROSECOND // HOUR for event in events),
        np.int64,
        len(events),
    )
    series: dict[tuple[str, str], int] = {}
    codes = np.array(
        [
            series.setdefault((c, e.type), len(series))
            for e, c in zip(events, customers, strict=True)
        ],
        np.int64,
    )
    first = int(hours.min())
    keys, row_of = np.unique(
        codes * (int(hours.max()) - first + 1) + (hours - first), return_inverse=True
    )
    span = int(hours.max()) - first + 1
    names = list(series)
    found: list[Increment] = []

    def rows(
        name: str,
        at: npt.NDArray[np.int64],
        events_in: npt.NDArray[np.int64],
        high: npt.NDArray[np.int64],
        low: npt.NDArray[np.int64],
    ) -> None:
        for index in np.flatnonzero(events_in).tolist():
            customer, kind = names[int(keys[index]) // span]
            hour = first + int(keys[index]) % span
            found.append(
                (
                    customer,
                    kind,
                    hour,
                    name,
                    int(events_in[index]),
                    int(high[index]),
                    int(low[index]),
                )
            )

    counts = np.bincount(row_of, minlength=len(keys)).astype(np.int64)
    rows(COUNTED, keys, counts, np.zeros(len(keys), np.int64), counts)
    for name in sorted({name for event in events for name in event.properties}):
        positions = [
            position
            for position, event in enumerate(events)
            if type(event.properties.get(name)) in (int, Decimal)
        ]
        column = number_column([events[position].properties[name] for position in positions])
        valid = np.flatnonzero(column.status == VALID)
        chosen = row_of[np.array(positions, np.int64)[valid]]
        values = column.values[valid]
        events_in = np.bincount(chosen, minlength=len(keys)).astype(np.int64)
        high = np.zeros(len(keys), np.int64)
        low = np.zeros(len(keys), np.int64)
        np.add.at(high, chosen, values >> 32)
        np.add.at(low, chosen, values & _HALF)
        rows(name, keys, events_in, high, low)
    return tuple(found)


def add(connection: Connection, tenant_id: int, found: Sequence[Increment]) -> None:
    """Add ``found`` to the roll-up rows, creating those that do not exist yet.

    PostgreSQL: ``COPY`` into a temporary table, then one upsert in the order of
    the roll-up's key (one statement per row, as ``executemany`` sends them, costs
    the server many times more). SQLite: one upsert per row, run in C.
    """
    if not found:
        return
    _hold(connection, tenant_id, {(row[0], row[1]) for row in found})
    cursor = connection.connection.cursor()
    try:
        if connection.dialect.name != "postgresql":
            cursor.executemany(_upsert(f"VALUES ({tenant_id}, ?, ?, ?, ?, ?, ?, ?)"), list(found))
            return
        cursor.execute("DROP TABLE IF EXISTS pg_temp.staged_usage_rollups")
        cursor.execute(_STAGE)
        with cursor.copy(f"COPY staged_usage_rollups ({_ROW}) FROM STDIN") as copy:
            copy.write(_copy_text(found))
        cursor.execute(
            _upsert(
                f"SELECT {tenant_id}, {_ROW} FROM staged_usage_rollups "
                "ORDER BY customer_id, event_type, property, hour"
            )
        )
        cursor.execute("DROP TABLE staged_usage_rollups")
    finally:
        cursor.close()


def add_rows(connection: Connection, tenant_id: int, relation: str, where: str) -> None:
    """Add to the roll-up the rows of ``relation`` (``e``, with ``usage_events``' columns
    ``customer_id``, ``event_type``, ``occurred_at`` and ``measures``) that meet
    ``where``: new events of the tenant that name no other. Summed in SQL, in two
    statements, without a row through Python."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.exec_driver_sql(
            "SELECT pg_advisory_xact_lock(key) FROM (SELECT DISTINCT hashtextextended("
            f"'iotbill usage of {int(tenant_id)} ' || e.customer_id || ' ' || e.event_type, 0) "
            f"AS key FROM {relation} WHERE {where} ORDER BY key) AS series"
        )
    numbers, numeric, value = _NUMBERS[dialect]
    hour = f"e.occurred_at / {HOUR}"
    series = f"e.customer_id, e.event_type, {hour}"
    order = f"ORDER BY {series}"  # the roll-up key's order: each row lands beside the last
    connection.exec_driver_sql(
        _upsert(
            f"SELECT {int(tenant_id)}, {series}, '{COUNTED}', COUNT(*), 0, COUNT(*) "
            f"FROM {relation} WHERE {where} GROUP BY {series} {order}"
        )
    )
    connection.exec_driver_sql(
        _upsert(
            f"SELECT {int(tenant_id)}, {series}, j.key, COUNT(*), SUM({value} >> 32), "
            f"SUM({value} & {_HALF}) FROM {relation}, {numbers} WHERE {where} AND {numeric} "
            f"GROUP BY {series}, j.key ORDER BY e.customer_id, e.event_type, j.key, {hour}"
        )
    )


_ROW = "customer_id, event_type, hour, property, events, high, low"
_STAGE = (
    "CREATE TEMPORARY TABLE staged_usage_rollups (customer_id text, event_type text, "
    "hour bigint, property text, events bigint, high bigint, low bigint) ON COMMIT DROP"
)
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _upsert(rows: str) -> str:
    """The statement adding ``rows`` (all the columns of a roll-up row, in order) to the
    roll-up, each to the row of its key if there is one."""
    return (
        "INSERT INTO usage_rollups (tenant_id, customer_id, event_type, hour, property, events, "
        f"high, low) {rows} "
        "ON CONFLICT (tenant_id, customer_id, event_type, property, hour) DO UPDATE SET "
        "events = usage_rollups.events + excluded.events, "
        "high = usage_rollups.high + excluded.high, low = usage_rollups.low + excluded.low"
    )


def _copy_text(found: Sequence[Increment]) -> bytes:
    """``found`` in the text format of PostgreSQL's ``COPY``."""
    return "".join(
        f"{customer.translate(_COPY_ESCAPES)}\t{kind.translate(_COPY_ESCAPES)}\t{hour}\t"
        f"{name.translate(_COPY_ESCAPES)}\t{events}\t{high}\t{low}\n"
        for customer, kind, hour, name, events, high, low in found
    ).encode()


def _hold(connection: Connection, tenant_id: int, series: Iterable[tuple[str, str]]) -> None:
    """On PostgreSQL, lock each (customer, type) ``series`` until the transaction ends."""
    names = [f"iotbill usage of {tenant_id} {customer} {kind}" for customer, kind in series]
    if connection.dialect.name != "postgresql" or not names:
        return
    connection.execute(
        text(
            "SELECT pg_advisory_xact_lock(key) FROM "
            "(SELECT DISTINCT hashtextextended(name, 0) AS key "
            "FROM unnest(CAST(:names AS text[])) AS name ORDER BY key) AS series"
        ),
        {"names": names},
    )


def refresh(
    connection: Connection, tenant_id: int, touched: Iterable[Touched], *, naming: bool
) -> None:
    """Recompute the roll-up rows of the ``touched`` hours from the stored events.

    ``naming``: whether any event of the tenant corrects or voids another (when
    none does, every event that is not a void counts, and no lookup is needed).
    """
    by_series: defaultdict[tuple[str, str], set[int]] = defaultdict(set)
    for customer, kind, hour in touched:
        by_series[(customer, kind)].add(hour)
    _hold(connection, tenant_id, by_series)
    for (customer, kind), hours in sorted(by_series.items()):
        for first, last in _runs(sorted(hours)):
            _recompute(connection, tenant_id, customer, kind, (first, last), naming)


def _runs(hours: list[int]) -> list[tuple[int, int]]:
    """Consecutive hours merged: ``[1, 2, 3, 7]`` gives ``[(1, 3), (7, 7)]``."""
    runs: list[tuple[int, int]] = []
    for hour in hours:
        if runs and runs[-1][1] == hour - 1:
            runs[-1] = (runs[-1][0], hour)
        else:
            runs.append((hour, hour))
    return runs


def _recompute(
    connection: Connection,
    tenant_id: int,
    customer: str,
    kind: str,
    hours: tuple[int, int],
    naming: bool,
) -> None:
    key: dict[str, Any] = {
        "tenant": tenant_id,
        "customer": customer,
        "kind": kind,
        "first": hours[0],
        "last": hours[1],
        "since": hours[0] * HOUR,
        "until": (hours[1] + 1) * HOUR,
    }
    connection.execute(
        text(
            "DELETE FROM usage_rollups WHERE tenant_id = :tenant AND customer_id = :customer "
            "AND event_type = :kind AND hour >= :first AND hour <= :last"
        ),
        key,
    )
    where = (
        "e.tenant_id = :tenant AND e.customer_id = :customer AND e.event_type = :kind "
        "AND e.occurred_at >= :since AND e.occurred_at < :until AND NOT e.is_void"
    )
    if naming:
        where += (
            " AND NOT EXISTS (SELECT 1 FROM usage_events AS r "
            "WHERE r.tenant_id = e.tenant_id AND r.replaces = e.event_id)"
        )
    numbers, numeric, value = _NUMBERS[connection.dialect.name]
    hour = f"e.occurred_at / {HOUR}"
    series = f"e.tenant_id, e.customer_id, e.event_type, {hour}"
    columns = (
        "INSERT INTO usage_rollups (tenant_id, customer_id, event_type, hour, property, events, "
        "high, low) "
    )
    connection.execute(
        text(
            f"{columns}SELECT {series}, '{COUNTED}', COUNT(*), 0, COUNT(*) "
            f"FROM usage_events AS e WHERE {where} GROUP BY {series}"
        ),
        key,
    )
    connection.execute(
        text(
            f"{columns}SELECT {series}, j.key, COUNT(*), SUM({value} >> 32), "
            f"SUM({value} & {_HALF}) FROM usage_events AS e, {numbers} "
            f"WHERE {where} AND {numeric} GROUP BY {series}, j.key"
        ),
        key,
    )


def whole_hours(span: Period) -> tuple[int, int] | None:
    """The first and last whole UTC hours inside ``span`` (``None`` when there is none)."""
    first = -(-span.start_micros // HOUR)
    last = span.end_micros // HOUR - 1
    return (first, last) if first <= last else None


_NONE_NAMED = (
    "NOT EXISTS (SELECT 1 FROM usage_events AS n "
    "WHERE n.tenant_id = {tenant} AND n.replaces IS NOT NULL)"
)
"""Whether no event of the tenant corrects or voids another (then none is void, and none is
replaced): asked once per statement, of the index that holds only such events."""


def running_total(
    connection: Connection, tenant_id: int, meter: Meter, customer: str, span: Period
) -> Decimal:
    """A count or sum meter's quantity over ``span`` of a customer's events, in one
    statement: the whole hours from the roll-up, the partial hours at the two ends from
    the events that count (through the customer index). Where the tenant has no event
    that corrects or voids another (:data:`_NONE_NAMED`, looked at once), an event at the
    ends is not looked up to see whether one replaces it."""
    query = Query(connection.dialect.name)
    hours = whole_hours(span)
    first, last = hours if hours is not None else (1, 0)  # no whole hour: none summed
    name = meter.property if meter.aggregation == "sum" else COUNTED
    rolled = (
        "SELECT SUM(high) AS high, SUM(low) AS low FROM usage_rollups "
        f"WHERE tenant_id = {query.bind(tenant_id)} AND customer_id = {query.bind(customer)} "
        f"AND event_type = {query.bind(meter.event_type)} AND property = {query.bind(name)} "
        f"AND hour >= {query.bind(first)} AND hour <= {query.bind(last)}"
    )
    number = "CAST(1 AS BIGINT)" if meter.aggregation == "count" else query.number(name or "")
    edges = (
        [(span.start_micros, span.end_micros)]
        if hours is None
        else [(span.start_micros, first * HOUR), ((last + 1) * HOUR, span.end_micros)]
    )
    counted = " UNION ALL ".join(
        f"SELECT {number} AS n FROM usage_events AS e WHERE e.tenant_id = {query.bind(tenant_id)} "
        f"AND e.customer_id = {query.bind(customer)} "
        f"AND e.event_type = {query.bind(meter.event_type)} "
        f"AND e.occurred_at >= {query.bind(since)} AND e.occurred_at < {query.bind(until)} "
        f"AND ({_NONE_NAMED.format(tenant=query.bind(tenant_id))} OR (NOT e.is_void "
        "AND NOT EXISTS (SELECT 1 FROM usage_events AS r "
        "WHERE r.tenant_id = e.tenant_id AND r.replaces = e.event_id)))"
        for since, until in edges
        if since < until
    )
    parts = [f"SELECT high, low FROM ({rolled}) AS rolled"]
    if counted:
        parts.append(f"SELECT SUM(n >> 32), SUM(n & {_HALF}) FROM ({counted}) AS edges")
    rows = connection.execute(text(" UNION ALL ".join(parts)), query.parameters).all()
    total = sum(_scaled(high, low) for high, low in rows)
    return from_scaled(total) if meter.aggregation == "sum" else Decimal(total)


def _scaled(high: Any, low: Any) -> int:
    """The total that two half sums stand for (``None``: no rows, zero)."""
    return (int(high or 0) << 32) + int(low or 0)
