"""Benchmark of HTTP ingest: ``POST /v1/events`` on loopback, into SQLite and PostgreSQL.

For batches of 100 and of 1,000 events, prints events/s and the p99 latency of a
request, beside the floor measured in the same run: an empty FastAPI endpoint
(``bench/api_floor_app.py``) served as ``iotbill serve`` is (``bench/api_floor_serve.py``:
the same uvicorn options, the same workers each on a socket of its own), taking the same
bodies from the same load generator. Each run stores into a tenant of its own, and
the stored count is checked against the sent count. Target: at least 30 % of the
floor's rate into PostgreSQL.

Beside the rates it prints where the CPU went, per event, measured in the same
run from ``/proc``: the server's processes, PostgreSQL's (every process named
``postgres`` on this machine: the benchmark expects the server on loopback), and
the load generator's, for iotbill and for the floor; and what PostgreSQL spends
storing the same rows by COPY alone, into a table with the same indexes (the least
any store of these events asks of it). From those it prints the ceiling that the
machine puts on the ratio: the rate at which that COPY, the floor's server and
the load generator together would keep every core busy, as a share of the floor's
rate. No work iotbill removes from its own processes takes the ratio above it.

The load generator sends pre-encoded bodies from ``--clients`` threads (each its own
keep-alive connection), every request with an ``Idempotency-Key`` as real clients
send, and is bounded: ``--events`` per run, and at most ``--seconds`` per run. Before
the measured load, each server (the floor and iotbill alike) takes a warm-up of other
bodies, a tenth as many events and at least four requests a client, sent the same way
and not measured: a service's steady rate is what the ratio compares, not the cost of
its first requests (opening the pool's connections, preparing statements). The
warm-up's events are stored too, and counted in the check.

Run: ``python bench/api_bench.py [--events N] [--workers W] [--clients C]
[--devices D] [--stores sqlite postgresql] [--postgres URL]``: ``--devices`` sets the
size of the sending tenant's fleet (100 by default), whose devices send in turn.
PostgreSQL is skipped, saying so, when unreachable. Asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg

import iotbill
from iotbill.adapters.clock import SystemClock
from iotbill.adapters.storage.sql.engine import create_engine_for, upgrade
from iotbill.adapters.storage.sql.unit_of_work import sql_unit_of_work_factory
from iotbill.domain.customers import Customer, Device
from iotbill.services.api_keys import create_key
from iotbill.services.ports import Tenant

BENCH = Path(__file__).resolve().parent
SOURCE = Path(iotbill.__file__).resolve().parents[1]
"""Where the iotbill this benchmark imports lives: the servers it starts run that code too
(they start in ``bench/``, where a relative ``PYTHONPATH`` such as ``src`` names nothing,
and would fall back on whichever iotbill is installed)."""
DEVICES = 100
"""The devices of the tenant that sends, unless ``--devices`` says otherwise."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Served:
    """A uvicorn server in a subprocess: ``iotbill serve``, or the floor app."""

    def __init__(self, command: list[str], environment: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [arg.replace("{port}", str(self.port)) for arg in command],
                env={
                    **os.environ,
                    **environment,
                    "IOTBILL_API_PORT": str(self.port),
                    "PYTHONPATH": os.pathsep.join([str(SOURCE), os.environ.get("PYTHONPATH", "")]),
                },
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=BENCH,
            )
        deadline = time.monotonic() + 180  # a loaded machine takes a while to import
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/docs", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not start: {log.read_text()[-2000:]}")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (uvicorn's workers), read from ``/proc``."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        queue.extend(parents.get(current, []))
    return found


def database_pids() -> list[int]:
    """The processes of the PostgreSQL server on this machine."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """Each process's user and system CPU seconds so far (those that ended are left out)."""
    tick = os.sysconf("SC_CLK_TCK")
    seconds = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / tick
    return seconds


def spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between two readings of :func:`cpu_seconds` (a process new in ``after``
    from its start)."""
    return sum(after[pid] - before.get(pid, 0.0) for pid in after)


def bodies(events: int, per_batch: int, tenant: str, devices: int = DEVICES) -> list[bytes]:
    """Pre-encoded batches: ``events`` events with random ids, ``per_batch`` each, from the
    ``devices`` in turn."""
    now = datetime.now(UTC).replace(microsecond=0)
    batches = []
    for start in range(0, events, per_batch):
        items = [
            {
                "id": str(uuid.uuid4()),
                "type": "pump.flow",
                "device": f"{tenant}-d{(start + i) % devices:06d}",
                "timestamp": (now - timedelta(seconds=start + i)).isoformat(),
                "properties": {"m3": "0.5"},
            }
            for i in range(min(per_batch, events - start))
        ]
        batches.append(json.dumps(items).encode())
    return batches


@dataclass(frozen=True)
class Batches:
    """The bodies of a run: those that warm a server up (its pool's connections opened,
    its statements prepared), then those measured. The floor and iotbill get the same."""

    warm_up: list[bytes]
    measured: list[bytes]


def warm_up_events(args: argparse.Namespace, per_batch: int) -> int:
    """A tenth of the measured events, and at least four requests a client."""
    return max(int(args.events) // 10, per_batch * int(args.clients) * 4)


def load(
    url: str, key: str, batches: list[bytes], clients: int, seconds: float
) -> dict[str, float]:
    """Send ``batches`` from ``clients`` threads; events/s, p99 latency, events sent."""
    latencies: list[float] = []
    sent = [0]
    lock = threading.Lock()
    queue = list(reversed(batches))
    deadline = time.monotonic() + seconds
    errors: list[str] = []

    def worker() -> None:
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        with httpx.Client(base_url=url, headers=headers, timeout=120) as http:
            while time.monotonic() < deadline:
                with lock:
                    if not queue:
                        return
                    body = queue.pop()
                began = time.perf_counter()
                answer = http.post(
                    "/v1/events", content=body, headers={"Idempotency-Key": uuid.uuid4().hex}
                )
                took = time.perf_counter() - began
                if answer.status_code != 200:
                    errors.append(f"{answer.status_code} {answer.text[:200]}")
                    return
                with lock:
                    latencies.append(took)
                    sent[0] += body.count(b'"id"')

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} failed requests, first: {errors[0]}")
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else 0.0
    return {"rate": sent[0] / elapsed, "p99_ms": p99 * 1000, "sent": sent[0]}


def prepare(url: str, label: str, devices: int = DEVICES) -> tuple[str, str]:
    """A tenant of its own with ``devices`` devices of one customer, and an events key."""
    engine = create_engine_for(url)
    upgrade(engine)
    uow_factory = sql_unit_of_work_factory(engine)
    tenant = f"{label}-{uuid.uuid4().hex[:6]}"
    with uow_factory(tenant) as uow:
        uow.tenants.add(Tenant(tenant, tenant))
        uow.commit()
    with uow_factory(tenant) as uow:
        customer = Customer.create(id="c1", name="C", currency_code="USD", timezone="UTC")
        uow.customers.add(customer)
        start = datetime(2020, 1, 1, tzinfo=UTC)
        uow.devices.add_many(
            [Device.create(f"{tenant}-d{number:06d}", "c1", start) for number in range(devices)]
        )
        uow.commit()
    key = create_key(
        uow_factory(tenant), name="bench", scopes=["events:write"], clock=SystemClock()
    ).text
    engine.dispose()
    return tenant, key


def stored(url: str, tenant: str) -> int:
    engine = create_engine_for(url)
    with sql_unit_of_work_factory(engine)(tenant, read_only=True) as uow:
        count = uow.events.count()
    engine.dispose()
    return count


@dataclass(frozen=True)
class Measured:
    """A load's figures (:func:`load`) and the CPU seconds it took: the server's processes,
    PostgreSQL's (0 when not asked for), and the load generator's; and the events sent to
    warm the server up before it (not measured, but stored)."""

    figures: dict[str, float]
    server: float
    database: float
    generator: float
    warm_up: int

    def per_event(self, seconds: float) -> float:
        """``seconds`` per event sent, in microseconds."""
        return seconds / self.figures["sent"] * 1e6


def measured_load(
    served: Served,
    key: str,
    batches: Batches,
    args: argparse.Namespace,
    database: bool,
) -> Measured:
    """:func:`load` of the measured batches on ``served``, with the CPU it took (PostgreSQL's
    too, if ``database``), after the warm-up batches, sent the same way and not measured."""
    warm_up = load(served.url, key, batches.warm_up, args.clients, args.seconds)["sent"]
    server_pids = process_tree(served.process.pid)
    server_before = cpu_seconds(server_pids)
    database_before = cpu_seconds(database_pids() if database else [])
    generator_before = time.process_time()  # this process: the load's threads only
    figures = load(served.url, key, batches.measured, args.clients, args.seconds)
    generator = time.process_time() - generator_before
    # read the database's processes again: the server's connections started with the load
    return Measured(
        figures,
        spent(server_before, cpu_seconds(server_pids)),
        spent(database_before, cpu_seconds(database_pids() if database else [])),
        generator,
        int(warm_up),
    )


def run(args: argparse.Namespace, name: str, url: str, folder: Path) -> None:
    environment = {
        "IOTBILL_DATABASE_URL": url,
        "IOTBILL_API_WORKERS": str(args.workers),
        "IOTBILL_API_LOG_LEVEL": "warning",
        "IOTBILL_API_RATE_PER_SECOND": "1000000",
        "IOTBILL_API_RATE_BURST": "1000000",
    }
    floor_command = [sys.executable, "api_floor_serve.py", "{port}", str(args.workers)]
    postgres = name == "PostgreSQL"
    for per_batch in (100, 1000):
        tenant, key = prepare(url, f"bench{per_batch}", args.devices)
        batches = Batches(
            bodies(warm_up_events(args, per_batch), per_batch, tenant, args.devices),
            bodies(args.events, per_batch, tenant, args.devices),
        )
        floor = Served(floor_command, {}, folder / "floor.log")
        try:
            empty = measured_load(floor, key, batches, args, database=False)
        finally:
            floor.stop()
        served = Served(
            [sys.executable, "-m", "iotbill.entrypoints.cli", "serve"],
            environment,
            folder / f"{name}.log",
        )
        try:
            ours = measured_load(served, key, batches, args, database=postgres)
        finally:
            served.stop()
        figures, floor_figures = ours.figures, empty.figures
        count = stored(url, tenant)
        sent = ours.warm_up + int(figures["sent"])
        check = "ok" if count == sent else f"MISMATCH: {count} stored"
        ratio = figures["rate"] / floor_figures["rate"]
        print(
            f"{name:10} batches of {per_batch:>5}: {figures['rate']:>9,.0f} events/s,"
            f" p99 {figures['p99_ms']:>7.1f} ms | floor {floor_figures['rate']:>9,.0f} events/s,"
            f" p99 {floor_figures['p99_ms']:>6.1f} ms | ratio {ratio:.0%}"
            f" | sent {sent:,} ({ours.warm_up:,} to warm up), stored {count:,} {check}",
            flush=True,
        )
        database = f", PostgreSQL {ours.per_event(ours.database):.1f}" if postgres else ""
        print(
            f"{'':10}   CPU µs per event: server {ours.per_event(ours.server):.1f}{database},"
            f" load generator {ours.per_event(ours.generator):.1f} | floor: server"
            f" {empty.per_event(empty.server):.1f}, load generator"
            f" {empty.per_event(empty.generator):.1f}",
            flush=True,
        )
        if postgres:
            copied = copy_floor(url, batches.measured) / figures["sent"] * 1e6
            least = copied + empty.per_event(empty.server + empty.generator)
            cores = os.cpu_count() or 1
            ceiling = cores / least * 1e6
            print(
                f"{'':10}   PostgreSQL storing the same rows by COPY alone: {copied:.1f} µs per"
                f" event; with the floor's server and load generator, {least:.1f} µs: on"
                f" {cores} cores at most {ceiling:,.0f} events/s, a ceiling of"
                f" {ceiling / floor_figures['rate']:.0%} of the floor",
                flush=True,
            )


def copy_floor(url: str, batches: list[bytes]) -> float:
    """PostgreSQL's CPU seconds to store the events of ``batches`` by COPY, a batch per
    transaction, into a new table with the indexes of ``usage_events`` (dropped after)."""
    received = int(time.time() * 1_000_000)
    table = f"usage_events_copy_{uuid.uuid4().hex[:8]}"
    columns = (
        "tenant_id, event_id, event_type, device_id, customer_id, occurred_at, received_at,"
        " properties, measures"
    )
    libpq = "postgresql://" + url.split("://", 1)[1]
    with psycopg.connect(libpq, autocommit=True) as connection:
        connection.execute(f"CREATE TABLE {table} (LIKE usage_events INCLUDING ALL)")
        before = cpu_seconds(database_pids())
        for body in batches:
            with (
                connection.transaction(),
                connection.cursor() as cursor,
                cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
            ):
                for item in json.loads(body):
                    at = datetime.fromisoformat(item["timestamp"])
                    copy.write_row(
                        (
                            0,
                            item["id"],
                            item["type"],
                            item["device"],
                            "c1",
                            int(at.timestamp()) * 1_000_000 + at.microsecond,
                            received,
                            json.dumps(item["properties"]),
                            json.dumps({"m3": float(item["properties"]["m3"])}),
                        )
                    )
        cpu = spent(before, cpu_seconds(database_pids()))
        connection.execute(f"DROP TABLE {table}")
    return cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=50_000, help="events per run")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers")
    parser.add_argument("--clients", type=int, default=4, help="concurrent connections")
    parser.add_argument(
        "--devices", type=int, default=DEVICES, help="the sending tenant's devices, in turn"
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="longest run")
    parser.add_argument(
        "--stores", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"]
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "IOTBILL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args()
    print(
        f"HTTP ingest, {args.events:,} events per run, {args.workers} uvicorn workers,"
        f" {args.clients} client connections, {args.devices:,} devices,"
        f" at most {args.seconds:.0f} s per run"
    )
    with tempfile.TemporaryDirectory() as folder:
        if "sqlite" in args.stores:
            run(args, "SQLite", f"sqlite:///{Path(folder) / 'bench.db'}", Path(folder))
        if "postgresql" not in args.stores:
            return
        schema = f"api_bench_{uuid.uuid4().hex[:8]}"
        libpq = "postgresql://" + args.postgres.split("://", 1)[1]
        try:
            with psycopg.connect(libpq, autocommit=True, connect_timeout=3) as connection:
                connection.execute(f'CREATE SCHEMA "{schema}"')
        except psycopg.OperationalError as error:
            print(f"PostgreSQL skipped: {str(error).strip()}")
            return
        try:
            url = f"{args.postgres}?options=-csearch_path%3D{schema}"
            run(args, "PostgreSQL", url, Path(folder))
        finally:
            with psycopg.connect(libpq, autocommit=True) as connection:
                connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    main()
