"""The daily roll-up of usage: what a count or sum meter reads without rescanning events.

``usage_rollups`` holds, per customer, event type and UTC day, the number of
events that count (``property`` ``''``) and, for each numeric property, the
sum of its values in integer nano-units (as ``measures`` holds them), in two
halves (``high × 2³² + low``) so that neither SQLite's 64-bit sums nor a stored
column can overflow.

**Why days.** An append adds to one row per customer, type, property and
bucket it touches. A batch read from a file or a backfill spans days or weeks
of many customers: with hours, 100,000 events of 100 customers over a month
touch some 110,000 rows, about one upsert per event, which cost more than
writing the events; with days, 6,200. A read then takes at most half a day of
events at each end of its span (see :func:`reading`).

**Kept exact, in the transaction that changes the events.**

* The new events of an append that name no other add their sums to the rows
  of their days, computed while the batch was prepared, a column at a time
  (``daily_sums``); those the store had already (a replay) are left out by
  their ids, which the write reports. On PostgreSQL the sums are upserted by
  one statement in the order of the roll-up's key, on SQLite by one
  ``executemany`` (:func:`add`). Repeats of stored ids add nothing. Sums
  commute, so two writers side by side add up right.
* The days of events that correct or void another, and every device move,
  are recomputed from the stored events themselves (:func:`refresh`). An
  event counts unless it is a void or a stored event names it, as
  :func:`~iotbill.domain.events.counting` says of every chain ingest lets in;
  a correction or a void keeps the day of the event it names.

**Concurrent writers.** Each writer sees only its own new events until it
commits, so a refresh beside another writer of the same days would write a
partial day. On PostgreSQL each first locks every (tenant, customer, type) it
touches until its transaction ends, in one statement and in one order (so two
writers cannot wait on each other in a circle): an add shares the lock with
other adds, a refresh (and an append with events that correct or void, for
all it touches) holds it alone. So a refresh waits for the adds under way and
they for it, and its statements, each with a fresh snapshot under READ
COMMITTED, then see their events and rows. Adds go side by side: each adds
to a slot of its own (``slot``, one of :data:`SLOTS`, the first no other
writer of the tenant holds), so two adds to the same customer and day do not
wait on one row until the other commits; a read sums the slots, a refresh
rewrites a day into slot 0. Devices of one customer posting at once are
stored at once. SQLite has one writer at a time, always slot 0.

**Read.** :func:`running_total` sums the whole days of a span, one row a day,
and each day it covers in part from its events or as the day's row less the
events it leaves out, whichever is shorter, in one statement. Only numbers
count as numbers: a value sent as text (``"2.5"``) is not summed here, as the
SQL meters do not sum it either.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from iotbill.adapters.storage.sql.aggregation import Query
from iotbill.adapters.storage.sql.daily_sums import COUNTED, DAY, HALF, Increment
from iotbill.domain.catalog import Meter
from iotbill.domain.periods import Period
from iotbill.domain.quantities import from_scaled

Touched = tuple[str, str, int]
"""A customer, an event type and a day (``occurred_at // DAY``) whose roll-up changed."""
_NUMBERS = {
    "sqlite": ("json_each(e.measures) AS j", "j.type = 'integer' AND j.key <> ''", "j.value"),
    "postgresql": (
        "jsonb_each(e.measures) AS j",
        "jsonb_typeof(j.value) = 'number' AND j.key <> ''",
        "((j.value #>> '{}')::bigint)",
    ),
}
"""Per dialect: each property of ``measures`` as a row ``j``, whether it is a number to sum
(a property named ``''`` is not: that is the count's row, and no meter sums it, as a
plan's ``property`` is never empty), and its value in nano-units."""


SLOTS = 16
"""PostgreSQL: how many rows per key writers add to side by side (see the module)."""


def add(
    connection: Connection, tenant_id: int, found: Sequence[Increment], *, alone: bool = False
) -> None:
    """Add ``found`` to the roll-up rows, creating those that do not exist yet.

    PostgreSQL: one upsert in the order of the roll-up's key, of arrays, into the
    slot of this writer (one statement per row, as ``executemany`` sends them, costs
    the server many times more); ``alone``: hold the series alone (a refresh follows
    in this transaction), not shared. SQLite: one upsert per row, run in C.
    """
    if not found:
        return
    hold(connection, tenant_id, {(row[0], row[1]) for row in found}, shared=not alone)
    if connection.dialect.name != "postgresql":
        cursor = connection.connection.cursor()
        try:
            cursor.executemany(
                _upsert(f"VALUES ({tenant_id}, ?, ?, ?, ?, ?, ?, ?, 0)"), list(found)
            )
        finally:
            cursor.close()
        return
    mine = f"mod(s + pg_backend_pid(), {SLOTS})"  # from the process's own slot on
    slot = (
        f"COALESCE((SELECT {mine} FROM generate_series(0, {SLOTS - 1}) AS s WHERE "
        f"pg_try_advisory_xact_lock(hashtext('iotbill usage slots of {int(tenant_id)}'), "
        f"{mine}) LIMIT 1), mod(pg_backend_pid(), {SLOTS}))"
    )  # once: the first slot free, held to the end; with none free, one shared with others
    connection.exec_driver_sql(
        f"WITH chosen AS MATERIALIZED (SELECT {slot} AS s) "
        + _upsert(
            f"SELECT {int(tenant_id)}, r.customer_id, r.event_type, r.day, r.property, r.events, "
            "r.high, r.low, (SELECT chosen.s FROM chosen) FROM unnest(%s::text[], %s::text[], "
            "%s::bigint[], "
            "%s::text[], %s::bigint[], %s::bigint[], %s::bigint[]) "
            "AS r(customer_id, event_type, day, property, events, high, low) "
            "ORDER BY r.customer_id, r.event_type, r.property, r.day"
        ),
        tuple(list(column) for column in zip(*found, strict=True)),
    )


def _upsert(rows: str) -> str:
    """The statement adding ``rows`` (all the columns of a roll-up row, in order) to the
    roll-up, each to the row of its key if there is one."""
    return (
        "INSERT INTO usage_rollups (tenant_id, customer_id, event_type, day, property, events, "
        f"high, low, slot) {rows} "
        "ON CONFLICT (tenant_id, customer_id, event_type, property, day, slot) DO UPDATE SET "
        "events = usage_rollups.events + excluded.events, "
        "high = usage_rollups.high + excluded.high, low = usage_rollups.low + excluded.low"
    )


def hold(
    connection: Connection,
    tenant_id: int,
    series: Iterable[tuple[str, str]],
    *,
    shared: bool = False,
) -> None:
    """On PostgreSQL, lock each (customer, type) ``series`` until the transaction ends:
    ``shared`` with other adds, else alone."""
    names = [f"iotbill usage of {tenant_id} {customer} {kind}" for customer, kind in series]
    if connection.dialect.name != "postgresql" or not names:
        return
    lock = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    connection.execute(
        text(
            f"SELECT {lock}(key) FROM "
            "(SELECT DISTINCT hashtextextended(name, 0) AS key "
            "FROM unnest(CAST(:names AS text[])) AS name ORDER BY key) AS series"
        ),
        {"names": names},
    )


def refresh(
    connection: Connection, tenant_id: int, touched: Iterable[Touched], *, naming: bool
) -> None:
    """Recompute the roll-up rows of the ``touched`` days from the stored events.

    ``naming``: whether any event of the tenant corrects or voids another (when
    none does, every event that is not a void counts, and no lookup is needed).
    """
    by_series: defaultdict[tuple[str, str], set[int]] = defaultdict(set)
    for customer, kind, day in touched:
        by_series[(customer, kind)].add(day)
    hold(connection, tenant_id, by_series)
    for (customer, kind), days in sorted(by_series.items()):
        for first, last in _runs(sorted(days)):
            _recompute(connection, tenant_id, customer, kind, (first, last), naming)


def _runs(days: list[int]) -> list[tuple[int, int]]:
    """Consecutive days merged: ``[1, 2, 3, 7]`` gives ``[(1, 3), (7, 7)]``."""
    runs: list[tuple[int, int]] = []
    for day in days:
        if runs and runs[-1][1] == day - 1:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def _recompute(
    connection: Connection,
    tenant_id: int,
    customer: str,
    kind: str,
    days: tuple[int, int],
    naming: bool,
) -> None:
    key: dict[str, Any] = {
        "tenant": tenant_id,
        "customer": customer,
        "kind": kind,
        "first": days[0],
        "last": days[1],
        "since": days[0] * DAY,
        "until": (days[1] + 1) * DAY,
    }
    connection.execute(
        text(
            "DELETE FROM usage_rollups WHERE tenant_id = :tenant AND customer_id = :customer "
            "AND event_type = :kind AND day >= :first AND day <= :last"
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
    day = f"e.occurred_at / {DAY}"
    series = f"e.tenant_id, e.customer_id, e.event_type, {day}"
    columns = (
        "INSERT INTO usage_rollups (tenant_id, customer_id, event_type, day, property, events, "
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
            f"SUM({value} & {HALF}) FROM usage_events AS e, {numbers} "
            f"WHERE {where} AND {numeric} GROUP BY {series}, j.key"
        ),
        key,
    )


@dataclass(frozen=True, slots=True)
class Reading:
    """How :func:`running_total` reads a span: the days ``first`` to ``last`` from the
    roll-up (none when ``first > last``), then the events of each ``(sign, since, until)``
    stretch (microseconds, ``until`` excluded) added (``+1``) or taken away (``-1``)."""

    first: int
    last: int
    stretches: tuple[tuple[int, int, int], ...]


def reading(span: Period) -> Reading:
    """How to read ``span``: its whole UTC days from the roll-up, and each day it covers in
    part (at most two: where it starts and where it ends) from whichever side is shorter.

    A part ``[a, b)`` of day ``[d, d + DAY)`` is read from its events, or as the day's
    row less the events of ``[d, a)`` and ``[b, d + DAY)``, whichever stretches are
    shorter in time: at most half a day of events is read at each end. A check as of
    now reads today's row less the events after now (normally none). For a span from
    1 January 00:00 to 3 January 15:00 (UTC): the rows of 1 to 3 January, less the
    events of 3 January from 15:00 on (9 hours, not 15).
    """
    start, end = span.start_micros, span.end_micros
    if end <= start:
        return Reading(1, 0, ())
    first_day, last_day = start // DAY, (end - 1) // DAY
    rolled: list[int] = []
    stretches: list[tuple[int, int, int]] = []
    for day in sorted({first_day, last_day}):
        since, until = max(start, day * DAY), min(end, (day + 1) * DAY)
        if (since, until) == (day * DAY, (day + 1) * DAY):
            rolled.append(day)  # covered whole
        elif (since - day * DAY) + ((day + 1) * DAY - until) < until - since:
            rolled.append(day)
            stretches += [
                (-1, a, b) for a, b in ((day * DAY, since), (until, (day + 1) * DAY)) if a < b
            ]
        else:
            stretches.append((1, since, until))
    inner = range(first_day + 1, last_day)  # every day between the two is covered whole
    days = [*rolled, *inner]
    if not days:
        return Reading(1, 0, tuple(stretches))
    return Reading(min(days), max(days), tuple(stretches))


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
    statement, read as :func:`reading` says: days from the roll-up, stretches from the
    events that count (through the customer index). Where the tenant has no event
    that corrects or voids another (:data:`_NONE_NAMED`, looked at once), an event in
    a stretch is not looked up to see whether one replaces it."""
    query = Query(connection.dialect.name)
    plan = reading(span)
    name = meter.property if meter.aggregation == "sum" else COUNTED
    rolled = (
        "SELECT SUM(high) AS high, SUM(low) AS low FROM usage_rollups "
        f"WHERE tenant_id = {query.bind(tenant_id)} AND customer_id = {query.bind(customer)} "
        f"AND event_type = {query.bind(meter.event_type)} AND property = {query.bind(name)} "
        f"AND day >= {query.bind(plan.first)} AND day <= {query.bind(plan.last)}"
    )
    number = "CAST(1 AS BIGINT)" if meter.aggregation == "count" else query.number(name or "")
    parts = [f"SELECT high, low FROM ({rolled}) AS rolled"]
    for sign in (1, -1):
        counted = " UNION ALL ".join(
            f"SELECT {number} AS n FROM usage_events AS e "
            f"WHERE e.tenant_id = {query.bind(tenant_id)} "
            f"AND e.customer_id = {query.bind(customer)} "
            f"AND e.event_type = {query.bind(meter.event_type)} "
            f"AND e.occurred_at >= {query.bind(since)} AND e.occurred_at < {query.bind(until)} "
            f"AND ({_NONE_NAMED.format(tenant=query.bind(tenant_id))} OR (NOT e.is_void "
            "AND NOT EXISTS (SELECT 1 FROM usage_events AS r "
            "WHERE r.tenant_id = e.tenant_id AND r.replaces = e.event_id)))"
            for signed, since, until in plan.stretches
            if signed == sign
        )
        if counted:
            parts.append(
                f"SELECT {sign} * SUM(n >> 32), {sign} * SUM(n & {HALF}) "
                f"FROM ({counted}) AS stretches"
            )
    rows = connection.execute(text(" UNION ALL ".join(parts)), query.parameters).all()
    total = sum(_scaled(high, low) for high, low in rows)
    return from_scaled(total) if meter.aggregation == "sum" else Decimal(total)


def _scaled(high: Any, low: Any) -> int:
    """The total that two half sums stand for (``None``: no rows, zero)."""
    return (int(high or 0) << 32) + int(low or 0)
