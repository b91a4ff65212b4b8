"""``iotbill charges add|list`` on SQLite: recorded, refused whole, billed once by the bill run."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_billing_cli import PLAN, Store


def test_a_charge_recorded_from_the_command_line_is_billed_once_on_the_next_invoice(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path)
    store.ok("plans", "apply", store.plan_file(PLAN))
    store.ok("customers", "add", "acme", "--currency", "USD", "--timezone", "Europe/Berlin")
    store.ok(
        "subscriptions", "create", "--customer", "acme", "--plan", "water",
        "--start", "2026-01-01",
    )  # fmt: skip
    recorded = store.json(
        "charges", "add", "--customer", "acme", "--description", "Spare impeller",
        "--amount", "12.345", "--quantity", "3", "--at", "2026-01-15",
    )  # fmt: skip
    assert recorded == {
        "id": "acme/one-off/1",
        "kind": "one_off",
        "customer": "acme",
        "description": "Spare impeller",
        "quantity": "3",
        "unit_price": "12.345",
        "amount": "37.04",  # 37.035 rounded once, half up
        "currency": "USD",
        "recorded_at": "2026-01-14T23:00:00+00:00",  # Berlin's midnight
        "invoice": None,
        "invoice_number": None,
    }
    text = store.ok(
        "charges", "add", "--customer", "acme", "--description", "Setup",
        "--amount", "50", "--at", "2026-02-03T10:00:00Z",
    )  # fmt: skip
    assert text == ("recorded acme/one-off/2: 1 x 50 = 50.00 USD, billed on acme's next invoice\n")
    refused = store.refused(
        2, "charges", "add", "--customer", "acme", "--description", "",
        "--amount", "-5", "--quantity", "two",
    )  # fmt: skip
    assert refused == (
        "error: --description: must say what is charged\n"
        "--amount: must be positive, not -5\n"
        "--quantity: 'two' is not a plain decimal number (like -12.50)\n"
    )
    assert "unknown customer 'bolt'" in store.refused(
        3, "charges", "add", "--customer", "bolt", "--description", "x", "--amount", "1"
    )
    assert len(store.json("charges", "list")) == 2  # nothing of the refused ones

    store.ok("bill-run", "--as-of", "2026-02-01T00:00:00Z")
    store.ok("bill-run", "--as-of", "2026-02-01T00:00:00Z")
    close, opening = store.json("invoices", "list")
    assert [line["kind"] for line in opening["lines"]] == ["fixed_fee"]
    assert [(line["kind"], line["description"], line["amount"]) for line in close["lines"]] == [
        ("usage", "Water", "0.00"),
        ("fixed_fee", "Monitoring (water v1, 2026-02-01 to 2026-03-01, in advance)", "31.00"),
        ("one_off", "Spare impeller", "37.04"),
    ]
    assert close["total"] == "68.04"
    listed = store.json("charges", "list", "--customer", "acme")
    assert [(c["id"], c["invoice"], c["invoice_number"]) for c in listed] == [
        ("acme/one-off/1", close["id"], close["number"]),
        ("acme/one-off/2", None, None),  # recorded after the close was issued: on March's
    ]
    table = store.ok("charges", "list")
    assert "not billed yet" in table and close["number"] in table
