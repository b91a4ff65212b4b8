"""Pausing and resuming from the command line, on SQLite, billed to the cent."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_billing_cli import PLAN, Store


def test_a_pause_and_a_resumption_are_billed_around(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.ok("plans", "apply", store.plan_file(PLAN))
    store.ok("customers", "add", "acme", "--currency", "USD", "--timezone", "UTC")
    store.ok("devices", "add", "pump-1", "--customer", "acme", "--from", "2026-01-01")
    store.ok("subscriptions", "create", "--customer", "acme", "--plan", "water",
             "--start", "2026-01-01", "--id", "sub-1")  # fmt: skip
    assert store.refused(2, "subscriptions", "resume", "sub-1", "--at", "2026-01-05") == (
        "error: subscription: sub-1 is not paused\n"
    )
    paused = store.json("subscriptions", "pause", "sub-1", "--at", "2026-01-11")
    assert paused["pauses"] == [{"start": "2026-01-11T00:00:00+00:00", "end": None}]
    assert "paused already" in store.refused(4, "subscriptions", "pause", "sub-1",
                                             "--at", "2026-01-12")  # fmt: skip
    events = "".join(
        f'{{"id": "e{month}-{day}", "type": "pump.flow", "device": "pump-1",'
        f' "timestamp": "2026-{month:02d}-{day:02d}T00:00:00Z", "properties": {{"m3": {m3}}}}}\n'
        for month, day, m3 in ((1, 5, 20), (1, 20, 30), (2, 10, 10), (2, 20, 8))
    )
    store.ok("ingest", store.plan_file(events, "events.jsonl"))
    store.ok("bill-run", "--as-of", "2026-02-01T00:00:00Z")
    resumed = store.json("subscriptions", "resume", "sub-1", "--at", "2026-02-15")
    assert resumed["pauses"][0]["end"] == "2026-02-15T00:00:00+00:00"
    store.ok("bill-run", "--as-of", "2026-03-01T00:00:00Z")
    assert "paused    from 2026-01-11 to 2026-02-15" in store.ok("subscriptions", "show", "sub-1")
    listed = sorted(store.json("invoices", "list"), key=lambda invoice: invoice["issued_at"])
    shown = [store.json("invoices", "show", invoice["id"]) for invoice in listed]
    assert [
        (invoice["kind"], [(line["charge"], line["amount"]) for line in invoice["lines"]])
        for invoice in shown
    ] == [
        ("opening", [("base", "31.00")]),
        ("pause", [("base", "-21.00")]),  # 21 of 31 days paused
        ("close", [("water", "10.00"), ("carried_credit", "-21.00")]),  # 20 m3 before it
        ("resume", [("base", "15.50"), ("carried_credit", "-11.00")]),  # 14 of 28 days
        ("close", [("water", "4.00"), ("base", "31.00")]),  # 8 m3 after it; March
    ]
    assert [invoice["amount_due"] for invoice in shown] == [
        "31.00", "0.00", "0.00", "4.50", "35.00",
    ]  # fmt: skip
