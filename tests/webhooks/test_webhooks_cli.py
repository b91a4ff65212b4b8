"""The webhook commands, end to end: add an endpoint, bill, deliver, list, send again."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_iotbill
from tests.e2e.test_bill_run_killed import SUBSCRIPTIONS, set_up
from tests.webhooks.test_webhook_delivery import receiver, verifier


def test_add_bill_deliver_list_and_resend(tmp_path: Path) -> None:
    database = str(tmp_path / "billing.db")
    set_up(tmp_path / "billing.db")
    store = ("--database", database)
    verify = verifier()
    refused = run_iotbill(
        "webhooks", "add", "https://x.example", "--events", "invoice.lost", *store
    )
    assert refused.exit_code == 2
    assert "events: unknown event type 'invoice.lost'" in refused.stderr
    with receiver([200]) as hooks:
        events = "invoice.finalized,invoice.paid"
        added = run_iotbill("webhooks", "add", hooks.url, "--events", events, *store, "--json")
        assert added.exit_code == 0, added.stderr
        endpoint = json.loads(added.stdout)
        assert endpoint["events"] == ["invoice.finalized", "invoice.paid"]
        listed = run_iotbill("webhooks", "list", *store, "--json")
        assert "secret" not in json.loads(listed.stdout)[0]

        billed = run_iotbill("bill-run", "--as-of", "2026-02-01T12:00:00Z", *store)
        assert billed.exit_code == 0, billed.stderr
        delivered = run_iotbill("webhooks", "deliver", "--once", *store)
        assert delivered.exit_code == 0, delivered.stderr
        assert "24 attempts: 24 delivered, 0 failed for good" in delivered.stderr
        assert len(hooks.requests) == 2 * SUBSCRIPTIONS
        assert all(verify(endpoint["secret"], h, body) for h, body in hooks.requests)

        shown = json.loads(run_iotbill("webhooks", "deliveries", *store, "--json").stdout)
        assert {(d["type"], d["status"], len(d["attempts"])) for d in shown} == {
            ("invoice.finalized", "delivered", 1)
        }
        first = shown[0]
        assert first["attempts"][0]["status_code"] == 200
        again = run_iotbill("webhooks", "resend", first["id"], *store)
        assert again.exit_code == 0, again.stderr
        pending = run_iotbill("webhooks", "resend", first["id"], *store)
        assert pending.exit_code == 2 and "still pending" in pending.stderr
        run_iotbill("webhooks", "deliver", "--once", *store)
        resent = [h for h, _ in hooks.requests if h["Iotbill-Event-Id"] == first["event_id"]]
        assert [h["Iotbill-Delivery-Attempt"] for h in resent] == ["1", "2"]  # the same event
    unknown = run_iotbill("webhooks", "resend", "dlv_nope", *store)
    assert unknown.exit_code == 3
    table = run_iotbill("webhooks", "deliveries", "--status", "delivered", *store)
    assert table.exit_code == 0, table.stderr
    assert table.stdout.count("delivered") == 2 * SUBSCRIPTIONS, table.stdout
