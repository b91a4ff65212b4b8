"""Webhooks delivered for real, over HTTP to receivers in this process: retries until the
third attempt, signatures that verify, a receiver that never answers blocking nobody."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from iotbill.adapters.clock import SystemClock
from iotbill.adapters.storage.sql.engine import create_engine_for, upgrade
from iotbill.adapters.storage.sql.unit_of_work import sql_unit_of_work_factory
from iotbill.adapters.webhook_http import HttpWebhookSender
from iotbill.domain.webhooks import RetryPolicy
from iotbill.services.ports import Tenant, UnitOfWorkFactory
from iotbill.services.webhooks import Dispatcher, add_endpoint, emit, list_deliveries
from tests.conftest import ROOT

FAST = RetryPolicy(
    base=timedelta(milliseconds=50), cap=timedelta(seconds=1), timeout=timedelta(seconds=30)
)


def verifier() -> Any:
    """``verify`` from docs/webhooks_verify.py, the receiver's side as documented."""
    namespace: dict[str, Any] = {}
    source = (ROOT / "docs" / "webhooks_verify.py").read_text()
    exec(compile(source, "docs/webhooks_verify.py", "exec"), namespace)
    return namespace["verify"]


class Receiver:
    """An HTTP receiver answering each POST with the next of ``answers`` (the last repeats);
    ``None`` holds the request without answering until :attr:`release` is set."""

    def __init__(self, answers: list[int | None]) -> None:
        self.answers = answers
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.release = threading.Event()
        self.holding = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                index = min(len(receiver.requests), len(receiver.answers)) - 1
                answer = receiver.answers[index]
                if answer is None:
                    receiver.holding.set()
                    receiver.release.wait(60)
                    self.close_connection = True
                    return
                self.send_response(answer)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def receiver(answers: list[int | None]) -> Iterator[Receiver]:
    found = Receiver(answers)
    try:
        yield found
    finally:
        found.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[UnitOfWorkFactory]:
    engine = create_engine_for(str(tmp_path / "iotbill.db"))
    upgrade(engine)
    factory = sql_unit_of_work_factory(engine)
    with factory("default") as uow:
        uow.tenants.add(Tenant("acme", "Acme"))
        uow.commit()
    yield factory
    engine.dispose()


def emit_paid(store: UnitOfWorkFactory, subject: str) -> str:
    with store("acme") as uow:
        id = emit(uow, "invoice.paid", subject=subject, data={"invoice": {"id": subject}},
                  at=datetime.now(UTC))  # fmt: skip
        uow.commit()
    assert id is not None
    return id


def deliver_until(dispatcher: Dispatcher, done: Any, rounds: int = 400) -> None:
    for _ in range(rounds):
        dispatcher.dispatch()
        if done():
            return
        threading.Event().wait(0.02)
    raise AssertionError("not delivered")


def test_a_receiver_failing_twice_gets_the_third_attempt_and_its_signature_verifies(
    store: UnitOfWorkFactory,
) -> None:
    verify = verifier()
    with receiver([500, 503, 200]) as failing:
        endpoint = add_endpoint(store("acme"), failing.url, ["invoice.paid"], at=datetime.now(UTC))
        id = emit_paid(store, "inv-1")
        dispatcher = Dispatcher(store, SystemClock(), HttpWebhookSender(), policy=FAST)
        try:
            deliver_until(dispatcher, lambda: len(failing.requests) == 3)
            dispatcher.drain()
        finally:
            dispatcher.close()
        [view] = list_deliveries(store("acme"))
    attempts = view.delivery.attempts
    print(f"attempts: {[(a.number, a.status_code, a.error) for a in attempts]}")
    assert view.delivery.status == "delivered"
    assert [(a.number, a.status_code, a.error) for a in attempts] == [
        (1, 500, "HTTP 500 Internal Server Error"),
        (2, 503, "HTTP 503 Service Unavailable"),
        (3, 200, None),
    ]
    assert attempts[1].at - attempts[0].at >= timedelta(milliseconds=25)  # waited half a step
    for number, (headers, body) in enumerate(failing.requests, start=1):
        assert headers["Iotbill-Event-Id"] == id  # one event, three attempts
        assert headers["Iotbill-Delivery-Attempt"] == str(number)
        assert verify(endpoint.secret, headers, body)
        assert not verify("whsec_wrong", headers, body)
        assert not verify(endpoint.secret, headers, body + b" ")
    assert json.loads(failing.requests[2][1]) == {
        "id": id,
        "type": "invoice.paid",
        "created_at": json.loads(failing.requests[2][1])["created_at"],
        "tenant": "acme",
        "data": {"invoice": {"id": "inv-1"}},
    }


def test_a_receiver_that_never_answers_does_not_block_the_others(store: UnitOfWorkFactory) -> None:
    patient = RetryPolicy(base=timedelta(milliseconds=50), timeout=timedelta(seconds=1))
    with receiver([None]) as silent, receiver([200]) as answering:
        add_endpoint(store("acme"), silent.url, ["invoice.paid"], at=datetime.now(UTC))
        add_endpoint(store("acme"), answering.url, ["invoice.paid"], at=datetime.now(UTC))
        dispatcher = Dispatcher(store, SystemClock(), HttpWebhookSender(), policy=patient)
        try:
            emit_paid(store, "inv-1")
            deliver_until(dispatcher, silent.holding.is_set)
            emit_paid(store, "inv-2")
            deliver_until(
                dispatcher, lambda: len(list_deliveries(store("acme"), status="delivered")) == 2
            )
            # Both delivered and recorded while the silent receiver still holds its requests.
            assert len(answering.requests) == 2 and not silent.release.is_set()
            dispatcher.drain()  # the silent receiver's attempts end at their timeout
        finally:
            dispatcher.close()
        views = list_deliveries(store("acme"))
    by_url = sorted(
        (v.url == silent.url, v.delivery.status, len(v.delivery.attempts)) for v in views
    )
    assert by_url == [
        (False, "delivered", 1),
        (False, "delivered", 1),
        (True, "pending", 1),
        (True, "pending", 1),
    ]
    for held in [v for v in views if v.url == silent.url]:
        [attempt] = held.delivery.attempts
        assert (attempt.status_code, attempt.error) == (None, "no answer within 1 s")
