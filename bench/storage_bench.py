"""Benchmark of storage: ingesting a JSON Lines file, and meters pushed down to SQL.

For 1,000,000 events with random UUID4 ids (as devices send them; sequential
ids would flatter the unique index), on SQLite and on PostgreSQL, prints:

* events/s of the whole ``iotbill ingest`` path (decode the file, resolve each
  device's owner, check the meters, store in batches of 100,000 with the
  duplicate check, two writers as the command's default), beside the
  storage floor measured in the same run on the same database: a bare
  ``executemany`` (SQLite) or ``COPY`` (PostgreSQL) of the same rows into a
  table with the same unique index on ``(tenant_id, event_id)``. Target:
  >= 100,000 events/s.
* the time of one ``sum`` meter per customer (100 customers) through the event
  store, beside a bare ``GROUP BY customer_id`` summing an integer column of
  the same rows.

Run: ``python bench/storage_bench.py [--events N] [--postgres URL]``. PostgreSQL
is skipped, saying so, when unreachable. Asserts nothing about time.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from iotbill.adapters.clock import SystemClock
from iotbill.adapters.event_import import EventFile
from iotbill.adapters.storage.sql.bulk import rows
from iotbill.adapters.storage.sql.engine import create_engine_for, upgrade
from iotbill.adapters.storage.sql.unit_of_work import sql_unit_of_work_factory
from iotbill.domain.catalog import Meter
from iotbill.domain.customers import Customer, Device
from iotbill.domain.periods import Period
from iotbill.services.ingest import DEFAULT_WRITERS, ingest_lines
from iotbill.services.ports import EventScope
from postgres_schema import postgres_schema

START = datetime(2026, 1, 1, tzinfo=UTC)
JANUARY = Period(START, datetime(2026, 2, 1, tzinfo=UTC))
CUSTOMERS = 100
DEVICES = 1_000
FLOOR_TABLE = (
    "CREATE TABLE floor_events (tenant_id integer NOT NULL, event_id text NOT NULL, "
    "event_type text, device_id text, customer_id text, occurred_at bigint, "
    "received_at bigint, properties text, measures text, m3 bigint, "
    "UNIQUE (tenant_id, event_id))"
)
FLOOR_GROUP_BY = "SELECT customer_id, SUM(m3) FROM floor_events GROUP BY customer_id"
METER = Meter("water", "pump.flow", "sum", "m3")


def write_events(path: Path, count: int) -> None:
    rng = random.Random(7)
    seconds = int(JANUARY.duration.total_seconds())
    with path.open("w") as file:
        for _ in range(count):
            at = START + timedelta(seconds=rng.randrange(seconds))
            file.write(
                f'{{"id": "{uuid.UUID(int=rng.getrandbits(128), version=4)}", '
                f'"type": "pump.flow", "device": "pump-{rng.randrange(DEVICES)}", '
                f'"timestamp": "{at.isoformat()}", '
                f'"properties": {{"m3": {rng.randrange(1, 100_000) / 1000}}}}}\n'
            )


def timed(action: Callable[[], Any]) -> float:
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def bench(name: str, engine: Engine, events_file: Path) -> None:
    upgrade(engine)
    uow_factory = sql_unit_of_work_factory(engine)
    with uow_factory("default") as uow:
        for number in range(CUSTOMERS):
            uow.customers.add(
                Customer.create(id=f"c{number}", name="C", currency_code="USD", timezone="UTC")
            )
        for number in range(DEVICES):
            uow.devices.add(Device.create(f"pump-{number}", f"c{number % CUSTOMERS}", START))
        uow.commit()

    def run_ingest() -> None:
        events = EventFile(str(events_file))
        report = ingest_lines(
            uow_factory, "default", events, clock=SystemClock(), writers=DEFAULT_WRITERS
        )
        assert report.accepted == events.lines and not report.rejected

    seconds = timed(run_ingest)
    with uow_factory("default") as uow:
        count = uow.events.count()
    floor = floor_insert(engine, events_file)

    def aggregate() -> None:
        with uow_factory("default") as uow:
            for number in range(CUSTOMERS):
                uow.events.aggregate(METER, JANUARY, EventScope(f"c{number}"))

    pushed = timed(aggregate)
    with engine.connect() as connection:
        group_by = timed(lambda: connection.exec_driver_sql(FLOOR_GROUP_BY).all())
    print(
        f"{name:<10} ingest  {count:>9,} events {seconds:6.2f} s {count / seconds:>9,.0f} events/s"
        f" | floor {floor:6.2f} s {count / floor:>9,.0f} events/s | ratio {seconds / floor:4.1f}x"
    )
    print(
        f"{name:<10} meters  {CUSTOMERS} x sum     {pushed:6.2f} s"
        f" | bare GROUP BY {group_by:6.2f} s | ratio {pushed / group_by:4.1f}x"
    )


def floor_insert(engine: Engine, events_file: Path) -> float:
    """A bare bulk write of the same rows into a table with the same unique index."""
    events = [sourced for lines in EventFile(str(events_file)) for sourced in lines.events]
    owners = [f"c{int(s.event.device.split('-')[1]) % CUSTOMERS}" for s in events]
    prepared = [
        (*row, int(row[8].split(":")[1].rstrip("}")))
        for row in rows(1, [s.event for s in events], owners, SystemClock().now())
    ]
    with engine.begin() as connection:
        connection.exec_driver_sql(FLOOR_TABLE)
    with engine.connect() as connection:
        connection.begin()
        driver: Any = connection.connection.dbapi_connection
        began = time.perf_counter()
        if engine.dialect.name == "sqlite":
            driver.executemany(f"INSERT INTO floor_events VALUES ({', '.join('?' * 10)})", prepared)
        else:
            with driver.cursor() as cursor, cursor.copy("COPY floor_events FROM STDIN") as copy:
                for row in prepared:
                    copy.write_row(row)
        connection.commit()
        return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "IOTBILL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        events_file = Path(directory) / "events.jsonl"
        write_events(events_file, arguments.events)
        engine = create_engine_for(str(Path(directory) / "bench.db"))
        bench("SQLite", engine, events_file)
        engine.dispose()
        with postgres_schema(arguments.postgres) as server:
            if server is None:
                return
            bench("PostgreSQL", server.engine, events_file)


if __name__ == "__main__":
    main()
