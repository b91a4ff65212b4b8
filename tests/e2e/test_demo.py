"""``iotbill demo``: a fresh database, three currencies, a month billed, re-runnable."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from tests.conftest import run_iotbill


def test_demo_bills_january_in_three_currencies(tmp_path: Path) -> None:
    database = tmp_path / "demo.db"
    result = run_iotbill("demo", "--database", str(database), "--json")
    assert result.exit_code == 0, result.stderr
    invoices = json.loads(result.stdout)
    assert database.exists()
    assert {invoice["currency"] for invoice in invoices} == {"USD", "EUR", "JPY"}
    assert all(invoice["status"] == "finalized" for invoice in invoices)
    numbers = sorted(invoice["number"] for invoice in invoices)
    assert numbers == [f"INV-2026-{n:06d}" for n in range(1, len(invoices) + 1)]
    for invoice in invoices:
        lines = sum(Decimal(line["amount"]) for line in invoice["lines"])
        assert Decimal(invoice["subtotal"]) == lines
        assert Decimal(invoice["total"]) == lines + Decimal(invoice["tax"]["amount"])
    # The JPY invoice has no minor unit anywhere.
    (kobe,) = [i for i in invoices if i["currency"] == "JPY" and len(i["lines"]) > 1]
    assert "." not in kobe["total"] and all("." not in line["amount"] for line in kobe["lines"])
    # Seeded telemetry: the same seed bills the same amounts every time.
    totals = sorted((invoice["customer"], invoice["total"]) for invoice in invoices)
    again = run_iotbill("demo", "--database", str(database), "--json")
    assert sorted((i["customer"], i["total"]) for i in json.loads(again.stdout)) == totals


def test_demo_replaces_its_database_and_says_where_it_is(tmp_path: Path) -> None:
    database = tmp_path / "demo.db"
    first = run_iotbill("demo", "--database", str(database))
    assert first.exit_code == 0, first.stderr
    assert "Replaced" not in first.stdout
    assert str(database) in first.stdout
    second = run_iotbill("demo", "--database", str(database))
    assert second.exit_code == 0, second.stderr
    assert f"Replaced the previous demo database at {database}" in second.stdout
    listed = run_iotbill(
        "invoices", "list", "--database", str(database), "--tenant", "demo", "--json"
    )
    assert listed.exit_code == 0, listed.stderr
    assert len(json.loads(listed.stdout)) == 5
