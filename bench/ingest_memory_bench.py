"""Benchmark of ingest memory: ``iotbill ingest`` of 1,000,000 and of 3,000,000 events.

Each ingest runs as a child process on a new database, SQLite and PostgreSQL
(100 customers, 1,000 devices, random UUID4 ids, a tenth of the lines
repeating an earlier id, so that the store's unique index decides duplicates
across batches). Printed for each store and size: the peak resident memory of
the process (its ``ru_maxrss``), which must not grow with the input (target:
the larger within 20 % of the smaller), and its throughput beside the storage
floor measured in the same run, in another child: the same rows, prepared
beforehand a stretch at a time, written into a table with the same columns
and the same indexes as the event table, one transaction per 100,000 rows,
with the same handling of duplicates: on SQLite ``executemany`` with
``INSERT OR IGNORE``, on PostgreSQL ``COPY`` into a staging table and one
``INSERT ... ON CONFLICT DO NOTHING``. Target: within 1.3x of the floor. (The
ingest writes the usage roll-up too, which the floor does not.)

Run: ``python bench/ingest_memory_bench.py [--events 1000000 3000000]
[--stores sqlite postgresql] [--postgres URL]``. PostgreSQL is skipped, saying
so, when unreachable. Asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

START = datetime(2026, 1, 1, tzinfo=UTC)
SECONDS = 31 * 24 * 3600
CUSTOMERS = 100
DEVICES = 1_000
REPEATS = 10  # one line in this many repeats an earlier id
FLOOR_BATCH = 100_000


def write_events(path: Path, count: int) -> None:
    rng = random.Random(7)
    ids: list[str] = []
    with path.open("w") as file:
        for _ in range(count):
            if ids and rng.randrange(REPEATS) == 0:
                id = ids[rng.randrange(len(ids))]
            else:
                id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                if len(ids) < 100_000:
                    ids.append(id)
                else:
                    ids[rng.randrange(len(ids))] = id
            at = START + timedelta(seconds=rng.randrange(SECONDS))
            file.write(
                f'{{"id": "{id}", "type": "pump.flow", "device": "pump-{rng.randrange(DEVICES)}", '
                f'"timestamp": "{at.isoformat()}", '
                f'"properties": {{"m3": {rng.randrange(1, 100_000) / 1000}}}}}\n'
            )


def _database(path: str) -> object:
    from iotbill.adapters.storage.sql.engine import create_engine_for, upgrade
    from iotbill.adapters.storage.sql.unit_of_work import sql_unit_of_work_factory
    from iotbill.domain.customers import Customer, Device

    engine = create_engine_for(path)
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
    return engine


def child_ingest(events_file: str, database: str) -> dict[str, float]:
    from iotbill.adapters.clock import SystemClock
    from iotbill.adapters.event_import import EventFile
    from iotbill.adapters.storage.sql.unit_of_work import sql_unit_of_work_factory
    from iotbill.services.ingest import ingest_lines

    engine = _database(database)
    began = time.perf_counter()
    report = ingest_lines(
        sql_unit_of_work_factory(engine),  # type: ignore[arg-type]
        "default",
        EventFile(events_file),
        clock=SystemClock(),
    )
    seconds = time.perf_counter() - began
    assert not report.rejected, report.rejected[:3]
    return {"seconds": seconds, "accepted": report.accepted, "duplicates": report.duplicates}


def child_floor(events_file: str, database: str) -> dict[str, float]:
    if "://" in database:
        return child_floor_postgres(events_file, database)
    return child_floor_sqlite(events_file, database)


def child_floor_postgres(events_file: str, database: str) -> dict[str, float]:
    from sqlalchemy import Engine

    from iotbill.adapters.clock import SystemClock
    from iotbill.adapters.event_import import EventFile
    from iotbill.adapters.storage.sql.bulk import COLUMNS, prepare

    engine: Engine = _database(database)  # type: ignore[assignment]
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE floor_events (LIKE usage_events INCLUDING DEFAULTS INCLUDING INDEXES)"
        )
    columns = ", ".join(COLUMNS)
    owner = {f"pump-{n}": f"c{n % CUSTOMERS}" for n in range(DEVICES)}
    received_at, seconds = SystemClock().now(), 0.0
    with engine.connect() as connection:
        driver: Any = connection.connection.dbapi_connection
        pending: list[bytes] = []
        size = 0

        def write(texts: list[bytes]) -> float:
            began = time.perf_counter()
            with driver.cursor() as cursor:
                cursor.execute(
                    "CREATE TEMPORARY TABLE staged (LIKE floor_events INCLUDING DEFAULTS) "
                    "ON COMMIT DROP"
                )
                with cursor.copy(f"COPY staged ({columns}) FROM STDIN") as copy:
                    for text in texts:
                        copy.write(text)
                cursor.execute(
                    f"INSERT INTO floor_events ({columns}) SELECT {columns} FROM staged "
                    "ON CONFLICT (tenant_id, event_id) DO NOTHING"
                )
            driver.commit()
            return time.perf_counter() - began

        for stretch in EventFile(events_file):
            events = [line.event for line in stretch.events]  # repeats: DO NOTHING skips them
            batch = prepare("postgresql", events, [owner[e.device] for e in events], received_at)
            assert isinstance(batch.rows, bytes)
            pending.append(b"1\t" + batch.rows.replace(b"\n", b"\n1\t") + b"\n")
            size += len(events)
            if size >= FLOOR_BATCH:
                seconds += write(pending)
                pending, size = [], 0
        if pending:
            seconds += write(pending)
        stored = connection.exec_driver_sql("SELECT count(*) FROM floor_events").scalar_one()
    return {"seconds": seconds, "accepted": stored}


def child_floor_sqlite(events_file: str, database: str) -> dict[str, float]:
    from sqlalchemy import Engine

    from iotbill.adapters.clock import SystemClock
    from iotbill.adapters.event_import import EventFile
    from iotbill.adapters.storage.sql.bulk import COLUMNS, rows

    engine: Engine = _database(database)  # type: ignore[assignment]
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE floor_events AS SELECT * FROM usage_events WHERE 0"
        )
        indexes = connection.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'usage_events'"
        ).all()
        for (sql,) in indexes:
            if sql:  # an index the table's own constraints make has no SQL: below
                connection.exec_driver_sql(
                    sql.replace("usage_events", "floor_events").replace("INDEX ", "INDEX floor_", 1)
                )
        connection.exec_driver_sql(
            "CREATE UNIQUE INDEX floor_unique_id ON floor_events (tenant_id, event_id)"
        )
    insert = (
        f"INSERT OR IGNORE INTO floor_events ({', '.join(COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(COLUMNS))})"
    )
    owner = {f"pump-{n}": f"c{n % CUSTOMERS}" for n in range(DEVICES)}
    received_at, seconds = SystemClock().now(), 0.0
    with engine.connect() as connection:
        driver = connection.connection.dbapi_connection
        assert driver is not None
        pending: list[tuple[object, ...]] = []

        def write(batch: list[tuple[object, ...]]) -> float:
            began = time.perf_counter()
            cursor = driver.cursor()
            cursor.execute("BEGIN")
            cursor.executemany(insert, batch)
            cursor.execute("COMMIT")
            cursor.close()
            return time.perf_counter() - began

        for stretch in EventFile(events_file):
            events = [line.event for line in stretch.events]
            pending.extend(rows(1, events, [owner[e.device] for e in events], received_at))
            while len(pending) >= FLOOR_BATCH:
                seconds += write(pending[:FLOOR_BATCH])
                del pending[:FLOOR_BATCH]
        if pending:
            seconds += write(pending)
        stored = connection.exec_driver_sql("SELECT count(*) FROM floor_events").scalar_one()
    return {"seconds": seconds, "accepted": stored}


def run_child(
    kind: str, events_file: Path, directory: str, postgres: str | None
) -> tuple[dict[str, float], float]:
    """The child's result and its peak resident memory in MiB (on PostgreSQL when a URL
    is given: its own schema, dropped after)."""
    if postgres is not None:
        sys.path.insert(0, str(Path(__file__).parent))
        from postgres_schema import postgres_schema

        with postgres_schema(postgres) as server:
            assert server is not None
            separator = "&" if "?" in postgres else "?"
            url = f"{postgres}{separator}options=-csearch_path%3D{server.name}"
            return _child(kind, events_file, url)
    database = str(Path(directory) / f"{kind}-{uuid.uuid4().hex[:6]}.db")
    try:
        return _child(kind, events_file, database)
    finally:
        for path in Path(directory).glob(Path(database).name + "*"):
            path.unlink()


def _child(kind: str, events_file: Path, database: str) -> tuple[dict[str, float], float]:
    process = subprocess.Popen(
        [sys.executable, __file__, "--child", kind, str(events_file), database],
        stdout=subprocess.PIPE,
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"{kind} child failed ({process.returncode})")
    return json.loads(output), usage.ru_maxrss / 1024  # Linux: KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, nargs="+", default=[1_000_000, 3_000_000])
    parser.add_argument("--stores", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "IOTBILL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        kind, events_file, database = arguments.child
        action = child_ingest if kind == "ingest" else child_floor
        print(json.dumps(action(events_file, database)))
        return
    stores: list[tuple[str, str | None]] = []
    if "sqlite" in arguments.stores:
        stores.append(("SQLite", None))
    if "postgresql" in arguments.stores:
        if _reachable(arguments.postgres):
            stores.append(("PostgreSQL", arguments.postgres))
        else:
            print(f"PostgreSQL skipped: {arguments.postgres} is unreachable")
    peaks: dict[str, list[float]] = {name: [] for name, _ in stores}
    with tempfile.TemporaryDirectory() as directory:
        for count in arguments.events:
            events_file = Path(directory) / f"events-{count}.jsonl"
            write_events(events_file, count)
            for name, postgres in stores:
                found, peak = run_child("ingest", events_file, directory, postgres)
                floor, floor_peak = run_child("floor", events_file, directory, postgres)
                assert found["accepted"] == floor["accepted"], (found, floor)
                peaks[name].append(peak)
                print(
                    f"{name:<10} ingest {count:>9,} lines: {found['accepted']:>9,.0f} stored, "
                    f"{found['duplicates']:>7,.0f} duplicates | {found['seconds']:6.1f} s "
                    f"{count / found['seconds']:>8,.0f} lines/s | floor {floor['seconds']:6.1f} s "
                    f"{count / floor['seconds']:>8,.0f} lines/s | ratio "
                    f"{found['seconds'] / floor['seconds']:4.2f}x (target 1.3x) | peak RSS "
                    f"{peak:6.0f} MiB (floor process {floor_peak:6.0f} MiB)",
                    flush=True,
                )
            events_file.unlink()
    for name, found in peaks.items():
        if len(found) > 1:
            print(
                f"{name:<10} peak RSS largest / smallest input: {max(found) / min(found):4.2f} "
                "(target within 1.20)"
            )


def _reachable(url: str) -> bool:
    import psycopg

    try:
        psycopg.connect("postgresql://" + url.split("://", 1)[1], connect_timeout=3).close()
    except psycopg.OperationalError:
        return False
    return True


if __name__ == "__main__":
    main()
