"""Benchmark of the reorder job: 10,000 printers with a month of hourly ink levels (7.2M
readings), on SQLite.

Sets up 10,000 customers, each with one printer on the razor-blade template
(examples/models/razor-blade.yaml), and stores a reading of each printer's ink every hour of
January 2026: a level falling at the printer's own pace, a new cartridge when it runs dry.
Then times ``run_reorders`` at the end of January: every printer's readings read, cut at
refills, fitted by least squares, and the orders due placed with their charges. Prints the
time beside the floor measured in the same run on the same database: one query reading the
same readings into numpy arrays and a vectorised least-squares fit of each printer's last
14 days (no refills cut, no decisions, nothing written). Target: within 3x of the floor.

Run: ``python bench/reorder_bench.py [--devices N]`` (``--devices 500`` for a quick look).
Asserts nothing about time.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
from sqlalchemy import Engine

from iotbill.adapters.plan_files import parse_plan_text
from iotbill.adapters.storage.sql.engine import create_engine_for, upgrade
from iotbill.adapters.storage.sql.unit_of_work import sql_unit_of_work_factory
from iotbill.domain.customers import Customer, Device
from iotbill.domain.events import UsageEvent
from iotbill.domain.subscriptions import subscribe
from iotbill.services.orders import run_reorders
from iotbill.services.ports import UnitOfWorkFactory

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 1, 31, tzinfo=UTC)
TEMPLATE = Path(__file__).parents[1] / "examples" / "models" / "razor-blade.yaml"
FLOOR_QUERY = (
    "SELECT device_id, occurred_at, CAST(json_extract(properties, '$.level') AS REAL) "
    "FROM usage_events WHERE event_type = 'printer.ink' AND occurred_at >= ? "
    "ORDER BY device_id, occurred_at"
)
WINDOW_DAYS = 14


def set_up(open_uow: UnitOfWorkFactory, devices: int) -> int:
    """The customers, printers and subscriptions, and a reading an hour each; the count."""
    text = TEMPLATE.read_text()
    plan = parse_plan_text(text, TEMPLATE.name)
    with open_uow("default") as uow:
        stored = uow.plans.add_version(plan, text, START)
        customers = [
            Customer.create(id=f"c{n}", name=f"Office {n}", currency_code="USD", timezone="UTC")
            for n in range(devices)
        ]
        uow.customers.add_many(customers)
        uow.devices.add_many([Device.create(f"p{n}", f"c{n}", START) for n in range(devices)])
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
    rng = random.Random(7)
    hours = int((END - START).total_seconds() // 3600)
    count = 0
    for first in range(0, devices, 200):
        events, owners = [], []
        for number in range(first, min(first + 200, devices)):
            level, pace = rng.uniform(20, 100), rng.uniform(0.1, 0.35)  # percent an hour
            for hour in range(hours):
                events.append(
                    UsageEvent(
                        id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                        type="printer.ink",
                        device=f"p{number}",
                        timestamp=START + timedelta(hours=hour),
                        properties={"level": Decimal(f"{level:.1f}")},
                    )
                )
                owners.append(f"c{number}")
                level = 100.0 if level <= 0 else max(0.0, level - pace)
        with open_uow("default") as uow:
            uow.events.append(events, owners, END)
            uow.commit()
        count += len(events)
    return count


def floor(engine: Engine) -> tuple[float, int]:
    """Seconds to read the window's readings as arrays and fit every printer at once; how
    many printers the fit forecasts a run-out for."""
    since = int((END - timedelta(days=WINDOW_DAYS)).timestamp() * 1_000_000)
    began = time.perf_counter()
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(FLOOR_QUERY, (since,)).all()
    devices = np.array([row[0] for row in rows])
    at = np.array([row[1] for row in rows], dtype=np.float64) / 86_400e6
    level = np.array([row[2] for row in rows], dtype=np.float64)
    _, group = np.unique(devices, return_inverse=True)
    n = np.bincount(group)
    mean_t = np.bincount(group, at) / n
    mean_y = np.bincount(group, level) / n
    dt = at - mean_t[group]
    slope = np.bincount(group, dt * (level - mean_y[group])) / np.bincount(group, dt * dt)
    falling = int(np.count_nonzero(slope < 0))
    return time.perf_counter() - began, falling


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=10_000)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        engine = create_engine_for(str(Path(directory) / "bench.db"))
        upgrade(engine)
        open_uow = sql_unit_of_work_factory(engine)
        began = time.perf_counter()
        readings = set_up(open_uow, arguments.devices)
        print(
            f"SQLite: set up {arguments.devices:,} printers and {readings:,} readings"
            f" in {time.perf_counter() - began:.1f} s"
        )
        began = time.perf_counter()
        checks = run_reorders(open_uow("default"), as_of=END)
        seconds = time.perf_counter() - began
        placed = sum(1 for check in checks if check.order is not None)
        floor_seconds, falling = floor(engine)
        engine.dispose()
    print(
        f"SQLite: reorder job: {len(checks):,} printers checked, {placed:,} orders placed"
        f" in {seconds:.2f} s | floor: arrays + vectorised least squares"
        f" ({falling:,} falling) {floor_seconds:.2f} s | ratio {seconds / floor_seconds:.1f}x"
    )
    print("target: within 3x of the floor")


if __name__ == "__main__":
    main()
