"""``iotbill reorders run`` and ``iotbill orders ...`` on SQLite: one order per run-out,
billed once on the next invoice, not billed when cancelled first.

The template examples/models/razor-blade.yaml: 9.00 a month; ink ordered 3 days before
its forecast run-out at 24.90. The printer reads 100 at noon on 1 January and 5 less each
day, so it runs out at noon on 21 January; it is refilled at noon on 22 January and runs
out again at noon on 11 February.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.e2e.test_billing_cli import Store

TEMPLATE = Path(__file__).parents[2] / "examples" / "models" / "razor-blade.yaml"


def _readings(folder: Path) -> str:
    path = folder / "ink.jsonl"
    noon = datetime(2026, 1, 1, 12, tzinfo=UTC)
    refill = datetime(2026, 1, 22, 12, tzinfo=UTC)
    lines = []
    for number in range(45):
        at = noon + timedelta(days=number)
        level = 100 - 5 * (at - (refill if at >= refill else noon)).days
        event = {
            "id": f"ink-{number}",
            "type": "printer.ink",
            "device": "printer-1",
            "timestamp": at.isoformat(),
            "properties": {"level": max(level, 0)},
        }
        lines.append(json.dumps(event))
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_the_job_orders_once_per_run_out_and_the_bill_run_bills_each_order_once(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path)
    store.ok("plans", "apply", str(TEMPLATE))
    store.ok("customers", "add", "acme", "--currency", "USD", "--timezone", "UTC")
    store.ok("devices", "add", "printer-1", "--customer", "acme", "--from", "2026-01-01")
    store.ok(
        "subscriptions", "create", "--customer", "acme", "--plan", "razor-blade",
        "--start", "2026-01-01",
    )  # fmt: skip
    events = _readings(tmp_path)
    store.ok("ingest", events)

    early = store.json("reorders", "run", "--as-of", "2026-01-18T00:00:00Z")
    # 20 at noon on 17 January, 5 a day: the run-out is 3.5 days away, beyond the lead time.
    assert early["placed"] == []
    assert early["checks"] == [
        {
            "customer": "acme",
            "device": "printer-1",
            "consumable": "ink",
            "decision": "run_out_later",
            "run_out": "2026-01-21T12:00:00+00:00",
        }
    ]
    due = store.json("reorders", "run", "--as-of", "2026-01-19T00:00:00Z")
    (order,) = due["placed"]
    assert (order["id"], order["status"], order["price"], order["charge"]) == (
        "acme/order/1",
        "placed",
        "24.90",
        "acme/order/1/charge",
    )
    store.ok("ingest", events)  # replayed: nothing new
    again = store.json("reorders", "run", "--as-of", "2026-01-19T00:00:00Z")
    later = store.json("reorders", "run", "--as-of", "2026-01-20T00:00:00Z")
    assert (again["placed"], later["placed"]) == ([], [])
    assert later["checks"][0]["decision"] == "order_in_progress"

    refused = store.refused(4, "orders", "deliver", "acme/order/1", "--at", "2026-01-20")
    assert refused == "error: order acme/order/1 is placed: it cannot be delivered\n"
    store.ok("orders", "ship", "acme/order/1", "--at", "2026-01-20")
    text = store.ok("orders", "deliver", "acme/order/1", "--at", "2026-01-22T09:00:00Z")
    assert text == (
        "acme/order/1: Ink cartridge for printer-1, 24.90 USD, delivered (placed"
        " 2026-01-19T00:00:00+00:00, shipped 2026-01-20T00:00:00+00:00, delivered"
        " 2026-01-22T09:00:00+00:00)\n"
    )
    assert "unknown order 'acme/order/9'" in store.refused(3, "orders", "show", "acme/order/9")
    # Delivered but not refilled yet: this run-out is ordered already.
    waiting = store.json("reorders", "run", "--as-of", "2026-01-22T10:00:00Z")
    assert waiting["checks"][0]["decision"] == "ordered_for_this_run_out"

    store.ok("bill-run", "--as-of", "2026-02-01T00:00:00Z")
    second = store.json("reorders", "run", "--as-of", "2026-02-09T00:00:00Z")
    assert [o["id"] for o in second["placed"]] == ["acme/order/2"]
    store.ok("orders", "cancel", "acme/order/2", "--at", "2026-02-10")
    store.ok("bill-run", "--as-of", "2026-03-01T00:00:00Z")

    invoices = store.json("invoices", "list")
    opening, february, march = sorted(invoices, key=lambda invoice: invoice["issued_at"])
    assert [(line["kind"], line["amount"]) for line in opening["lines"]] == [("fixed_fee", "9.00")]
    # Order 1, placed on 19 January: on the invoice issued on 1 February, once.
    assert [(line["kind"], line["description"], line["amount"]) for line in february["lines"]] == [
        (
            "fixed_fee",
            "Printer service (razor-blade v1, 2026-02-01 to 2026-03-01, in advance)",
            "9.00",
        ),
        ("one_off", "Order acme/order/1: Ink cartridge for printer-1", "24.90"),
    ]
    assert february["total"] == "33.90"
    # Order 2 was cancelled before an invoice billed it: not billed.
    assert [line["kind"] for line in march["lines"]] == ["fixed_fee"]
    listed = store.json("orders", "list", "--customer", "acme")
    assert [(o["id"], o["status"], o["credit"]) for o in listed] == [
        ("acme/order/1", "delivered", None),
        ("acme/order/2", "cancelled", None),
    ]
    assert [c["id"] for c in store.json("charges", "list")] == ["acme/order/1/charge"]
