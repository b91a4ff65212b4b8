"""The hourly roll-up of usage: what a count or sum meter reads without rescanning events.

``usage_rollups`` holds, per customer, event type and UTC hour, the number of
events that count (``property`` ``''``) and, for each numeric property, the
sum of its values in integer nano-units (as ``measures`` holds them), in two
halves (``high × 2³² + low``) so that neither SQLite's 64-bit sums nor a stored
column can overflow.

**Kept exact, in the transaction that changes the events.**

* An append whose events are all new and name no other event adds its own
  sums to the rows of its hours (:func:`add`; they were computed while the
  batch was prepared, :func:`increments`). Sums commute, so two writers side
  by side add up right.
* Any other append (some events already stored: a replay, or events that
  correct or void others), and every device move, recomputes the rows of the
  hours it touched from the stored events themselves (:func:`refresh`). An
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


def touched_hours(events: Sequence[UsageEvent], customers: Sequence[str]) -> frozenset[Touched]:
    """The (customer, type, hour) of each event."""
    return frozenset(
        (customer, event.type, (event.timestamp - EPOCH) // ONE_MICROSECOND // HOUR)
        for event, customer in zip(events, customers, strict=True)
    )


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
    """Add ``found`` to the roll-up rows, creating those that do not exist yet."""
    if not found:
        return
    _hold(connection, tenant_id, {(row[0], row[1]) for row in found})
    statement = (
        "INSERT INTO usage_rollups (tenant_id, customer_id, event_type, hour, property, events, "
        "high, low) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (tenant_id, customer_id, event_type, property, hour) DO UPDATE SET "
        "events = usage_rollups.events + excluded.events, "
        "high = usage_rollups.high + excluded.high, low = usage_rollups.low + excluded.low"
    )
    if connection.dialect.name == "postgresql":
        statement = statement.replace("?", "%s")
    cursor = connection.connection.cursor()
    try:
        cursor.executemany(statement, [(tenant_id, *row) for row in found])
    finally:
        cursor.close()


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
