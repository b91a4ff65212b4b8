"""Benchmark of ``devices import``: 100,000 devices from a CSV file, on SQLite.

Writes a CSV file of 100,000 devices (id, customer, from: a date, local
midnight in the customer's zone) for 1,000 customers in ten time zones, then
times the import as the command does it: the file read and decoded, every row
checked, the stored devices and customers looked up, the new ones written in
one transaction. Then the same file again (every row already stored: the
idempotent re-run). Prints both beside the floor measured in the same run on
a fresh database of the same schema: a bare ``executemany`` of the same rows
into ``devices`` and ``device_owners`` in one transaction, with nothing read
or checked. Target: the import in under 10 s.

Run: ``python bench/import_bench.py [--devices N]``. Asserts nothing about time.
"""

from __future__ import annotations

import argparse
import csv
import sqlite3
import tempfile
import time
from datetime import date
from pathlib import Path

from iotbill.adapters.record_files import read_rows
from iotbill.adapters.storage.sql.engine import create_engine_for, upgrade
from iotbill.adapters.storage.sql.unit_of_work import sql_unit_of_work_factory
from iotbill.domain.customers import Customer
from iotbill.domain.events import Rejection
from iotbill.domain.periods import local_midnight, to_micros, zone
from iotbill.services.imports import DEVICE_FIELDS, ImportReport, import_devices
from iotbill.services.ports import UnitOfWorkFactory

CUSTOMERS = 1_000
ZONES = (
    "UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney",
    "America/Los_Angeles", "Asia/Kolkata", "Europe/London", "America/Sao_Paulo", "Pacific/Auckland",
)  # fmt: skip


def write_file(path: Path, devices: int) -> None:
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(DEVICE_FIELDS)
        for number in range(devices):
            day = date(2025, 1 + number % 12, 1 + number % 28)
            writer.writerow([f"dev-{number:07d}", f"c{number % CUSTOMERS}", day.isoformat()])


def add_customers(open_uow: UnitOfWorkFactory) -> None:
    with open_uow("default") as uow:
        uow.customers.add_many(
            [
                Customer.create(
                    id=f"c{number}",
                    name=f"Customer {number}",
                    currency_code="USD",
                    timezone=ZONES[number % len(ZONES)],
                )
                for number in range(CUSTOMERS)
            ]
        )
        uow.commit()


def timed_import(open_uow: UnitOfWorkFactory, path: Path) -> tuple[float, ImportReport]:
    began = time.perf_counter()
    read = read_rows(str(path), DEVICE_FIELDS)
    unreadable = [Rejection(line, reason) for line, reason in read.unreadable]
    report = import_devices(open_uow("default"), read.rows, unreadable=unreadable)
    return time.perf_counter() - began, report


def floor(directory: Path, devices: int) -> float:
    """A bare executemany of the same rows into a fresh database of the same schema."""
    engine = create_engine_for(str(directory / "floor.db"))
    upgrade(engine)
    engine.dispose()
    connection = sqlite3.connect(directory / "floor.db", isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    tenant = connection.execute("SELECT id FROM tenants WHERE code = 'default'").fetchone()[0]
    connection.executemany(
        "INSERT INTO customers (tenant_id, id, name, currency, timezone, billing_address, "
        "tax_rate) VALUES (?, ?, ?, 'USD', ?, '', '0')",
        [(tenant, f"c{n}", f"Customer {n}", ZONES[n % len(ZONES)]) for n in range(CUSTOMERS)],
    )
    rows = []
    for number in range(devices):
        day = date(2025, 1 + number % 12, 1 + number % 28)
        customer = number % CUSTOMERS
        start = to_micros(local_midnight(day, zone(ZONES[customer % len(ZONES)])))
        rows.append((tenant, f"dev-{number:07d}", start, f"c{customer}"))
    began = time.perf_counter()
    connection.execute("BEGIN")
    connection.executemany(
        "INSERT INTO devices (tenant_id, id) VALUES (?, ?)", [row[:2] for row in rows]
    )
    connection.executemany(
        "INSERT INTO device_owners (tenant_id, device_id, valid_from, customer_id) "
        "VALUES (?, ?, ?, ?)",
        rows,
    )
    connection.execute("COMMIT")
    seconds = time.perf_counter() - began
    connection.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=100_000)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        path = directory / "devices.csv"
        write_file(path, arguments.devices)
        engine = create_engine_for(str(directory / "bench.db"))
        upgrade(engine)
        open_uow = sql_unit_of_work_factory(engine)
        add_customers(open_uow)
        first, report = timed_import(open_uow, path)
        assert report.created == arguments.devices, report.as_json()
        again, repeat = timed_import(open_uow, path)
        assert repeat.unchanged == arguments.devices and repeat.created == 0
        engine.dispose()
        bare = floor(directory, arguments.devices)
        print(
            f"devices import: {arguments.devices:,} devices created in {first:.2f} s"
            f" | floor: bare executemany {bare:.2f} s | ratio {first / bare:.1f}x"
        )
        print(
            f"the same file again: {repeat.unchanged:,} already stored in {again:.2f} s"
            f" | ratio {again / bare:.1f}x"
        )
        print("target: the import in under 10 s")


if __name__ == "__main__":
    main()
