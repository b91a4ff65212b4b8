"""Faults: the server is killed (SIGKILL) while a client streams batches, and started again.

The client retries each batch with its idempotency key until it gets an answer; in the end
the events stored are exactly the events sent: none lost, none twice.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from iotbill.client import IotbillClient
from tests.api.conftest import Store
from tests.api.server import Server
from tests.api.test_http_e2e import AT, set_up

BATCHES = 40
PER_BATCH = 250
KILLS = 3


def batch(number: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"b{number:03d}-{item:04d}",
            "type": "pump.flow",
            "device": "p1",
            "timestamp": AT,
            "properties": {"m3": "0.5"},
        }
        for item in range(PER_BATCH)
    ]


def test_killed_mid_stream_every_event_is_stored_once(
    store: Store, tenant_a: str, tmp_path: Path
) -> None:
    server = Server(store.url, tmp_path / "killed.log", IOTBILL_API_IDEMPOTENCY_LEASE="2").start()
    key = store.key(tenant_a, "admin")
    answers: dict[int, dict[str, Any]] = {}
    failures: list[BaseException] = []

    def stream() -> None:
        with IotbillClient(server.url, key, retries=60, backoff=0.1, timeout=20) as client:
            try:
                for number in range(BATCHES):
                    answers[number] = client.send_events(
                        batch(number), idempotency_key=f"stream-{number}"
                    )
            except BaseException as error:  # reported below, in the test's thread
                failures.append(error)

    with IotbillClient(server.url, key) as client:
        set_up(client)
    sender = threading.Thread(target=stream)
    sender.start()
    try:
        for kill in range(KILLS):
            target = (kill + 1) * BATCHES // (KILLS + 1)
            deadline = time.monotonic() + 120
            while len(answers) < target and sender.is_alive() and time.monotonic() < deadline:
                time.sleep(0.01)
            server.kill()  # mid-stream: a batch is in flight, or about to be
            server.start()
        sender.join(timeout=300)
    finally:
        server.stop()
    assert not sender.is_alive(), "the client never finished"
    assert failures == []
    assert sorted(answers) == list(range(BATCHES))
    for number, answer in answers.items():
        statuses = {result["status"] for result in answer["results"]}
        # A batch answered once is "accepted"; one that a killed attempt had stored in part
        # or whole and a retry ran again is "duplicate" for what was stored before.
        assert statuses <= {"accepted", "duplicate"}, number
        assert answer["accepted"] + answer["duplicates"] == PER_BATCH, number
    assert store.count_events(tenant_a) == BATCHES * PER_BATCH
    with store.uow_factory(tenant_a, read_only=True) as uow:
        found = uow.events.find(
            [f"b{n:03d}-{i:04d}" for n in range(BATCHES) for i in range(PER_BATCH)]
        )
    assert len(found) == BATCHES * PER_BATCH
