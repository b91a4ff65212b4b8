"""Commands at once on PostgreSQL, as processes: ingests of the same ids in opposite orders,
and two bill runs. Every process exits cleanly, and what is stored is what one would store.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from iotbill.adapters.clock import FrozenClock
from iotbill.adapters.plan_files import parse_plan_document
from iotbill.adapters.storage.sql.engine import create_engine_for, upgrade
from iotbill.adapters.storage.sql.unit_of_work import sql_unit_of_work_factory
from iotbill.domain.catalog import Meter
from iotbill.domain.events import SourcedEvent, UsageEvent
from iotbill.domain.periods import Period
from iotbill.services.catalog import apply_plan
from iotbill.services.customers import add_customer, add_device
from iotbill.services.ingest import ingest
from iotbill.services.ports import EventScope
from iotbill.services.subscriptions import create_subscription
from tests.conftest import run_iotbill
from tests.services import postgres_schema

PLAN = """\
code: pump
name: Pump
currency: USD
interval: month
fixed_fees: [{code: base, amount: "31.00"}]
meters: [{code: water, event_type: pump.flow, aggregation: sum, property: m3}]
charges: [{code: water, meter: water, model: per_unit, unit_price: "0.50"}]
"""
START = datetime(2026, 1, 1, tzinfo=UTC)
DEVICES = 50


def _set_up(url: str) -> None:
    """Migrate; store the pump plan and customers c00.. with devices d00.."""
    engine = create_engine_for(url)
    try:
        upgrade(engine)
        open_uow = sql_unit_of_work_factory(engine)
        clock = FrozenClock(START)
        apply_plan(open_uow("default"), parse_plan_document(PLAN, "plan.yaml"), clock)
        for number in range(DEVICES):
            customer = f"c{number:02d}"
            add_customer(
                open_uow("default"), id=customer, name=customer, currency="USD", timezone="UTC"
            )
            add_device(open_uow("default"), f"d{number:02d}", customer=customer, start=START)
    finally:
        engine.dispose()


@pytest.fixture
def database() -> Iterator[str]:
    """A PostgreSQL schema of its own, set up by :func:`_set_up`."""
    with postgres_schema("iotbill_concurrency") as url:
        _set_up(url)
        yield url


def _event_line(number: int) -> str:
    # Many events share a timestamp: rows are written in index order (customer, type,
    # time), so ties keep each file's order, opposite in opposite files.
    at = START + timedelta(days=3, minutes=number % 2)
    return json.dumps(
        {
            "id": f"evt-{number:06d}",
            "type": "pump.flow",
            "device": f"d{number % DEVICES:02d}",
            "timestamp": at.isoformat(),
            "properties": {"m3": number % 10},
        }
    )


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "iotbill.entrypoints.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _stored(url: str) -> int:
    engine = create_engine_for(url)
    try:
        with sql_unit_of_work_factory(engine)("default") as uow:
            return uow.events.count()
    finally:
        engine.dispose()


def test_four_ingests_of_overlapping_files_in_opposite_orders_all_succeed(
    tmp_path: Path, database: str
) -> None:
    # Issue item 3: two such ingests at once killed one with DeadlockDetected.
    ranges = [range(0, 30_000), range(0, 30_000)[::-1], range(15_000, 45_000)]
    ranges.append(ranges[2][::-1])
    files = []
    for index, numbers in enumerate(ranges):
        path = tmp_path / f"events-{index}.jsonl"
        path.write_text("\n".join(map(_event_line, numbers)) + "\n")
        files.append(path)
    runs = [
        _spawn("ingest", str(path), "--database", database, "--batch-size", "3000", "--json")
        for path in files
    ]
    results = [(run.wait(timeout=600), *run.communicate()) for run in runs]
    for code, stdout, stderr in results:
        assert (code, stderr) == (0, ""), stderr
        report = json.loads(stdout)
        assert report["accepted"] + report["duplicates"] == 30_000
        assert report["rejected"] == []
    assert sum(json.loads(stdout)["accepted"] for _, stdout, _ in results) == 45_000
    assert _stored(database) == 45_000  # every distinct id, once
    # The hourly roll-up that entitlement checks read says what the events say, though
    # each writer saw only its own new events until it committed.
    water = Meter("water", "pump.flow", "sum", "m3")
    january = Period(START, START + timedelta(days=31))
    engine = create_engine_for(database)
    try:
        with sql_unit_of_work_factory(engine)("default") as uow:
            for number in range(0, DEVICES, 7):
                scope = EventScope(f"c{number:02d}")
                [pushed_down] = uow.events.aggregate(water, january, scope)
                assert uow.events.running_total(water, january, scope) == pushed_down.quantity
    finally:
        engine.dispose()


def _subscribe_and_use(url: str, subscriptions: int) -> None:
    engine = create_engine_for(url)
    try:
        open_uow = sql_unit_of_work_factory(engine)
        for number in range(subscriptions):
            create_subscription(
                open_uow("default"), customer=f"c{number:02d}", plan="pump", start=date(2026, 1, 1)
            )
        events = [
            SourcedEvent(
                UsageEvent(f"e{n}", "pump.flow", f"d{n % DEVICES:02d}", at, {"m3": n % 9}), n
            )
            for n, at in ((n, START + timedelta(hours=n)) for n in range(600))
        ]
        ingest(open_uow, "default", events, clock=FrozenClock(datetime(2026, 2, 1, tzinfo=UTC)))
    finally:
        engine.dispose()


def _invoices(url: str) -> list[tuple[str, str | None, str, str]]:
    listed = run_iotbill("invoices", "list", "--database", url, "--json")
    assert listed.exit_code == 0, listed.stderr
    return sorted(
        (invoice["id"], invoice["number"], invoice["status"], invoice["total"])
        for invoice in json.loads(listed.stdout)
    )


def test_two_bill_runs_at_once_take_turns_and_issue_a_single_runs_invoices(
    database: str,
) -> None:
    # Issue item 11: the later run exited 4 ("an invoice id or number ... is already
    # taken") and printed a stray "error ignored terminating <psycopg.Pipeline ...>".
    _subscribe_and_use(database, DEVICES)
    run = ("bill-run", "--as-of", "2026-02-01T12:00:00Z", "--database", database, "--json")
    first, second = _spawn(*run), _spawn(*run)
    results = [(process.wait(timeout=600), *process.communicate()) for process in (first, second)]
    for code, _stdout, stderr in results:
        assert (code, stderr) == (0, "")
    issued = [json.loads(stdout)["issued"] for _, stdout, _ in results]
    assert sorted(issued[0] + issued[1]) == sorted(
        [f"sub-{n:06d}/opening" for n in range(1, DEVICES + 1)]
        + [f"sub-{n:06d}/close/2026-01-01T00:00:00+00:00" for n in range(1, DEVICES + 1)]
    )  # each invoice issued by one of the two runs
    together = _invoices(database)
    with postgres_schema("iotbill_single_run") as single:
        _set_up(single)
        _subscribe_and_use(single, DEVICES)
        alone = run_iotbill(*run[:3], "--database", single)
        assert alone.exit_code == 0, alone.stderr
        assert _invoices(single) == together  # ids, numbers, statuses and totals
    numbers = sorted(number for _, number, _, _ in together if number)
    assert numbers == [f"INV-2026-{n:06d}" for n in range(1, 2 * DEVICES + 1)]


def test_two_writers_of_the_same_ids_in_opposite_orders_both_commit(database: str) -> None:
    # Issue item 3, without the luck of timing: two transactions start their COPY of the
    # same 20,000 ids together, one ascending and one descending, so they meet in the
    # middle, each waiting for a row the other holds. PostgreSQL fails one of them with
    # DeadlockDetected; that one must give way and store its rows in id order. One device
    # and one instant: rows are written in (customer, type, time) order, ties as given.
    events = [
        UsageEvent(f"evt-{n:06d}", "pump.flow", "d00", START, {"m3": 1}) for n in range(20_000)
    ]
    owners = ["c00"] * 20_000
    engine = create_engine_for(database)
    open_uow = sql_unit_of_work_factory(engine)
    together = threading.Barrier(2)

    def write(order: slice) -> int:
        with open_uow("default") as uow:
            prepared = uow.events.prepare(events[order], owners[order], START)
            together.wait()
            stored = uow.events.append_prepared(prepared).stored
            uow.commit()
            return stored

    try:
        with ThreadPoolExecutor(2) as pool:
            stored = list(pool.map(write, [slice(None), slice(None, None, -1)]))
        assert sum(stored) == 20_000  # each id stored by one of the two
        assert _stored(database) == 20_000
    finally:
        engine.dispose()
