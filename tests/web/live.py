"""The demo, served in this process on a free loopback port, for the dashboard's tests.

The demo's store (SQLite, January 2026 billed) behind the real app, with the
clock frozen at the demo's billing instant, so every figure a page shows is
the one docs/analytics.md works out. uvicorn runs in a thread of the test
process; the browser tests drive it from Debian's chromium.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from iotbill.adapters.clock import FrozenClock, SystemClock
from iotbill.adapters.storage.sql.engine import create_engine_for, upgrade
from iotbill.adapters.storage.sql.unit_of_work import sql_unit_of_work_factory
from iotbill.demo.scenario import BILLED_AT, TENANT, run_demo
from iotbill.entrypoints.api import create_app
from iotbill.services.api_keys import create_key
from iotbill.services.ports import UnitOfWorkFactory
from tests.api.server import free_port


@dataclass(frozen=True, slots=True)
class LiveDemo:
    """The served demo: its URL, its store, and a billing:read key of the demo tenant."""

    url: str
    uow_factory: UnitOfWorkFactory
    key: str
    clock: FrozenClock

    def new_key(self, *scopes: str) -> str:
        return create_key(
            self.uow_factory(TENANT.code), name="test", scopes=list(scopes), clock=SystemClock()
        ).text


@contextmanager
def live_demo(folder: Path) -> Iterator[LiveDemo]:
    """The demo in ``folder``, served until the block ends."""
    engine = create_engine_for(f"sqlite:///{folder / 'demo.db'}")
    upgrade(engine)
    uow_factory = sql_unit_of_work_factory(engine)
    run_demo(uow_factory)
    clock = FrozenClock(BILLED_AT)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(uow_factory=uow_factory, clock=clock),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the dashboard's server did not start")
        time.sleep(0.05)
    try:
        key = create_key(
            uow_factory(TENANT.code), name="dashboard", scopes=["billing:read"], clock=SystemClock()
        ).text
        yield LiveDemo(f"http://127.0.0.1:{port}", uow_factory, key, clock)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        engine.dispose()
