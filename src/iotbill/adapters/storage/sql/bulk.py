"""Appending events fast: one statement per batch, never one per event.

A batch is prepared a column at a time, before its transaction begins: every
event's properties are encoded to JSON in one call, and ``measures`` (see
``tables``) are computed a property at a time with the pure core's exact
number conversion (:mod:`~iotbill.adapters.storage.sql.measures`). Rows are
written in the order of the customer index (by customer, event type and
timestamp): consecutive rows then land side by side in that index.

SQLite: multi-row ``INSERT OR IGNORE ... VALUES (...), (...) ...`` statements
of 4,680 rows each (as many as SQLite takes parameters for: the batch's one
``received_at`` is a single parameter that every row names), run with
``executemany``. SQLite inserts each statement's rows in one call into C,
which runs without Python's global interpreter lock, so the next batch is
prepared, and the next lines decoded, while this one is written. (A one-row
statement per event returns to Python for every row, and beside a busy
thread each return waits its turn for the lock: many times slower. Each
statement is one such return, so the fewer, the better.)
PostgreSQL: ``COPY`` of one text buffer straight into ``usage_events`` inside
a savepoint, which is as fast as PostgreSQL loads rows; only if the batch
repeats a stored id (the COPY fails on the unique index) is the savepoint
rolled back and the batch copied into a temporary table and moved with
``INSERT ... SELECT ... ON CONFLICT DO NOTHING``. Either way the database's
unique index decides what is a duplicate, at write time, so concurrent writers
cannot both store an id.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from itertools import repeat
from operator import attrgetter, itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from iotbill.adapters.storage.sql import daily_sums
from iotbill.adapters.storage.sql.measures import json_lines, measured
from iotbill.adapters.storage.sql.tables import usage_events
from iotbill.adapters.storage.sql.windows import ARRAY, VALUES
from iotbill.domain.errors import InvalidInput
from iotbill.domain.events import UsageEvent, naming_another
from iotbill.domain.periods import EPOCH, ONE_MICROSECOND

COLUMNS = (
    "tenant_id",
    "event_id",
    "event_type",
    "device_id",
    "customer_id",
    "occurred_at",
    "received_at",
    "properties",
    "measures",
)
_COLUMN_LIST = ", ".join(COLUMNS)
# SQLite: the tenant, an integer of ours, is written into the statement, and received_at,
# one value for the whole batch, is its first parameter, which every row names.
_SQLITE_COLUMNS = ("tenant_id", "received_at", *(c for c in COLUMNS[1:] if c != "received_at"))
_SQLITE_PARAMETERS = len(_SQLITE_COLUMNS) - 2  # of each row
_SQLITE_ROWS_PER_STATEMENT = (
    (32766 if sqlite3.sqlite_version_info >= (3, 32) else 999) - 1
) // _SQLITE_PARAMETERS  # SQLite's limit on parameters per statement: 32,766 since 3.32, 999 before
_STAGE = (
    "CREATE TEMPORARY TABLE staged_usage_events (tenant_id integer, event_id text, "
    "event_type text, device_id text, customer_id text, occurred_at bigint, "
    "received_at bigint, properties text, measures jsonb) ON COMMIT DROP"
)
# COPY's text format gives these characters a meaning; in a value they are escaped.
_COPY_SPECIAL = ("\\", "\t", "\n", "\r")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})

Row = tuple[int, str, str, str, str, int, int, str, str]
TenantRow = tuple[str, str, str, str, int, int, str, str]
"""A row but for its first column, the tenant."""
_PREPARING = threading.Lock()
_ID = attrgetter("id")


@dataclass(frozen=True, slots=True)
class EventRows:
    """A batch of ``usage_events`` rows, column by column, but for the tenant.

    The columns are in the order the events came in, the order they lie in
    memory: reading millions of objects in any other order costs several times
    more. Only the finished rows are put in ``order``: the order of the customer
    index, by customer, type and timestamp.
    """

    event_ids: list[str]
    event_types: list[str]
    devices: list[str]
    customers: Sequence[str]
    occurred_at: list[int]
    received_at: int
    properties: list[str]
    measures: list[str]
    order: list[int]
    sums: daily_sums.Sums
    """The columns the roll-up adds up (see ``rollups``)."""

    @classmethod
    def prepare(
        cls, events: Sequence[UsageEvent], customers: Sequence[str], received_at: datetime
    ) -> EventRows:
        """The rows of ``events``, each stored with its owner in ``customers``."""
        ids = list(map(_ID, events))
        types = [event.type for event in events]
        properties = [event.properties for event in events]
        occurred_at = [(event.timestamp - EPOCH) // ONE_MICROSECOND for event in events]
        instants = np.array(occurred_at, np.int64)
        owners, owner_of = _factorized(customers)
        kinds, kind_of = _factorized(types)
        measures, numbers = measured(properties)
        order = np.lexsort((instants, kind_of, owner_of))
        received = (received_at - EPOCH) // ONE_MICROSECOND
        return cls(
            event_ids=ids,
            event_types=types,
            devices=[event.device for event in events],
            customers=customers,
            occurred_at=occurred_at,
            received_at=received,
            properties=json_lines(properties),
            measures=measures,
            order=order.tolist(),
            sums=daily_sums.Sums.of(
                ids,
                owners,
                owner_of,
                kinds,
                kind_of,
                instants,
                numbers,
                received,
            ),
        )

    def __len__(self) -> int:
        return len(self.event_ids)

    def tuples(self) -> list[TenantRow]:
        """The rows as tuples of :data:`COLUMNS` but the first, in index order."""
        found = list(
            zip(
                self.event_ids,
                self.event_types,
                self.devices,
                self.customers,
                self.occurred_at,
                repeat(self.received_at),
                self.properties,
                self.measures,
                strict=False,  # the repeat is endless; the columns all have one length
            )
        )
        return [found[index] for index in self.order]

    def parameters(self) -> list[list[Any]]:
        """The rows' values in index order, flat, in runs of one statement's rows.

        Each run starts with ``received_at``, then holds
        :data:`_SQLITE_ROWS_PER_STATEMENT` rows, the last fewer.
        """
        order = self.order
        columns: list[Sequence[Any]] = [
            self.event_ids,
            self.event_types,
            self.devices,
            self.customers,
            self.occurred_at,
            self.properties,
            self.measures,
        ]  # received_at, one value for all, is written into the statement
        runs: list[list[Any]] = []
        for start in range(0, len(order), _SQLITE_ROWS_PER_STATEMENT):
            chosen = order[start : start + _SQLITE_ROWS_PER_STATEMENT]
            run: list[Any] = [None] * (1 + len(chosen) * _SQLITE_PARAMETERS)
            run[0] = self.received_at
            if len(chosen) == 1:  # itemgetter of one index gives a value, not a tuple
                run[1:] = [column[chosen[0]] for column in columns]
            else:
                gather = itemgetter(*chosen)  # in C: a third of the time of a comprehension
                for position, column in enumerate(columns, 1):
                    run[position::_SQLITE_PARAMETERS] = gather(column)
            runs.append(run)
        return runs

    def copy_text(self) -> bytes:
        """The rows in the text format of PostgreSQL's ``COPY``, but the first column."""
        lines = list(
            map(
                "\t".join,
                zip(
                    _copy_escaped(self.event_ids),
                    _copy_escaped(self.event_types),
                    _copy_escaped(self.devices),
                    _copy_escaped(self.customers),
                    map(str, self.occurred_at),
                    repeat(str(self.received_at)),
                    _copy_escaped(self.properties),
                    _copy_escaped(self.measures),
                    strict=False,  # as in tuples
                ),
            )
        )
        return "\n".join([lines[index] for index in self.order]).encode()


@dataclass(frozen=True, slots=True)
class PreparedBatch:
    """Rows ready for one database, but for the tenant: runs of values for SQLite, text for COPY,
    and apart, the few events that correct or void another, as column values."""

    dialect: str
    ids: list[str]
    rows: list[list[Any]] | bytes
    replacing: tuple[dict[str, Any], ...] = ()
    sums: daily_sums.Sums | None = None
    """Its events that name no other, as the roll-up adds them up: those stored already
    are left out when the batch is written (see ``rollups``)."""

    @property
    def count(self) -> int:
        return len(self.ids)


def prepare(
    dialect: str, events: Sequence[UsageEvent], customers: Sequence[str], received_at: datetime
) -> PreparedBatch:
    """``events`` ready to be written to a ``dialect`` database, each with its owner.

    An id repeated within ``events`` is stored once, as the first of them (the store
    keeps the first of an id). One batch is prepared at a time, in any thread: the
    work is Python code, which runs in one thread at a time anyway, and batches prepared in turn
    rather than side by side are each ready sooner, so one is written while
    the next is prepared.
    """
    with _PREPARING:
        ids = list(map(_ID, events))
        if len(set(ids)) < len(ids):  # the first of an id stands
            first: dict[str, int] = {}
            for index, event in enumerate(events):
                first.setdefault(event.id, index)
            kept = sorted(first.values())
            events, customers = [events[i] for i in kept], [customers[i] for i in kept]
            ids = [ids[i] for i in kept]
        replacing = naming_another(events)
        plain, owners = events, customers
        if replacing:  # rare: the few events that name another go apart
            kept = [index for index, event in enumerate(events) if event.replaces is None]
            plain, owners = [events[i] for i in kept], [customers[i] for i in kept]
        found = EventRows.prepare(plain, owners, received_at)
        return PreparedBatch(
            dialect,
            ids,
            found.parameters() if dialect == "sqlite" else found.copy_text(),
            _replacing_rows(
                [events[i] for i in replacing], [customers[i] for i in replacing], received_at
            ),
            found.sums,
        )


def _replacing_rows(
    events: Sequence[UsageEvent], customers: Sequence[str], received_at: datetime
) -> tuple[dict[str, Any], ...]:
    """The rows of events that correct or void another, each naming it."""
    if not events:
        return ()
    named = {event.id: event for event in events}
    rows: list[dict[str, Any]] = []
    for row in EventRows.prepare(events, customers, received_at).tuples():
        event = named[row[0]]
        values: dict[str, Any] = dict(zip(COLUMNS[1:], row, strict=True))
        values["measures"] = json.loads(row[-1])  # the JSON column encodes it again
        rows.append({**values, "replaces": event.replaces, "is_void": event.voids is not None})
    return tuple(rows)


def rows(
    tenant_id: int,
    events: Sequence[UsageEvent],
    customers: Sequence[str],
    received_at: datetime,
) -> list[Row]:
    """The ``usage_events`` rows of ``events``, each with its owner."""
    return [(tenant_id, *row) for row in EventRows.prepare(events, customers, received_at).tuples()]


@dataclass(frozen=True, slots=True)
class Written:
    """What :func:`append_rows` stored: how many rows were new, and the ids of those
    skipped (stored already)."""

    stored: int
    skipped: tuple[str, ...] = ()


NEW_ROWS = "new_usage_events"
"""PostgreSQL: the temporary table that holds the ids of the new rows of a batch that
repeated a stored id (those of the others are the batch's own)."""
_NEW_ROWS_TABLE = f"CREATE TEMPORARY TABLE {NEW_ROWS} (event_id text) ON COMMIT DROP"


def append_rows(connection: Connection, tenant_id: int, batch: PreparedBatch) -> Written:
    """Store ``batch`` (ids unique within it) for the tenant: the rows whose ids are not
    stored yet."""
    if not batch.count:
        return Written(0)
    if not connection.in_transaction():
        connection.begin()  # the driver is used directly below: make sure it is in one
    driver = connection.connection.dbapi_connection
    if isinstance(batch.rows, list):
        # One writer at a time, rows numbered on from the last: those after it are new.
        last = connection.exec_driver_sql("SELECT COALESCE(MAX(seq), 0) FROM usage_events")
        since = int(last.scalar_one())
        skipped = _insert_replacing(connection, tenant_id, batch.replacing)
        inserted = _insert_sqlite(driver, int(tenant_id), batch.rows)
        if inserted < len(batch.ids) - len(batch.replacing):
            skipped += _others(
                connection, batch, f"FROM usage_events WHERE seq > {since} AND replaces IS NULL"
            )
        return Written(batch.count - len(skipped), tuple(skipped))
    skipped = _insert_replacing(connection, tenant_id, batch.replacing)
    if not batch.rows:
        return Written(batch.count - len(skipped), tuple(skipped))
    start = f"{tenant_id}\t".encode()
    text = start + batch.rows.replace(b"\n", b"\n" + start) + b"\n"
    if not _copy(driver, text):
        return Written(batch.count - len(skipped), tuple(skipped))
    skipped += _others(connection, batch, f"FROM {NEW_ROWS}")
    return Written(batch.count - len(skipped), tuple(skipped))


def _others(connection: Connection, batch: PreparedBatch, stored: str) -> list[str]:
    """The ids of the batch's events that name no other and are not among those
    ``stored`` (``FROM ...`` the new rows).

    The new ids come as one JSON array in one row: row by row, each row waited its
    turn for Python's interpreter lock behind the thread preparing the next batch.
    """
    gathered = ARRAY[connection.dialect.name].format("event_id")
    driver: Any = connection.connection.dbapi_connection
    cursor = driver.cursor()
    try:
        cursor.execute(f"SELECT COALESCE({gathered}, '[]') {stored}")
        (found,) = cursor.fetchone()
    finally:
        cursor.close()
    new = set(VALUES.decode(found))
    named = {row["event_id"] for row in batch.replacing}
    return [id for id in batch.ids if id not in new and id not in named]


def _insert_replacing(
    connection: Connection, tenant_id: int, rows: Sequence[dict[str, Any]]
) -> list[str]:
    """Insert events that correct or void another (a few), skipping ids already stored;
    returns the ids skipped."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(usage_events)
        .on_conflict_do_nothing(index_elements=["tenant_id", "event_id"])
        .returning(usage_events.c.seq)  # a row back for each row stored: the driver's count
    )  # of an upsert is not to be trusted
    skipped: list[str] = []
    for row in rows:
        try:
            if not connection.execute(statement, {"tenant_id": tenant_id, **row}).all():
                skipped.append(row["event_id"])
        except IntegrityError:  # the unique index on what an event names: an ingest at once
            field = "voids" if row["is_void"] else "corrects"
            raise InvalidInput.at(
                f"{row['event_id']}: {field}",
                f"event {row['replaces']!r} was corrected or voided meanwhile by another"
                " ingest; run this one again to see which",
            ) from None
    return skipped


def _insert_sqlite(driver: Any, tenant_id: int, runs: list[list[Any]]) -> int:
    """Insert ``runs`` (see :meth:`EventRows.parameters`); returns how many rows were new."""
    full = [run for run in runs if len(run) == 1 + _SQLITE_ROWS_PER_STATEMENT * _SQLITE_PARAMETERS]
    inserted = 0
    cursor = driver.cursor()
    try:
        if full:
            cursor.executemany(_sqlite_insert(tenant_id, _SQLITE_ROWS_PER_STATEMENT), full)
            inserted += cursor.rowcount
        for run in runs[len(full) :]:  # the last run, if it is short
            cursor.execute(_sqlite_insert(tenant_id, (len(run) - 1) // _SQLITE_PARAMETERS), run)
            inserted += cursor.rowcount
    finally:
        cursor.close()
    return inserted


@lru_cache(maxsize=64)
def _sqlite_insert(tenant_id: int, rows: int) -> str:
    """The statement inserting ``rows`` rows for the tenant, skipping ids it already has.

    ``OR IGNORE``, not ``ON CONFLICT DO NOTHING``: with many rows in ``VALUES``,
    SQLite runs it about a quarter faster. The only constraint it can skip one of
    these rows for is the unique id: every other column is a value of ours, never
    null, and none of them names another event (those go apart, with ``replaces``).
    """
    values = ", ".join([f"({tenant_id}, ?1, {', '.join('?' * _SQLITE_PARAMETERS)})"] * rows)
    return f"INSERT OR IGNORE INTO usage_events ({', '.join(_SQLITE_COLUMNS)}) VALUES {values}"


def _copy(driver: Any, text: bytes) -> bool:
    """COPY the rows ``text`` into ``usage_events``; returns whether they went through
    the staging table (all were new if not).

    Straight in when no id is taken; else through a staging table, inserted in
    the order of their ids and skipping those stored; the new rows are then kept
    in :data:`NEW_ROWS` too, for the roll-up. Two ingests of the same
    ids in different orders can wait on each other's rows (a deadlock, which
    PostgreSQL ends by failing one of them): the one that fails rolls back to
    its savepoint, and so releases what the other waits for, and stores its
    rows again in id order, which can meet the other's only in the same order.
    """
    import psycopg

    with driver.cursor() as cursor:
        cursor.execute("SAVEPOINT append_events")
        try:
            with cursor.copy(f"COPY usage_events ({_COLUMN_LIST}) FROM STDIN") as copy:
                copy.write(text)
        except (psycopg.errors.UniqueViolation, psycopg.errors.DeadlockDetected):
            cursor.execute("ROLLBACK TO SAVEPOINT append_events")
        else:
            cursor.execute("RELEASE SAVEPOINT append_events")
            return False
        cursor.execute("DROP TABLE IF EXISTS pg_temp.staged_usage_events")
        cursor.execute(_STAGE)
        cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{NEW_ROWS}")
        cursor.execute(_NEW_ROWS_TABLE)
        with cursor.copy(f"COPY staged_usage_events ({_COLUMN_LIST}) FROM STDIN") as copy:
            copy.write(text)
        for attempt in range(_DEADLOCK_ATTEMPTS):
            cursor.execute("SAVEPOINT append_staged")
            try:
                cursor.execute(
                    f"WITH moved AS (INSERT INTO usage_events ({_COLUMN_LIST}) "
                    f"SELECT {_COLUMN_LIST} FROM staged_usage_events ORDER BY event_id "
                    "ON CONFLICT (tenant_id, event_id) DO NOTHING "
                    "RETURNING event_id) "
                    f"INSERT INTO {NEW_ROWS} SELECT event_id FROM moved"
                )
            except psycopg.errors.DeadlockDetected:
                cursor.execute("ROLLBACK TO SAVEPOINT append_staged")
                if attempt + 1 == _DEADLOCK_ATTEMPTS:
                    raise
                time.sleep(0.05 * (attempt + 1))
                continue
            cursor.execute("RELEASE SAVEPOINT append_staged")
            break
        cursor.execute("DROP TABLE staged_usage_events")
        return True


_DEADLOCK_ATTEMPTS = 10
"""Deadlocks end at once: one side fails and the other goes on. An attempt after a failure
goes in id order, and only a writer still copying in its own order can meet it again."""


def _factorized(values: Sequence[str]) -> tuple[list[str], npt.NDArray[np.intp]]:
    """The distinct values in code-point order, and each value's rank among them."""
    distinct = sorted(set(values))
    rank = {value: index for index, value in enumerate(distinct)}
    return distinct, np.fromiter(map(rank.__getitem__, values), np.intp, len(values))


def _copy_escaped(values: Sequence[str]) -> Sequence[str]:
    """``values`` as COPY's text format reads them back."""
    joined = "".join(values)
    if any(special in joined for special in _COPY_SPECIAL):
        return [value.translate(_COPY_ESCAPES) for value in values]
    return values
