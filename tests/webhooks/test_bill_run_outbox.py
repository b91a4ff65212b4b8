"""A bill run killed (SIGKILL) after a batch committed, or inside one, then run again: every
finalized invoice has exactly one outbox message, delivered once, under one event id."""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from iotbill.adapters.clock import SystemClock
from iotbill.adapters.storage.sql.engine import create_engine_for
from iotbill.adapters.storage.sql.unit_of_work import sql_unit_of_work_factory
from iotbill.adapters.webhook_http import HttpWebhookSender
from iotbill.domain.webhooks import message_id
from iotbill.services.webhooks import Dispatcher, add_endpoint, list_deliveries
from tests.conftest import run_iotbill
from tests.e2e.test_bill_run_killed import BATCH, CHILD, SUBSCRIPTIONS, set_up
from tests.webhooks.test_webhook_delivery import FAST, deliver_until, receiver


@pytest.mark.parametrize("where", ["after-first-batch", "inside-second-batch"])
def test_a_killed_bill_run_neither_loses_nor_doubles_its_messages(
    tmp_path: Path, where: str
) -> None:
    database = tmp_path / "billing.db"
    set_up(database)
    engine = create_engine_for(str(database))
    open_uow = sql_unit_of_work_factory(engine)
    with receiver([200]) as hooks:
        add_endpoint(open_uow("default"), hooks.url, ["invoice.finalized"], at=datetime.now(UTC))
        child = subprocess.run(
            [sys.executable, "-c", CHILD, str(database), where, str(BATCH)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert child.returncode == -signal.SIGKILL, child.stderr
        queued = list_deliveries(open_uow("default"), limit=1000)
        assert len(queued) == 2 * BATCH  # the first batch's invoices, whole; nothing of the second

        again = run_iotbill("bill-run", "--as-of", "2026-02-01T12:00:00Z",
                            "--database", str(database))  # fmt: skip
        assert again.exit_code == 0, again.stderr
        with open_uow("default") as uow:
            finalized = [i.id for i in uow.invoices.list() if i.status == "finalized"]
        assert len(finalized) == 2 * SUBSCRIPTIONS
        views = list_deliveries(open_uow("default"), limit=1000)
        expected = sorted(message_id("invoice.finalized", id) for id in finalized)
        assert sorted(v.delivery.message_id for v in views) == expected  # one each, no more

        dispatcher = Dispatcher(open_uow, SystemClock(), HttpWebhookSender(), policy=FAST)
        try:
            deliver_until(dispatcher, lambda: len(hooks.requests) >= len(expected))
            dispatcher.drain()
            assert dispatcher.dispatch() == 0  # nothing left to send
        finally:
            dispatcher.close()
        received = sorted(headers["Iotbill-Event-Id"] for headers, _ in hooks.requests)
    engine.dispose()
    print(f"{where}: {len(expected)} invoices finalized, {len(received)} messages received")
    assert received == expected
