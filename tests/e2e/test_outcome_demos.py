"""``iotbill demo --model outcome-commitment`` and ``--model pay-per-mile`` on SQLite."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from iotbill.entrypoints.cli import app


def invoices(model: str, database: Path) -> list[dict[str, Any]]:
    result = CliRunner().invoke(
        app, ["demo", "--model", model, "--database", str(database), "--json"]
    )
    assert result.exit_code == 0, result.stderr
    found: list[dict[str, Any]] = json.loads(result.stdout)
    for invoice in found:
        assert Decimal(invoice["subtotal"]) == sum(Decimal(li["amount"]) for li in invoice["lines"])
    return found


def test_the_commitment_demo_trues_up_winter_and_credits_above_the_maximum(
    tmp_path: Path,
) -> None:
    found = invoices("outcome-commitment", tmp_path / "demo.db")
    closes = [invoice for invoice in found if invoice["kind"] == "close"]
    assert len(closes) == 8  # two farms, January (from the 16th) to April
    for invoice in closes:
        water = sum(Decimal(li["amount"]) for li in invoice["lines"] if li["kind"] == "usage")
        bound = [Decimal(li["amount"]) for li in invoice["lines"] if li["kind"] == "commitment"]
        month = invoice["period"]["start"][:7]
        committed = Decimal("100.00") if month != "2026-01" else Decimal("51.61")  # 16/31
        most = Decimal("400.00") if month != "2026-01" else Decimal("206.45")
        # Each month bills exactly max(committed, min(water, most)), whatever the telemetry.
        assert water + sum(bound) == max(committed, min(water, most)), invoice["number"]
    kinds = {li["charge"] for invoice in closes for li in invoice["lines"]}
    assert {"minimum_commitment", "maximum"} <= kinds
    again = invoices("outcome-commitment", tmp_path / "demo.db")
    assert [i["total"] for i in again] == [i["total"] for i in found]  # seeded


def test_the_pay_per_mile_demo_caps_road_trips_and_prices_braking(tmp_path: Path) -> None:
    found = invoices("pay-per-mile", tmp_path / "demo.db")
    mileage = [li for invoice in found for li in invoice["lines"] if li["charge"] == "mileage"]
    assert len(mileage) == 6  # two drivers, March to May
    for line in mileage:
        details = {detail["kind"]: detail for detail in line["detail"]}
        factor = Decimal(details["risk_factor"]["factor"])
        assert factor in {Decimal("1.00"), Decimal("1.15"), Decimal("1.40")}
        exact = Decimal(line["quantity"]) * Decimal("0.032") * factor
        assert Decimal(line["amount"]) == exact.quantize(Decimal("0.01"))
    assert any("window_cap" in {d["kind"] for d in line["detail"]} for line in mileage)
