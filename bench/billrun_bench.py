"""Benchmark of a bill run: 10,000 subscriptions with 100 events each, on SQLite and
PostgreSQL.

Sets up 10,000 customers, each with one device and one subscription to a
monthly plan (a fixed fee in advance, a graduated usage charge), stores
1,000,000 events over January 2026, then times ``bill_run`` closing January:
every opening and period-close invoice drafted, priced, numbered and
finalized. Prints the time beside the storage floor measured in the same run
on the same database: a bare SQL ``GROUP BY`` summing the same rows per
customer. Then the same on PostgreSQL (a schema of its own, dropped after),
and PostgreSQL's time as a ratio of SQLite's. On SQLite, where both run in this
process, their CPU times too (a loaded machine inflates wall times). Targets: the bill run in 10 s
or less on SQLite, and within 5x of the floor on each store; PostgreSQL within 2x of SQLite.

Run: ``python bench/billrun_bench.py [--subscriptions N] [--events-each M]
[--postgres URL]``. PostgreSQL is skipped, saying so, when unreachable.
Asserts nothing about time.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine

from iotbill.adapters.plan_files import parse_plan_text
from iotbill.adapters.storage.sql.engine import create_engine_for, upgrade
from iotbill.adapters.storage.sql.unit_of_work import sql_unit_of_work_factory
from iotbill.domain.customers import Customer, Device
from iotbill.domain.events import UsageEvent
from iotbill.domain.subscriptions import subscribe
from iotbill.services.billing import bill_run
from iotbill.services.ports import UnitOfWorkFactory
from postgres_schema import postgres_schema

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 2, 1, tzinfo=UTC)
PLAN = """\
code: pump
name: Pump
currency: USD
interval: month
fixed_fees: [{code: base, amount: "31.00"}]
meters: [{code: water, event_type: pump.flow, aggregation: sum, property: m3}]
charges:
  - code: water
    meter: water
    model: graduated
    tiers: [{up_to: 100, unit_price: "0.50"}, {up_to: null, unit_price: "0.30"}]
"""
FLOOR = {
    "sqlite": "SELECT customer_id, SUM(CAST(json_extract(properties, '$.m3') * 1000 AS INTEGER)) "
    "FROM usage_events GROUP BY customer_id",
    "postgresql": "SELECT customer_id, SUM(((properties::jsonb ->> 'm3')::numeric * 1000)::bigint) "
    "FROM usage_events GROUP BY customer_id",
}


def set_up(open_uow: UnitOfWorkFactory, subscriptions: int, events_each: int) -> None:
    plan = parse_plan_text(PLAN, "plan.yaml")
    rng = random.Random(11)
    seconds = int((END - START).total_seconds())
    with open_uow("default") as uow:
        stored = uow.plans.add_version(plan, PLAN, START)
        customers = [
            Customer.create(
                id=f"c{number}", name=f"Customer {number}", currency_code="USD", timezone="UTC"
            )
            for number in range(subscriptions)
        ]
        uow.customers.add_many(customers)
        uow.devices.add_many([Device.create(f"d{n}", f"c{n}", START) for n in range(subscriptions)])
        for number, customer in enumerate(customers):
            uow.subscriptions.add(
                subscribe(
                    id=f"s{number}",
                    customer=customer,
                    plan=plan,
                    plan_version=stored.version,
                    start=START,
                )
            )
        uow.commit()
    for first in range(0, subscriptions, 1000):
        events, owners = [], []
        for number in range(first, min(first + 1000, subscriptions)):
            for _ in range(events_each):
                events.append(
                    UsageEvent(
                        id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                        type="pump.flow",
                        device=f"d{number}",
                        timestamp=START + timedelta(seconds=rng.randrange(seconds)),
                        properties={"m3": Decimal(rng.randrange(1, 5000)) / 1000},
                    )
                )
                owners.append(f"c{number}")
        with open_uow("default") as uow:
            uow.events.append(events, owners, END)
            uow.commit()


def bench(name: str, engine: Engine, subscriptions: int, events_each: int) -> float:
    """Set up and bill on ``engine``; prints the figures, returns the bill run's seconds."""
    upgrade(engine)
    open_uow = sql_unit_of_work_factory(engine)
    began = time.perf_counter()
    set_up(open_uow, subscriptions, events_each)
    total = subscriptions * events_each
    print(
        f"{name}: set up {subscriptions:,} subscriptions and {total:,} events "
        f"in {time.perf_counter() - began:.1f} s"
    )
    began, cpu = time.perf_counter(), time.process_time()
    report = bill_run(open_uow, "default", as_of=END, now=END + timedelta(hours=1))
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    with engine.connect() as connection:
        began, floor_cpu = time.perf_counter(), time.process_time()
        connection.exec_driver_sql(FLOOR[engine.dialect.name]).all()
        floor, floor_cpu = time.perf_counter() - began, time.process_time() - floor_cpu
    print(
        f"{name}: bill run: {len(report.finalized):,} invoices finalized in {seconds:.2f} s"
        f" | floor: bare GROUP BY {floor:.2f} s | ratio {seconds / floor:.1f}x (target: 5x or less)"
    )
    if name == "SQLite":  # both in this process: its CPU time, which load does not inflate
        print(
            f"{name}: CPU time: bill run {cpu:.2f} s, floor {floor_cpu:.2f} s,"
            f" ratio {cpu / floor_cpu:.1f}x"
        )
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--events-each", type=int, default=100)
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "IOTBILL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        engine = create_engine_for(str(Path(directory) / "bench.db"))
        sqlite = bench("SQLite", engine, arguments.subscriptions, arguments.events_each)
        engine.dispose()
    print("target: 10 s or less")
    with postgres_schema(arguments.postgres) as server:
        if server is None:
            return
        postgres = bench(
            "PostgreSQL", server.engine, arguments.subscriptions, arguments.events_each
        )
    print(
        f"PostgreSQL {postgres:.2f} s / SQLite {sqlite:.2f} s = {postgres / sqlite:.2f}x"
        " (target: 2x or less)"
    )


if __name__ == "__main__":
    main()
