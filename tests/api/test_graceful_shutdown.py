"""Graceful shutdown: SIGTERM while a batch is being served lets it finish; nothing is lost."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from iotbill.adapters.storage.sql import tables
from iotbill.client import IotbillClient
from tests.api.conftest import Store
from tests.api.server import Server
from tests.api.test_http_e2e import AT, set_up

EVENTS = 1000


def being_served(store: Store, key: str) -> bool:
    """Whether the server has taken the request: it holds its idempotency key."""
    with store.engine.connect() as connection:
        found = select(tables.idempotency_records.c.key).where(
            tables.idempotency_records.c.key == key
        )
        return connection.execute(found).first() is not None


@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigterm_finishes_the_request_being_served(
    store: Store, tenant_a: str, tmp_path: Path, workers: str
) -> None:
    """One worker in the process, or two under a supervisor that passes SIGTERM on."""
    server = Server(store.url, tmp_path / "graceful.log", IOTBILL_API_WORKERS=workers).start()
    key = store.key(tenant_a, "admin")
    with IotbillClient(server.url, key) as client:
        set_up(client)
    batch = [
        {"id": f"g{n:04d}", "type": "pump.flow", "device": "p1", "timestamp": AT,
         "properties": {"m3": "1"}}
        for n in range(EVENTS)
    ]  # fmt: skip
    answers: list[Any] = []
    marker = f"graceful-{tenant_a}"

    def send() -> None:
        headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": marker}
        url = f"{server.url}/v1/events"
        answers.append(httpx.post(url, json=batch, headers=headers, timeout=60))

    sender = threading.Thread(target=send)
    sender.start()
    deadline = time.monotonic() + 30
    while not being_served(store, marker) and time.monotonic() < deadline:
        time.sleep(0.005)
    code = server.stop()  # SIGTERM, and wait for the process to end
    sender.join(timeout=60)
    # uvicorn shuts down gracefully, then ends by the signal it caught (as a process
    # that did not catch it would), so the exit status says SIGTERM.
    assert code in (0, -signal.SIGTERM)
    [answer] = answers
    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] == EVENTS
    assert store.count_events(tenant_a) == EVENTS
