"""The hourly roll-up of usage: what a count or sum meter reads without rescanning events.

``usage_rollups`` holds, per customer, event type, UTC hour and device, the
number of events that count (``property`` ``''``) and, for each numeric
property, the sum of its values in integer nano-units (as ``measures`` holds
them), in two halves (``high × 2³² + low``) so that neither SQLite's 64-bit sum
nor the stored column can overflow. A row with device ``''`` holds the
customer's devices together, so a check over the whole customer reads one row
an hour, however many devices report.

**Kept exact.** The rows are never incremented: every change to the events
(an append, or a device's events passed to a new owner) recomputes, in its own
transaction, the rows of the hours it touched from the stored events
themselves. A retried or duplicate append, a late event, a correction or a
void (which keeps the device, type and timestamp of the event it names, so
falls in the same hour) all end the same way: the touched hours say what the
events say. An event counts unless it is a void or a stored event names it,
as :func:`~iotbill.domain.events.counting` says of every chain that ingest
lets in.

**Concurrent writers.** Two transactions appending events of the same
customer and type at once (two ingests, two API workers) each see only their
own new events until they commit, so each alone would write a partial hour,
and the second insert of a row would collide with the first. On PostgreSQL a
refresh first takes a lock per (tenant, customer, type), all in one statement
and in one order (so two refreshes cannot wait on each other in a circle), held
until its transaction ends: the later one waits, and its statements, each with
a fresh snapshot under READ COMMITTED, then see the earlier one's events and
rows. SQLite has one writer at a time.

**Read.** :func:`running_total` sums the whole hours of a span from the
roll-up and reads the two partial hours at its ends with the meter pushed down
to the events (at most two hours of them, through the customer index).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from iotbill.adapters.storage.sql.aggregation import Query
from iotbill.domain.catalog import Meter
from iotbill.domain.periods import Period
from iotbill.domain.quantities import from_scaled
from iotbill.services.ports import EventScope

HOUR = 3_600_000_000
"""An hour in microseconds, the unit of ``occurred_at``."""
ALL_DEVICES = ""
COUNTED = ""
"""The ``property`` of the rows that count events."""
NUMBERS = {"sqlite": "json_each(e.measures) AS j", "postgresql": "jsonb_each(e.measures) AS j"}
"""Each property of an event's ``measures``, as a row ``j`` with its ``key`` and value."""
NUMERIC = {"sqlite": "j.type = 'integer'", "postgresql": "jsonb_typeof(j.value) = 'number'"}
"""Whether the property is a number (integer nano-units in ``measures``)."""
NUMBER_HALVES = {
    "sqlite": "SUM(j.value >> 32), SUM(j.value & 4294967295)",
    "postgresql": "SUM(((j.value #>> '{}')::bigint) >> 32), "
    "SUM(((j.value #>> '{}')::bigint) & 4294967295)",
}
"""The sums of the high and low 32-bit halves of a numeric property: each fits 64 bits."""
Touched = tuple[str, str, int]
"""A customer, an event type and an hour (``occurred_at // HOUR``) whose roll-up changed."""


@dataclass(frozen=True, slots=True)
class _Row:
    device: str
    hour: int
    property: str
    events: int
    high: int
    low: int


def touched_hours(
    customers: Iterable[str], types: Iterable[str], micros: Iterable[int]
) -> frozenset[Touched]:
    """The (customer, type, hour) of each event, given column by column."""
    return frozenset(
        (customer, kind, at // HOUR)
        for customer, kind, at in zip(customers, types, micros, strict=True)
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
    if connection.dialect.name == "postgresql" and by_series:
        keys = [f"iotbill usage of {tenant_id} {customer} {kind}" for customer, kind in by_series]
        connection.execute(
            text(
                "SELECT pg_advisory_xact_lock(key) FROM "
                "(SELECT DISTINCT hashtextextended(name, 0) AS key "
                "FROM unnest(CAST(:names AS text[])) AS name ORDER BY key) AS series"
            ),
            {"names": keys},
        )
    for (customer, kind), hours in sorted(by_series.items()):
        for first, last in _runs(sorted(hours)):
            _recompute(connection, tenant_id, customer, kind, first, last, naming)


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
    first: int,
    last: int,
    naming: bool,
) -> None:
    query = Query(connection.dialect.name)
    tenant, owner, event_type = query.bind(tenant_id), query.bind(customer), query.bind(kind)
    connection.execute(
        text(
            f"DELETE FROM usage_rollups WHERE tenant_id = {tenant} AND customer_id = {owner} "
            f"AND event_type = {event_type} "
            f"AND hour >= {query.bind(first)} AND hour <= {query.bind(last)}"
        ),
        query.parameters,
    )
    where = (
        f"e.tenant_id = {tenant} AND e.customer_id = {owner} AND e.event_type = {event_type} "
        f"AND e.occurred_at >= {query.bind(first * HOUR)} "
        f"AND e.occurred_at < {query.bind((last + 1) * HOUR)} AND NOT e.is_void"
    )
    if naming:
        where += (
            " AND NOT EXISTS (SELECT 1 FROM usage_events AS r "
            "WHERE r.tenant_id = e.tenant_id AND r.replaces = e.event_id)"
        )
    hour = f"e.occurred_at / {HOUR}"
    counted = (
        f"SELECT e.device_id, {hour} AS hour, '{COUNTED}', COUNT(*), 0, COUNT(*) "
        f"FROM usage_events AS e WHERE {where} GROUP BY e.device_id, {hour}"
    )
    summed = (
        f"SELECT e.device_id, {hour} AS hour, j.key, COUNT(*), {NUMBER_HALVES[query.dialect]} "
        f"FROM usage_events AS e, {NUMBERS[query.dialect]} WHERE {where} "
        f"AND {NUMERIC[query.dialect]} GROUP BY e.device_id, {hour}, j.key"
    )
    rows = [
        _Row(device, int(at), name, int(events), int(high), int(low))
        for statement in (counted, summed)
        for device, at, name, events, high, low in connection.execute(
            text(statement), query.parameters
        )
    ]
    if not rows:
        return
    connection.execute(
        text(
            "INSERT INTO usage_rollups (tenant_id, customer_id, event_type, hour, device_id, "
            "property, events, high, low) VALUES (:tenant_id, :customer_id, :event_type, :hour, "
            ":device_id, :property, :events, :high, :low)"
        ),
        [
            {
                "tenant_id": tenant_id,
                "customer_id": customer,
                "event_type": kind,
                "hour": row.hour,
                "device_id": row.device,
                "property": row.property,
                "events": row.events,
                "high": row.high,
                "low": row.low,
            }
            for row in [*rows, *_all_devices(rows)]
        ],
    )


def _all_devices(rows: list[_Row]) -> list[_Row]:
    """The rows of every device together, one per hour and property."""
    totals: dict[tuple[int, str], list[int]] = {}
    for row in rows:
        total = totals.setdefault((row.hour, row.property), [0, 0, 0])
        total[0] += row.events
        total[1] += row.high
        total[2] += row.low
    return [
        _Row(ALL_DEVICES, hour, name, events, high, low)
        for (hour, name), (events, high, low) in totals.items()
    ]


def whole_hours(span: Period) -> tuple[int, int] | None:
    """The first and last whole UTC hours inside ``span`` (``None`` when there is none)."""
    first = -(-span.start_micros // HOUR)
    last = span.end_micros // HOUR - 1
    return (first, last) if first <= last else None


def rolled_up(
    connection: Connection, tenant_id: int, meter: Meter, scope: EventScope, hours: tuple[int, int]
) -> Decimal:
    """A count or sum meter's quantity over whole ``hours`` (first, last), from the roll-up."""
    query = Query(connection.dialect.name)
    conditions = [
        f"tenant_id = {query.bind(tenant_id)}",
        f"customer_id = {query.bind(scope.customer)}",
        f"event_type = {query.bind(meter.event_type)}",
        f"property = {query.bind(meter.property if meter.aggregation == 'sum' else COUNTED)}",
        f"hour >= {query.bind(hours[0])}",
        f"hour <= {query.bind(hours[1])}",
    ]
    if scope.devices is not None:
        listed = ", ".join(query.bind(device) for device in sorted(scope.devices)) or "NULL"
        devices = f"device_id IN ({listed})"
    else:
        devices = f"device_id = {query.bind(ALL_DEVICES)}"
    statement = (
        f"SELECT SUM(high), SUM(low) FROM usage_rollups WHERE {' AND '.join(conditions)} "
        f"AND {devices}"
    )
    high, low = connection.execute(text(statement), query.parameters).one()
    total = _scaled(high, low)
    if scope.devices is None and scope.excluded_devices:
        listed = ", ".join(query.bind(device) for device in sorted(scope.excluded_devices))
        statement = (
            f"SELECT SUM(high), SUM(low) FROM usage_rollups WHERE {' AND '.join(conditions)} "
            f"AND device_id IN ({listed})"
        )
        total -= _scaled(*connection.execute(text(statement), query.parameters).one())
    return from_scaled(total) if meter.aggregation == "sum" else Decimal(total)


def _scaled(high: Any, low: Any) -> int:
    """The total that two half sums stand for (``None``: no rows, zero)."""
    return (int(high or 0) << 32) + int(low or 0)
