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
  statement over a JSON array of the rows (:func:`add`). Repeats of stored ids add nothing. Sums
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

**By the hour, what is recent.** Events stored at most two days after their
timestamps (:data:`~daily_sums.RECENT`: devices posting as they go) are also
rolled up by the UTC hour, in ``usage_rollup_hours``, kept the same way; late
events (a backfill, last month's file) only by the day, so an ingest of them
adds no more rows. A day whose two counts agree holds only recent events.

**Read.** :func:`running_total` sums the whole days of a span, one row a day,
and each day it covers in part from its events or as the day's row less the
events it leaves out, whichever is shorter; a day covered in part whose events
are all recent, the same way by the hour. Only numbers
count as numbers: a value sent as text (``"2.5"``) is not summed here, as the
SQL meters do not sum it either.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy import Connection, text

from iotbill.adapters.storage.sql.aggregation import Query
from iotbill.adapters.storage.sql.daily_sums import COUNTED, DAY, HALF, HOUR, RECENT, Increment
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
    connection: Connection,
    tenant_id: int,
    days: Sequence[Increment],
    hours: Sequence[Increment] = (),
    *,
    alone: bool = False,
) -> None:
    """Add ``days`` to the daily roll-up and ``hours`` (of the recent events) to the hourly
    one, holding their series first (``alone``: not shared with other adds).

    PostgreSQL: one statement holds the series, chooses this writer's slot and
    upserts both, each of arrays in the order of its roll-up's key (one statement
    per row, as ``executemany`` sends them, costs the server many times more; a
    statement apart for each step cost a request of ``POST /v1/events`` two more
    round trips). SQLite: one upsert of the rows given as one JSON array (one upsert per
    row returned to Python between rows, and each return waited its turn for the
    interpreter lock behind the thread preparing the next batch).
    """
    if not days:
        return
    if connection.dialect.name == "postgresql":
        series = {(row[0], row[1]) for row in days}
        _add_postgresql(connection, tenant_id, _names(tenant_id, series), not alone, days, hours)
        return
    _add_sqlite(connection, tenant_id, "usage_rollups", "day", days)
    _add_sqlite(connection, tenant_id, "usage_rollup_hours", "hour", hours)


def _add_sqlite(
    connection: Connection, tenant_id: int, table: str, bucket: str, found: Sequence[Increment]
) -> None:
    """Add ``found`` to the roll-up rows of ``table``, creating those that do not exist yet."""
    if not found:
        return
    fields = ", ".join(f"json_extract(value, '$[{column}]')" for column in range(7))
    cursor = connection.connection.cursor()
    try:
        cursor.execute(
            _upsert(table, bucket, f"SELECT {tenant_id}, {fields}, 0 FROM json_each(?) WHERE true"),
            (msgspec.json.encode(found).decode(),),
        )
    finally:
        cursor.close()


def _add_postgresql(
    connection: Connection,
    tenant_id: int,
    names: list[str],
    shared: bool,
    days: Sequence[Increment],
    hours: Sequence[Increment],
) -> None:
    """Hold the series of ``names`` (``shared`` with other adds, or alone), then add ``days``
    and ``hours`` into the slot of this writer, in one statement.

    The slot is chosen once the series are held (it is computed from them), and each
    upsert reads it before its first row: the order of :func:`hold`, then the adds."""
    lock = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    mine = f"mod(s + pg_backend_pid(), {SLOTS})"  # from the process's own slot on
    slot = (
        f"COALESCE((SELECT {mine} FROM generate_series(0, {SLOTS - 1}) AS s WHERE "
        f"pg_try_advisory_xact_lock(hashtext('iotbill usage slots of {int(tenant_id)}'), "
        f"{mine}) LIMIT 1), mod(pg_backend_pid(), {SLOTS}))"
    )  # once: the first slot free, held to the end; with none free, one shared with others

    rows = (  # of seven arrays: the columns of the increments
        f"SELECT {int(tenant_id)}, r.customer_id, r.event_type, r.bucket, r.property, "
        "r.events, r.high, r.low, (SELECT chosen.s FROM chosen) FROM unnest(%s::text[], "
        "%s::text[], %s::bigint[], %s::text[], %s::bigint[], %s::bigint[], %s::bigint[]) "
        "AS r(customer_id, event_type, bucket, property, events, high, low) "
        "ORDER BY r.customer_id, r.event_type, r.property, r.bucket"
    )

    connection.exec_driver_sql(
        f"WITH held AS MATERIALIZED (SELECT count({lock}(key)) AS series FROM "
        "(SELECT DISTINCT hashtextextended(name, 0) AS key "
        "FROM unnest(%s::text[]) AS name ORDER BY key) AS series), "
        f"chosen AS MATERIALIZED (SELECT {slot} AS s FROM held), "
        f"days AS ({_upsert('usage_rollups', 'day', rows)}) "
        + _upsert("usage_rollup_hours", "hour", rows),
        (names, *_columns(days), *_columns(hours)),
    )


def _columns(found: Sequence[Increment]) -> list[list[Any]]:
    """The seven columns of ``found``, each a list (an empty list each, if none)."""
    if not found:
        return [[] for _ in range(7)]
    return [list(column) for column in zip(*found, strict=True)]


def _upsert(table: str, bucket: str, rows: str) -> str:
    """The statement adding ``rows`` (all the columns of a roll-up row, in order) to
    ``table`` (whose bucket is ``bucket``), each to the row of its key if there is one."""
    return (
        f"INSERT INTO {table} (tenant_id, customer_id, event_type, {bucket}, property, events, "
        f"high, low, slot) {rows} "
        f"ON CONFLICT (tenant_id, customer_id, event_type, property, {bucket}, slot) DO UPDATE "
        f"SET events = {table}.events + excluded.events, "
        f"high = {table}.high + excluded.high, low = {table}.low + excluded.low"
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
    names = _names(tenant_id, series)
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


def _names(tenant_id: int, series: Iterable[tuple[str, str]]) -> list[str]:
    """The names of the locks of ``series`` (customer, type) of a tenant."""
    return [f"iotbill usage of {tenant_id} {customer} {kind}" for customer, kind in series]


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
    """Rewrite the daily rows of ``days`` (first and last) of a customer's events of a
    type, and their hourly rows (of the recent events), from the stored events."""
    key: dict[str, Any] = {
        "tenant": tenant_id,
        "customer": customer,
        "kind": kind,
        "since": days[0] * DAY,
        "until": (days[1] + 1) * DAY,
    }
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
    recent = f" AND e.occurred_at >= e.received_at - {RECENT}"
    for table, bucket, micros, chosen in (
        ("usage_rollups", "day", DAY, where),
        ("usage_rollup_hours", "hour", HOUR, where + recent),
    ):
        connection.execute(
            text(
                f"DELETE FROM {table} WHERE tenant_id = :tenant AND customer_id = :customer "
                f"AND event_type = :kind AND {bucket} >= {days[0] * DAY // micros} "
                f"AND {bucket} < {(days[1] + 1) * DAY // micros}"
            ),
            key,
        )
        series = f"e.tenant_id, e.customer_id, e.event_type, e.occurred_at / {micros}"
        columns = (
            f"INSERT INTO {table} (tenant_id, customer_id, event_type, {bucket}, property, "
            "events, high, low) "
        )
        connection.execute(
            text(
                f"{columns}SELECT {series}, '{COUNTED}', COUNT(*), 0, COUNT(*) "
                f"FROM usage_events AS e WHERE {chosen} GROUP BY {series}"
            ),
            key,
        )
        connection.execute(
            text(
                f"{columns}SELECT {series}, j.key, COUNT(*), SUM({value} >> 32), "
                f"SUM({value} & {HALF}) FROM usage_events AS e, {numbers} "
                f"WHERE {chosen} AND {numeric} GROUP BY {series}, j.key"
            ),
            key,
        )


@dataclass(frozen=True, slots=True)
class Reading:
    """How :func:`running_total` reads a span: the days ``first`` to ``last`` from the daily
    roll-up (none when ``first > last``), the hours of each ``(first, last)`` in ``hours``
    from the hourly one, then the events of each ``(sign, since, until)`` stretch
    (microseconds, ``until`` excluded) added (``+1``) or taken away (``-1``)."""

    first: int
    last: int
    stretches: tuple[tuple[int, int, int], ...]
    hours: tuple[tuple[int, int], ...] = ()

    @property
    def partial(self) -> tuple[int, ...]:
        """The days read in part from events: those the hourly roll-up could read instead."""
        return tuple(sorted({since // DAY for _, since, _ in self.stretches}))


def _cover(start: int, end: int, size: int) -> tuple[list[int], list[tuple[int, int, int]]]:
    """``[start, end)`` as buckets of ``size`` microseconds (whole, or the ones it covers
    in part, read as their row less the events left out) and stretches of events, each
    bucket covered in part read from the side shorter in time."""
    first, last = start // size, (end - 1) // size
    rolled: list[int] = []
    stretches: list[tuple[int, int, int]] = []
    for bucket in sorted({first, last}):
        low, high = bucket * size, (bucket + 1) * size
        since, until = max(start, low), min(end, high)
        if (since, until) == (low, high):
            rolled.append(bucket)  # covered whole
        elif (since - low) + (high - until) < until - since:
            rolled.append(bucket)
            stretches += [(-1, a, b) for a, b in ((low, since), (until, high)) if a < b]
        else:
            stretches.append((1, since, until))
    return [*rolled, *range(first + 1, last)], stretches  # every bucket between is whole


def reading(span: Period, hourly: frozenset[int] = frozenset()) -> Reading:
    """How to read ``span``: its whole UTC days from the daily roll-up, and each day it
    covers in part (at most two: where it starts and where it ends) from whichever side is
    shorter; or, for the days in ``hourly`` (whose events the hourly roll-up all holds),
    by the hour the same way.

    A part ``[a, b)`` of day ``[d, d + DAY)`` is read from its events, or as the day's
    row less the events of ``[d, a)`` and ``[b, d + DAY)``, whichever stretches are
    shorter in time: at most half a day of events is read at each end (half an hour by
    the hour). A check as of now reads today's row less the events after now (normally
    none). For a span from 1 January 00:00 to 3 January 15:00 (UTC): the rows of 1 to 3
    January, less the events of 3 January from 15:00 on (9 hours, not 15); by the hour,
    the rows of 1 and 2 January and of 3 January's hours 00:00 to 14:00.
    """
    start, end = span.start_micros, span.end_micros
    if end <= start:
        return Reading(1, 0, ())
    days, stretches = _cover(start, end, DAY)
    hours: list[tuple[int, int]] = []
    for day in sorted({since // DAY for _, since, _ in stretches} & hourly):
        stretches = [stretch for stretch in stretches if stretch[1] // DAY != day]
        if day in days:  # read as the day's row less the events left out: by the hour instead
            days.remove(day)
        since, until = max(start, day * DAY), min(end, (day + 1) * DAY)
        whole, parts = _cover(since, until, HOUR)
        if whole:
            hours.append((min(whole), max(whole)))
        stretches += parts
    if not days:
        return Reading(1, 0, tuple(stretches), tuple(hours))
    return Reading(min(days), max(days), tuple(stretches), tuple(hours))


_NONE_NAMED = (
    "NOT EXISTS (SELECT 1 FROM usage_events AS n "
    "WHERE n.tenant_id = {tenant} AND n.replaces IS NOT NULL)"
)
"""Whether no event of the tenant corrects or voids another (then none is void, and none is
replaced): asked once per statement, of the index that holds only such events."""


def running_total(
    connection: Connection, tenant_id: int, meter: Meter, customer: str, span: Period
) -> Decimal:
    """A count or sum meter's quantity over ``span`` of a customer's events, read as
    :func:`reading` says: days (and hours) from the roll-up, stretches from the events
    that count (through the customer index). Where the tenant has no event that corrects
    or voids another (:data:`_NONE_NAMED`, looked at once), an event in a stretch is not
    looked up to see whether one replaces it.

    The days read in part whose events are all recent are read by the hour: one
    statement asks which they are (a day's count in each roll-up), the next reads the
    total and asks again, in its own snapshot; if a day has since received an event
    that is not recent, the total is read again by the day.
    """
    plan = reading(span)
    hourly = _all_recent(connection, tenant_id, meter, customer, plan.partial)
    if hourly:
        total, held = _total(connection, tenant_id, meter, customer, reading(span, hourly))
        if held:
            return total
    return _total(connection, tenant_id, meter, customer, plan)[0]


def _all_recent(
    connection: Connection, tenant_id: int, meter: Meter, customer: str, days: Sequence[int]
) -> frozenset[int]:
    """Which of ``days`` the hourly roll-up holds all the events of (a customer's, of the
    meter's type): those whose counts agree in the two roll-ups."""
    if not days:
        return frozenset()
    query = Query(connection.dialect.name)
    rows = connection.execute(
        text(_counts(query, tenant_id, meter, customer, days)), query.parameters
    )
    return _agreeing(rows.all())


def _counts(query: Query, tenant_id: int, meter: Meter, customer: str, days: Sequence[int]) -> str:
    """A statement of ``(roll-up, day, events, 0)`` for ``days``: each day's count of events
    in the daily roll-up (``0``) and in the hourly one (``1``)."""
    key = _series(query, tenant_id, meter, customer, COUNTED)
    daily = " OR ".join(f"day = {query.bind(day)}" for day in days)
    hourly = " OR ".join(
        f"(hour >= {query.bind(day * 24)} AND hour < {query.bind(day * 24 + 24)})" for day in days
    )
    return (
        f"SELECT 0, day, SUM(events), 0 FROM usage_rollups WHERE {key} AND ({daily}) "
        "GROUP BY day "
        f"UNION ALL SELECT 1, hour / 24, SUM(events), 0 FROM usage_rollup_hours "
        f"WHERE {key} AND ({hourly}) GROUP BY hour / 24"
    )


def _series(query: Query, tenant_id: int, meter: Meter, customer: str, name: str) -> str:
    """The condition on roll-up rows of a customer's events of the meter's type, property
    ``name``."""
    return (
        f"tenant_id = {query.bind(tenant_id)} AND customer_id = {query.bind(customer)} "
        f"AND event_type = {query.bind(meter.event_type)} AND property = {query.bind(name)}"
    )


def _agreeing(rows: Sequence[Any]) -> frozenset[int]:
    """The days whose counts (rows of :func:`_counts`) agree."""
    counts: dict[int, list[int]] = {}
    for table, day, events, _ in rows:
        counts.setdefault(int(day), [0, 0])[int(table)] = int(events or 0)
    return frozenset(day for day, (daily, hourly) in counts.items() if daily == hourly)


def _total(
    connection: Connection, tenant_id: int, meter: Meter, customer: str, plan: Reading
) -> tuple[Decimal, bool]:
    """The meter's quantity read as ``plan`` says, and whether the hourly roll-up still
    holds all the events of each day it reads hourly rows of, in the same snapshot."""
    query = Query(connection.dialect.name)
    name = meter.property if meter.aggregation == "sum" else COUNTED
    key = _series(query, tenant_id, meter, customer, name or COUNTED)
    rolled = (
        f"SELECT SUM(high) AS high, SUM(low) AS low FROM usage_rollups WHERE {key} "
        f"AND day >= {query.bind(plan.first)} AND day <= {query.bind(plan.last)}"
    )
    parts = [f"SELECT 2, 0, high, low FROM ({rolled}) AS rolled"]
    if plan.hours:
        spans = " OR ".join(
            f"(hour >= {query.bind(first)} AND hour <= {query.bind(last)})"
            for first, last in plan.hours
        )
        parts.append(
            f"SELECT 2, 0, SUM(high), SUM(low) FROM usage_rollup_hours WHERE {key} AND ({spans})"
        )
    number = "CAST(1 AS BIGINT)" if meter.aggregation == "count" else query.number(name or "")
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
                f"SELECT 2, 0, {sign} * SUM(n >> 32), {sign} * SUM(n & {HALF}) "
                f"FROM ({counted}) AS stretches"
            )
    by_hour = sorted({first // 24 for first, _ in plan.hours})
    if by_hour:
        parts.append(f"SELECT * FROM ({_counts(query, tenant_id, meter, customer, by_hour)}) AS c")
    rows = connection.execute(text(" UNION ALL ".join(parts)), query.parameters).all()
    total = sum(_scaled(high, low) for tag, _, high, low in rows if tag == 2)
    held = _agreeing([row for row in rows if row[0] != 2]) >= set(by_hour)
    found = from_scaled(total) if meter.aggregation == "sum" else Decimal(total)
    return found, held


def _scaled(high: Any, low: Any) -> int:
    """The total that two half sums stand for (``None``: no rows, zero)."""
    return (int(high or 0) << 32) + int(low or 0)
