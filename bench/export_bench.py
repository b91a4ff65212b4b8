"""Benchmark of a data export: 1,000,000 energy readings grouped into k-anonymous cells, on
SQLite and PostgreSQL.

Sets up 500 building owners with two energy monitors each (1,000 devices) and a reading of
each monitor every 15 minutes for 1,000 readings (about ten days): 1,000,000 events, each with
its kWh and its building's region. Regions are uneven (a few hold one or two owners), so
with k = 3 some cells are suppressed; 90 % of the devices consent, a third of them withdraw
half-way. A buyer on the data-monetization buyer's template
(examples/models/data-monetization-buyer.yaml)
exports the product ``energy-by-region-hourly`` over the whole span: ``export_data`` groups
the cells in SQL with consent as an interval join, suppresses every cell of fewer than k
owners, writes the Parquet file, records the export with its charge and posts the owners'
shares. Prints the time beside the floor measured in the same run on the same database:
a bare GROUP BY of the same events by region and hour, summing the same kWh (no consent, no
owners counted, no suppression, nothing written). Target: within 3x of the floor.

Run: ``python bench/export_bench.py [--events N]`` (``--events 100000`` for a quick look).
Asserts nothing about time.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine

from iotbill.adapters.data_files import write_cells
from iotbill.adapters.plan_files import parse_plan_text
from iotbill.adapters.storage.sql.engine import create_engine_for, upgrade
from iotbill.adapters.storage.sql.unit_of_work import sql_unit_of_work_factory
from iotbill.domain.customers import Customer, Device
from iotbill.domain.events import UsageEvent
from iotbill.domain.models.consent import Consent
from iotbill.domain.subscriptions import subscribe
from iotbill.services.data_products import export_data
from iotbill.services.ports import UnitOfWorkFactory
from postgres_schema import postgres_schema

START = datetime(2026, 1, 1, tzinfo=UTC)
STEP = timedelta(minutes=15)
TEMPLATE = Path(__file__).parents[1] / "examples" / "models" / "data-monetization-buyer.yaml"
OWNERS, DEVICES_EACH = 500, 2
REGIONS = [f"region-{n:02d}" for n in range(20)]
PRODUCT = "energy-by-region-hourly"


def floor_query(dialect: str) -> str:
    """The bare GROUP BY: the same events, grouped by region and hour, the kWh summed."""
    if dialect == "sqlite":
        region, kwh = (
            "json_extract(measures, '$.\"region\"')",
            "json_extract(measures, '$.\"kwh\"')",
        )
    else:
        region, kwh = "(measures ->> 'region')", "(measures ->> 'kwh')::bigint"
    return (
        f"SELECT {region}, occurred_at / 3600000000, SUM({kwh}) FROM usage_events "
        "WHERE tenant_id = 1 AND event_type = 'energy.reading' AND occurred_at >= :start "
        "AND occurred_at < :end GROUP BY 1, 2"
    )


def set_up(open_uow: UnitOfWorkFactory, events: int) -> datetime:
    """The owners, their monitors and consents, the buyer, and the readings; their end."""
    text = TEMPLATE.read_text()
    buyer_plan = parse_plan_text(text, TEMPLATE.name)
    rng = random.Random(7)
    readings_each = events // (OWNERS * DEVICES_EACH)
    end = START + readings_each * STEP
    with open_uow("default") as uow:
        stored = uow.plans.add_version(buyer_plan, text, START)
        owners = [
            Customer.create(id=f"o{n}", name=f"Building {n}", currency_code="EUR", timezone="UTC")
            for n in range(OWNERS)
        ]
        buyer = Customer.create(id="utility", name="Utility", currency_code="EUR", timezone="UTC")
        uow.customers.add_many([*owners, buyer])
        uow.subscriptions.add(
            subscribe(id="s-utility", customer=buyer, plan=buyer_plan,
                      plan_version=stored.version, start=START)
        )  # fmt: skip
        devices = [
            Device.create(f"m{n}-{d}", f"o{n}", START)
            for n in range(OWNERS)
            for d in range(DEVICES_EACH)
        ]
        uow.devices.add_many(devices)
        for device in devices:
            if rng.random() < 0.1:
                continue
            withdrawn = START + (end - START) / 2 if rng.random() < 1 / 3 else None
            uow.data_products.save_consent(Consent(device.id, START, withdrawn))
        uow.commit()
    # Uneven regions: the last three hold one or two owners each.
    region_of = {n: REGIONS[17 + n % 3] if n < 4 else REGIONS[n % 17] for n in range(OWNERS)}
    batch: list[UsageEvent] = []
    owners_of: list[str] = []
    count = 0
    for n in range(OWNERS):
        for d in range(DEVICES_EACH):
            for step in range(readings_each):
                batch.append(
                    UsageEvent(
                        id=f"r{n}-{d}-{step}",
                        type="energy.reading",
                        device=f"m{n}-{d}",
                        timestamp=START + step * STEP,
                        properties={
                            "kwh": Decimal(rng.randrange(0, 4000)) / 1000,
                            "region": region_of[n],
                        },
                    )
                )
                owners_of.append(f"o{n}")
        if len(batch) >= 50_000 or n == OWNERS - 1:
            with open_uow("default") as uow:
                uow.events.append(batch, owners_of, end)
                uow.commit()
            count += len(batch)
            batch, owners_of = [], []
    assert count == readings_each * OWNERS * DEVICES_EACH
    return end


def bench(name: str, engine: Engine, events: int, folder: Path) -> None:
    upgrade(engine)
    open_uow = sql_unit_of_work_factory(engine)
    began = time.perf_counter()
    end = set_up(open_uow, events)
    print(f"{name}: set up {events:,} readings in {time.perf_counter() - began:.1f} s")
    output = folder / f"{name}.parquet"
    began = time.perf_counter()
    result = export_data(
        open_uow("default"),
        product=PRODUCT,
        buyer="utility",
        start=START,
        end=end,
        format="parquet",
        at=end,
        deliver=lambda product, cells: write_cells(output, "parquet", product, cells),
    )
    seconds = time.perf_counter() - began
    began = time.perf_counter()
    with engine.connect() as connection:
        from sqlalchemy import text

        groups = connection.execute(
            text(floor_query(engine.dialect.name)),
            {"start": int(START.timestamp() * 1e6), "end": int(end.timestamp() * 1e6)},
        ).all()
    floor_seconds = time.perf_counter() - began
    tabulation = result.tabulation
    print(
        f"{name}: export of {events:,} readings: {len(tabulation.cells):,} cells delivered,"
        f" {tabulation.suppressed:,} suppressed, {result.export.revenue} EUR billed,"
        f" {len(result.allocation.owners if result.allocation else ()):,} owners credited"
        f" in {seconds:.2f} s | floor: bare GROUP BY ({len(groups):,} groups)"
        f" {floor_seconds:.2f} s | ratio {seconds / floor_seconds:.1f}x"
    )


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
        bench("SQLite", engine, arguments.events, Path(directory))
        engine.dispose()
        with postgres_schema(arguments.postgres) as server:
            if server is not None:
                bench("PostgreSQL", server.engine, arguments.events, Path(directory))
    print("target: within 3x of the floor")


if __name__ == "__main__":
    main()
