"""Benchmark of entitlement checks: a customer with 1,000,000 events in the period.

One customer on the freemium pro plan (``examples/models/freemium-pro.yaml``)
has N readings (default 1,000,000) spread over January 2026, stored through
the event store (so the daily roll-up is kept up as ingest keeps it). Then,
on SQLite and on PostgreSQL, prints:

* the time of one ``iotbill entitlements check`` through the service (a unit
  of work, the customer, its subscriptions and plan, the usage), for checks
  at random instants of 31 January (so each counts about the whole month):
  p50 and p99 of 200;
* beside it, measured in the same run on the same database, a bare ``SUM``
  over the same rows: the period's rows of a table holding the same events
  with the summed value as a plain integer column, indexed by customer and
  time (the least a check that rescans the period's events could cost);
* the ratio p99 / SUM. Target: at most 0.1;
* apart, the usage read alone (``EventStore.running_total`` on an open unit of
  work): the part of a check that grows with the events, beside the fixed
  part (opening the unit of work, reading the customer, subscriptions and
  plan), which a loaded machine slows the most.

Run: ``python bench/entitlement_bench.py [--events N] [--postgres URL]``.
PostgreSQL is skipped, saying so, when unreachable. Asserts nothing about time.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from iotbill.adapters.plan_files import parse_plan_text
from iotbill.adapters.storage.sql.engine import create_engine_for, upgrade
from iotbill.adapters.storage.sql.unit_of_work import sql_unit_of_work_factory
from iotbill.domain.customers import Customer, Device
from iotbill.domain.events import UsageEvent
from iotbill.domain.periods import Period, to_micros
from iotbill.domain.subscriptions import subscribe
from iotbill.services.entitlements import check_entitlement
from iotbill.services.ports import EventScope
from postgres_schema import postgres_schema

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 2, 1, tzinfo=UTC)
PLAN = Path(__file__).parents[1] / "examples" / "models" / "freemium-pro.yaml"
BATCH = 100_000
CHECKS = 200
FLOOR_TABLE = (
    "CREATE TABLE floor_events (customer_id text NOT NULL, occurred_at bigint NOT NULL, "
    "readings bigint NOT NULL)"
)
FLOOR_INDEX = "CREATE INDEX floor_events_by_time ON floor_events (customer_id, occurred_at)"
FLOOR_SUM = (
    "SELECT SUM(readings) FROM floor_events WHERE customer_id = 'acme' "
    "AND occurred_at >= {start} AND occurred_at < {end}"
)


def bench(name: str, engine: Engine, count: int) -> None:
    upgrade(engine)
    uow_factory = sql_unit_of_work_factory(engine)
    text = PLAN.read_text()
    plan = parse_plan_text(text, str(PLAN))
    with uow_factory("default") as uow:
        customer = Customer.create(id="acme", name="Acme", currency_code="USD", timezone="UTC")
        uow.customers.add(customer)
        uow.devices.add(Device.create("m1", "acme", START))
        uow.plans.add_version(plan, text, START)
        uow.subscriptions.add(
            subscribe(id="sub-1", customer=customer, plan=plan, plan_version=1, start=START)
        )
        uow.commit()
    step = (END - START) / count
    stored_for = time.perf_counter()
    for first in range(0, count, BATCH):
        events = [
            UsageEvent(f"r{n}", "reading", "m1", START + n * step)
            for n in range(first, min(first + BATCH, count))
        ]
        with uow_factory("default") as uow:
            uow.events.append(events, ["acme"] * len(events), END)
            uow.commit()
    stored_for = time.perf_counter() - stored_for

    rng = random.Random(7)
    last_day = int(timedelta(days=1).total_seconds())
    instants = [
        datetime(2026, 1, 31, tzinfo=UTC) + timedelta(seconds=rng.randrange(last_day))
        for _ in range(CHECKS)
    ]
    timings = []
    for instant in instants:
        began = time.perf_counter()
        answer = check_entitlement(
            uow_factory("default", read_only=True),
            customer="acme",
            feature="readings",
            as_of=instant,
        )
        timings.append(time.perf_counter() - began)
    p50, p99 = _percentiles(timings)
    whole = answer.used
    reads = []
    meter = plan.meter("readings")
    with uow_factory("default", read_only=True) as uow:
        for instant in instants:
            span = Period(START, instant + timedelta(microseconds=1))
            began = time.perf_counter()
            uow.events.running_total(meter, span, EventScope("acme"))
            reads.append(time.perf_counter() - began)
    read_p50, read_p99 = _percentiles(reads)

    floor = floor_sum(engine, count, step, instants)
    print(
        f"{name:<10} {count:>9,} events stored in {stored_for:6.1f} s | check p50 "
        f"{p50 * 1000:7.2f} ms p99 {p99 * 1000:7.2f} ms (used {whole} at the last check)"
        f" | bare SUM {floor * 1000:8.2f} ms | p99 / SUM {p99 / floor:5.3f} (target <= 0.1)"
    )
    print(
        f"{name:<10} usage read alone: p50 {read_p50 * 1000:7.2f} ms p99 {read_p99 * 1000:7.2f} ms"
        f" | p99 / SUM {read_p99 / floor:5.3f}"
    )


def _percentiles(timings: list[float]) -> tuple[float, float]:
    """The median and the 99th percentile (nearest rank) of ``timings``."""
    ordered = sorted(timings)
    return statistics.median(ordered), ordered[max(0, -(-len(ordered) * 99 // 100) - 1)]


def floor_sum(engine: Engine, count: int, step: timedelta, instants: list[datetime]) -> float:
    """The median time of a bare SUM over the rows each check counts, from a plain table."""
    start = to_micros(START)
    micros = step // timedelta(microseconds=1)
    rows = [("acme", start + n * micros, 1) for n in range(count)]
    with engine.begin() as connection:
        connection.exec_driver_sql(FLOOR_TABLE)
        driver = connection.connection.dbapi_connection
        assert driver is not None
        if engine.dialect.name == "sqlite":
            driver.executemany("INSERT INTO floor_events VALUES (?, ?, ?)", rows)
        else:
            with driver.cursor() as cursor, cursor.copy("COPY floor_events FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        connection.exec_driver_sql(FLOOR_INDEX)
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("ANALYZE floor_events")
    timings = []
    with engine.connect() as connection:
        for instant in instants[:20]:
            statement = FLOOR_SUM.format(start=start, end=to_micros(instant) + 1)
            began = time.perf_counter()
            connection.exec_driver_sql(statement).scalar_one()
            timings.append(time.perf_counter() - began)
    return statistics.median(timings)


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
        engine = create_engine_for(str(Path(directory) / "bench.db"))
        bench("SQLite", engine, arguments.events)
        engine.dispose()
    with postgres_schema(arguments.postgres) as server:
        if server is None:
            return
        bench("PostgreSQL", server.engine, arguments.events)


if __name__ == "__main__":
    main()
