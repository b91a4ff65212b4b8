"""``iotbill demo --model razor-blade``: three printers over four months on SQLite, each
run-out ordered once and each order billed once, on the invoice that closes its month."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from iotbill.entrypoints.cli import app


def test_each_order_is_billed_once_on_the_invoice_after_it_was_placed(tmp_path: Path) -> None:
    database = tmp_path / "razor.db"
    result = CliRunner().invoke(
        app, ["demo", "--model", "razor-blade", "--database", str(database), "--json"]
    )
    assert result.exit_code == 0, result.stderr
    billed = [
        (
            invoice["number"],
            [
                line["description"].split(":")[0]
                for line in invoice["lines"]
                if line["kind"] == "one_off"
            ],
            invoice["total"],
        )
        for invoice in json.loads(result.stdout)
    ]
    # Harbor Law (two printers, tax 8.875 %): 9.00 + 2 x 24.90 = 58.80, with tax 64.02.
    # Lakeside Clinic (one printer, no tax): 9.00 + 24.90 = 33.90, or + 2 x 24.90 = 58.80.
    assert billed == [
        ("INV-2026-000001", [], "9.80"),
        ("INV-2026-000002", [], "9.00"),
        ("INV-2026-000003", ["Order harbor-law/order/1", "Order harbor-law/order/2"], "64.02"),
        ("INV-2026-000004", ["Order lakeside-clinic/order/1"], "33.90"),
        ("INV-2026-000005", ["Order harbor-law/order/3", "Order harbor-law/order/4"], "64.02"),
        (
            "INV-2026-000006",
            ["Order lakeside-clinic/order/2", "Order lakeside-clinic/order/3"],
            "58.80",
        ),
        ("INV-2026-000007", ["Order harbor-law/order/5", "Order harbor-law/order/6"], "64.02"),
        ("INV-2026-000008", ["Order lakeside-clinic/order/4"], "33.90"),
        ("INV-2026-000009", ["Order harbor-law/order/7", "Order harbor-law/order/8"], "64.02"),
        ("INV-2026-000010", ["Order lakeside-clinic/order/5"], "33.90"),
    ]
    listed = CliRunner().invoke(
        app, ["orders", "list", "--database", f"sqlite:///{database}", "--tenant", "demo", "--json"]
    )
    orders = json.loads(listed.stdout)
    # One order per cycle: every order of a printer was placed in a cycle of its own.
    cycles = [(order["device"], order["cycle_start"]) for order in orders]
    assert len(set(cycles)) == len(orders) == 13
