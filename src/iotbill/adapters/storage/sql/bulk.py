"""Appending events fast: one multi-row statement per batch, never one per event.

SQLite: ``executemany`` of ``INSERT ... ON CONFLICT DO NOTHING``, in C.
PostgreSQL: ``COPY`` straight into ``usage_events`` inside a savepoint, which
is as fast as PostgreSQL loads rows; only if the batch repeats a stored id
(the COPY fails on the unique index) is the savepoint rolled back and the batch
copied into a temporary table and moved with ``INSERT ... SELECT ... ON
CONFLICT DO NOTHING``. Either way the database's unique index decides what is
a duplicate, at write time, so concurrent writers cannot both store an id.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy import Connection

from iotbill.domain.events import UsageEvent
from iotbill.domain.periods import to_micros
from iotbill.domain.quantities import INT64_MAX, UNIT

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
_SQLITE_INSERT = (
    f"INSERT INTO usage_events ({_COLUMN_LIST}) VALUES ({', '.join('?' * len(COLUMNS))}) "
    "ON CONFLICT (tenant_id, event_id) DO NOTHING"
)
_STAGE = (
    "CREATE TEMPORARY TABLE staged_usage_events (tenant_id integer, event_id text, "
    "event_type text, device_id text, customer_id text, occurred_at bigint, "
    "received_at bigint, properties text, measures jsonb) ON COMMIT DROP"
)
_ENCODER = msgspec.json.Encoder(decimal_format="number")
_UNIT = Decimal(UNIT)

Row = tuple[int, str, str, str, str, int, int, str, str]


def measure(value: Any) -> Any:
    """A property value as SQL compares and sums it exactly (see ``tables``).

    Numbers become integer nano-units; strings and booleans stay; anything that
    cannot be held exactly that way becomes ``None``.

    >>> measure(Decimal("2.5")), measure(3), measure("on"), measure(Decimal("1E-10"))
    (2500000000, 3000000000, 'on', None)
    """
    if isinstance(value, str | bool):
        return value
    if isinstance(value, int):
        scaled = value * UNIT
    elif isinstance(value, Decimal) and value.is_finite():
        product = value * _UNIT
        if product != product.to_integral_value():
            return None
        scaled = int(product)
    else:
        return None
    return scaled if -INT64_MAX <= scaled <= INT64_MAX else None


def rows(
    tenant_id: int,
    events: Sequence[UsageEvent],
    customers: Sequence[str],
    received_at: datetime,
) -> list[Row]:
    """The ``usage_events`` rows of ``events``, each with its owner."""
    received = to_micros(received_at)
    encode = _ENCODER.encode
    return [
        (
            tenant_id,
            event.id,
            event.type,
            event.device,
            customer,
            to_micros(event.timestamp),
            received,
            encode(event.properties).decode(),
            encode({name: measure(value) for name, value in event.properties.items()}).decode(),
        )
        for event, customer in zip(events, customers, strict=True)
    ]


def append_rows(connection: Connection, batch: list[Row]) -> int:
    """Store ``batch`` (ids unique within it); returns how many rows were new."""
    if not batch:
        return 0
    if not connection.in_transaction():
        connection.begin()  # the driver is used directly below: make sure it is in one
    driver = connection.connection.dbapi_connection
    if connection.dialect.name == "sqlite":
        cursor = driver.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(_SQLITE_INSERT, batch)
            return int(cursor.rowcount)
        finally:
            cursor.close()
    return _copy(driver, batch)


def _copy(driver: Any, batch: list[Row]) -> int:
    import psycopg

    with driver.cursor() as cursor:
        cursor.execute("SAVEPOINT append_events")
        try:
            with cursor.copy(f"COPY usage_events ({_COLUMN_LIST}) FROM STDIN") as copy:
                for row in batch:
                    copy.write_row(row)
        except psycopg.errors.UniqueViolation:
            cursor.execute("ROLLBACK TO SAVEPOINT append_events")
        else:
            cursor.execute("RELEASE SAVEPOINT append_events")
            return len(batch)
        cursor.execute("DROP TABLE IF EXISTS pg_temp.staged_usage_events")
        cursor.execute(_STAGE)
        with cursor.copy(f"COPY staged_usage_events ({_COLUMN_LIST}) FROM STDIN") as copy:
            for row in batch:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO usage_events ({_COLUMN_LIST}) SELECT {_COLUMN_LIST} "
            "FROM staged_usage_events ON CONFLICT (tenant_id, event_id) DO NOTHING"
        )
        inserted = int(cursor.rowcount)
        cursor.execute("DROP TABLE staged_usage_events")
        return inserted
