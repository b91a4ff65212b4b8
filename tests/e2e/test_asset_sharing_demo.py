"""``iotbill demo --model asset-sharing``: three batteries over three months on SQLite; the
grid operator invoiced for what it bought, each owner credited 30 % before tax, and a sale
of January reported in February settled late on the February invoices."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from typer.testing import CliRunner

from iotbill.entrypoints.cli import app


def test_the_buyer_is_invoiced_the_owners_credited_and_the_late_sale_settled_next_month(
    tmp_path: Path,
) -> None:
    database = tmp_path / "sharing.db"
    result = CliRunner().invoke(
        app, ["demo", "--model", "asset-sharing", "--database", str(database), "--json"]
    )
    assert result.exit_code == 0, result.stderr
    invoices = json.loads(result.stdout)
    assert [(i["number"], i["customer"]) for i in invoices] == [
        (f"INV-2026-{n:06d}", customer)
        for n, customer in enumerate(["weber-home", "kaya-bakery", "netz-ost"] * 4, 1)
    ]
    late = [
        (invoice["number"], line["quantity"], line["unit_price"], line["amount"])
        for invoice in invoices
        for line in invoice["lines"]
        if line["description"].startswith("Late sale")
    ]
    # 6.400 kWh at 0.3125 = 2.00 to the grid; 30 % of 2.00 = 0.60 to Familie Weber.
    assert late == [
        ("INV-2026-000007", "1", "-0.60", "-0.60"),
        ("INV-2026-000009", "6.400", "0.3125", "2.00"),
    ]
    # Each credit line is 30 % of what its battery sold in the period, rounded half up; the
    # grid operator's lines are what it bought of that (the rest went to the spot market).
    url = f"sqlite:///{database}"
    runner = CliRunner()
    bought: defaultdict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for invoice in invoices:
        if invoice["customer"] == "netz-ost":
            for line in invoice["lines"]:
                if line["kind"] == "one_off" and not line["description"].startswith("Late"):
                    battery = line["description"].split(" from ")[1].split(" at ")[0]
                    month = line["description"].rsplit(", ", 1)[1][:7]  # its local period
                    bought[(battery, month)] += Decimal(line["amount"])
    for owner in ("weber-home", "kaya-bakery"):
        for month in ("2026-01", "2026-02", "2026-03"):
            shown = runner.invoke(
                app,
                ["payouts", "statement", "--customer", owner, "--period", month,
                 "--database", url, "--tenant", "demo", "--json"],
            )  # fmt: skip
            assert shown.exit_code == 0, shown.stderr
            statement = json.loads(shown.stdout)
            for asset in statement["assets"]:
                revenue = Decimal(asset["revenue"])
                on_time = [s for s in asset["sold"] if not s["late"]]
                assert revenue == sum(Decimal(s["amount"]) for s in asset["sold"])
                to_grid = sum(Decimal(s["amount"]) for s in on_time if s["buyer"] == "grid")
                assert to_grid == bought[(asset["device"], month)]
                expected = sum((Decimal(s["amount"]) for s in on_time), Decimal(0)) * Decimal("0.3")
                credits = [
                    line["amount"]
                    for invoice in invoices
                    for line in invoice["lines"]
                    if line["kind"] == "credit"
                    and f"sold from {asset['device']}, {month}" in line["description"]
                    and not line["description"].startswith("Late")
                ]
                assert credits == [f"-{expected.quantize(Decimal('0.01'), ROUND_HALF_UP)}"]
                assert Decimal(asset["credit"]) + Decimal(asset["operator"]) == revenue
