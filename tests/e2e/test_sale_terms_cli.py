"""A pump sold in instalments, from the command line on SQLite: the template plan applied,
three periods billed, a cancellation that bills the last part, and bad sale terms refused."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import ROOT
from tests.e2e.test_billing_cli import Store

TEMPLATE = ROOT / "examples" / "models" / "retail-instalments.yaml"


def amounts(invoice: dict[str, object]) -> list[tuple[str, str]]:
    lines = invoice["lines"]
    assert isinstance(lines, list)
    return [(line["charge"], line["amount"]) for line in lines]


def by_number(invoice: dict[str, str]) -> str:
    return invoice["number"]


def test_instalments_billed_period_by_period_and_the_rest_at_cancellation(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.ok("plans", "apply", str(TEMPLATE))
    for customer in ("acme", "bolt"):
        store.ok("customers", "add", customer, "--currency", "USD", "--timezone", "UTC")
        store.ok(
            "subscriptions", "create", "--customer", customer, "--plan", "retail-instalments",
            "--start", "2026-01-01", "--id", f"sale-{customer}",
        )  # fmt: skip
    store.ok("bill-run", "--as-of", "2026-01-01T00:00:00Z")
    store.ok("bill-run", "--as-of", "2026-02-01T00:00:00Z")
    store.ok(
        "subscriptions", "cancel", "sale-bolt", "--timing", "immediate",
        "--at", "2026-02-15T00:00:00Z",
    )  # fmt: skip
    store.ok("bill-run", "--as-of", "2026-03-01T00:00:00Z")
    store.ok("bill-run", "--as-of", "2026-04-01T00:00:00Z")
    acme = sorted(store.json("invoices", "list", "--customer", "acme"), key=by_number)
    assert [(i["kind"], amounts(i), i["total"]) for i in acme] == [
        ("opening", [("monitoring", "15.00"), ("pump", "333.34"), ("installation", "150.00")],
         "498.34"),
        ("close", [("sms", "0.00"), ("monitoring", "15.00"), ("pump", "333.33")], "348.33"),
        ("close", [("sms", "0.00"), ("monitoring", "15.00"), ("pump", "333.33")], "348.33"),
        ("close", [("sms", "0.00"), ("monitoring", "15.00")], "15.00"),
    ]  # fmt: skip
    bolt = sorted(store.json("invoices", "list", "--customer", "bolt"), key=by_number)
    assert [(i["kind"], amounts(i), i["total"]) for i in bolt] == [
        ("opening", [("monitoring", "15.00"), ("pump", "333.34"), ("installation", "150.00")],
         "498.34"),
        ("close", [("sms", "0.00"), ("monitoring", "15.00"), ("pump", "333.33")], "348.33"),
        # 15.00 x 14 / 28 days unused: -7.50; the third part, still owed, billed now.
        ("cancellation", [("monitoring", "-7.50"), ("pump", "333.33")], "325.83"),
        ("close", [("sms", "0.00")], "0.00"),
    ]  # fmt: skip
    cancellation = bolt[2]
    assert cancellation["lines"][1]["description"] == "Pump P-200 (instalment 3 of 3)"
    assert cancellation["lines"][1]["detail"] == [
        {
            "kind": "instalment",
            "amount": "333.33",
            "note": "1000.00 in 3 parts: part 3, billed as service ended",
        }
    ]


def test_bad_sale_terms_are_refused_at_plan_load_naming_each_field(tmp_path: Path) -> None:
    store = Store(tmp_path)
    bad = TEMPLATE.read_text().replace("instalments: 3", "instalments: 0")
    bad = bad.replace('amount: "150.00"', 'amount: "0"')
    refused = store.refused(2, "plans", "apply", store.plan_file(bad, "sale.yaml"))
    assert "one_off_charges[0].instalments: must be at least 1, not 0" in refused
    assert "one_off_charges[1].amount: must be greater than 0, not 0" in refused
    assert store.json("plans", "list") == []


def test_the_retail_instalments_demo_bills_each_pump_once_in_full(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from iotbill.entrypoints.cli import app

    database = tmp_path / "demo.db"
    result = CliRunner().invoke(
        app, ["demo", "--model", "retail-instalments", "--database", str(database), "--json"]
    )
    assert result.exit_code == 0, result.stderr
    parts: dict[str, list[tuple[str, str]]] = {}
    for invoice in json.loads(result.stdout):
        for line in invoice["lines"]:
            if line["charge"] == "pump":
                parts.setdefault(invoice["customer"], []).append((invoice["kind"], line["amount"]))
    assert parts == {
        "prairie-irrigation": [("opening", "333.34"), ("close", "333.33"), ("close", "333.33")],
        # cancelled on 20 February: the third part on its cancellation invoice
        "dune-greenhouses": [
            ("opening", "333.34"),
            ("close", "333.33"),
            ("cancellation", "333.33"),
        ],
    }
