"""``iotbill work-orders ...`` on SQLite: a visit opened, moved on, resolved and billed once."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.test_billing_cli import Store

TEMPLATE = Path(__file__).parents[2] / "examples" / "models" / "service.yaml"


def test_a_visit_is_billed_once_on_the_next_invoice(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.ok("plans", "apply", str(TEMPLATE))
    store.ok("customers", "add", "acme", "--currency", "USD", "--timezone", "UTC")
    store.ok("devices", "add", "pump-1", "--customer", "acme", "--from", "2026-01-01")
    store.ok("devices", "add", "pump-2", "--customer", "acme", "--from", "2026-01-01")
    store.ok(
        "subscriptions", "create", "--customer", "acme", "--plan", "service",
        "--device", "pump-1", "--start", "2026-01-01",
    )  # fmt: skip
    opened = store.json(
        "work-orders", "open", "--device", "pump-1", "--summary", "Vibration",
        "--at", "2026-01-10T08:00:00Z",
    )  # fmt: skip
    assert (opened["id"], opened["status"]) == ("acme/work-order/1", "open")
    assert "not resolved yet: acme/work-order/1" in store.refused(
        4, "work-orders", "open", "--device", "pump-1", "--summary", "Again"
    )
    assert "bills work orders for 'pump-2'" in store.refused(
        4, "work-orders", "open", "--device", "pump-2", "--summary", "Noise"
    )
    assert store.refused(2, "work-orders", "open", "--device", "pump-1", "--summary", " ") == (
        "error: --summary: must say what the visit is about\n"
    )
    store.ok("work-orders", "dispatch", "acme/work-order/1", "--at", "2026-01-10T08:05:00Z")
    store.ok("work-orders", "arrive", "acme/work-order/1", "--at", "2026-01-10T10:00:00Z")
    refused = store.refused(
        2, "work-orders", "resolve", "acme/work-order/1", "--part", "gear=1", "--part", "seal",
    )  # fmt: skip
    assert refused == "error: --part: must be CODE=COUNT, like bearing=2, not 'seal'\n"
    assert "parts.gear: unknown part" in store.refused(
        2, "work-orders", "resolve", "acme/work-order/1", "--part", "gear=1",
        "--at", "2026-01-10T11:20:00Z",
    )  # fmt: skip
    text = store.ok(
        "work-orders", "resolve", "acme/work-order/1", "--part", "bearing=2",
        "--at", "2026-01-10T11:20:00Z",
    )  # fmt: skip
    assert text == (
        "acme/work-order/1: resolved; billed on the next invoice: Labour, acme/work-order/1:"
        " 1.5 h in started 15-minute blocks 135.00; Bearing 6204, acme/work-order/1 37.00\n"
    )
    store.ok("bill-run", "--as-of", "2026-02-01T00:00:00Z")
    store.ok("bill-run", "--as-of", "2026-02-01T00:00:00Z")
    invoices = store.json("invoices", "list")
    opening, february = sorted(invoices, key=lambda invoice: invoice["issued_at"])
    assert [line["amount"] for line in opening["lines"]] == ["49.00"]
    assert [(line["kind"], line["amount"]) for line in february["lines"]] == [
        ("fixed_fee", "49.00"),
        ("one_off", "135.00"),
        ("one_off", "37.00"),
    ]
    shown = store.json("work-orders", "show", "acme/work-order/1")
    assert (shown["status"], shown["on_site_at"], shown["parts"]) == (
        "resolved",
        "2026-01-10T10:00:00+00:00",
        {"bearing": 2},
    )


def test_the_alert_job_opens_one_work_order_per_incident(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.ok("plans", "apply", str(TEMPLATE))
    store.ok("customers", "add", "acme", "--currency", "USD", "--timezone", "UTC")
    store.ok("devices", "add", "pump-1", "--customer", "acme", "--from", "2026-01-01")
    store.ok(
        "subscriptions", "create", "--customer", "acme", "--plan", "service",
        "--start", "2026-01-01",
    )  # fmt: skip
    values = ["6.5", "7.2", "8.1", "7.9", "6.8"]  # 10:05 to 10:15 above 7: an incident
    events = tmp_path / "vibration.jsonl"
    events.write_text(
        "".join(
            json.dumps(
                {
                    "id": f"v{index}",
                    "type": "pump.vibration",
                    "device": "pump-1",
                    "timestamp": f"2026-01-05T10:{5 * index:02d}:00Z",
                    "properties": {"mm_s": value},
                }
            )
            + "\n"
            for index, value in enumerate(values)
        )
    )
    store.ok("ingest", str(events))
    first = store.json("alerts", "run", "--as-of", "2026-01-05T11:00:00Z")
    assert first["checks"] == [
        {
            "device": "pump-1",
            "rule": "vibration",
            "incident_start": "2026-01-05T10:05:00+00:00",
            "work_order": "acme/work-order/1",
        }
    ]
    store.ok("ingest", str(events))  # replayed
    again = store.json("alerts", "run", "--as-of", "2026-01-05T12:00:00Z")
    assert (again["opened"], again["checks"][0]["work_order"]) == ([], "acme/work-order/1")
    (listed,) = store.json("work-orders", "list")
    assert (listed["alert_rule"], listed["incident_start"], listed["status"]) == (
        "vibration",
        "2026-01-05T10:05:00+00:00",
        "open",
    )
