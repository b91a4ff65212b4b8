"""``iotbill demo --model freemium`` on SQLite: a free tier that never bills, then an upgrade."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from iotbill.domain.money import currency, round_money
from iotbill.entrypoints.cli import app


def invoices(database: Path) -> list[dict[str, Any]]:
    result = CliRunner().invoke(
        app, ["demo", "--model", "freemium", "--database", str(database), "--json"]
    )
    assert result.exit_code == 0, result.stderr
    found: list[dict[str, Any]] = json.loads(result.stdout)
    return found


def lines(invoice: dict[str, Any]) -> list[tuple[str, Decimal, Decimal]]:
    return [
        (li["charge"], Decimal(li["quantity"]), Decimal(li["amount"])) for li in invoice["lines"]
    ]


def test_the_free_tier_bills_nothing_and_the_upgrade_bills_its_fee_and_overage(
    tmp_path: Path,
) -> None:
    found = invoices(tmp_path / "demo.db")
    cafe = [i for i in found if i["customer"] == "lakeside-cafe"]
    brewery = [i for i in found if i["customer"] == "harbor-brewery"]
    # The cafe stays free: each month's readings, under the allowance, at 0.00.
    assert [i["period"]["start"][:7] for i in cafe] == ["2026-01", "2026-02", "2026-03"]
    for invoice in cafe:
        [(charge, quantity, amount)] = lines(invoice)
        assert (charge, amount, invoice["total"]) == ("readings", 0, "0.00")
        assert 0 < quantity < 1000
    january, upgrade, february, march = brewery
    # January: far past the allowance, blocked, never billed.
    [(charge, quantity, amount)] = lines(january)
    assert (charge, amount, january["total"]) == ("readings", 0, "0.00") and quantity > 1000
    # 10 February, midnight in Chicago: 30.00 x 19 of February's 28 days = 20.357... = 20.36.
    assert (upgrade["kind"], lines(upgrade), upgrade["total"]) == (
        "change",
        [("pro", Decimal(1), Decimal("20.36"))],
        "20.36",
    )
    # February: the free phase's readings and the pro phase's (under 10,000) at 0.00.
    free_part, pro_part, fee = lines(february)
    assert (free_part[2], pro_part[2], fee) == (0, 0, ("pro", Decimal(1), Decimal("30.00")))
    assert pro_part[1] < 10_000
    # March: each reading above 10,000 at 0.002, then April's fee.
    (charge, quantity, amount), fee = lines(march)
    overage = round_money((quantity - 10_000) * Decimal("0.002"), currency("USD"))
    assert charge == "readings" and quantity > 10_000 and amount == overage
    assert Decimal(march["total"]) == amount + Decimal("30.00")
    again = invoices(tmp_path / "demo.db")
    assert [i["total"] for i in again] == [i["total"] for i in found]  # seeded
