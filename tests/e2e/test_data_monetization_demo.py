"""``iotbill demo --model data-monetization``: five buildings and a utility over three months
on SQLite; each month's export billed once per record on the utility's next invoice, the
owners credited their share on theirs, suppressed cells never billed nor shared."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from iotbill.entrypoints.cli import app


def test_exports_are_billed_per_record_and_shared_by_the_events_contributed(
    tmp_path: Path,
) -> None:
    database = tmp_path / "data.db"
    result = CliRunner().invoke(
        app, ["demo", "--model", "data-monetization", "--database", str(database), "--json"]
    )
    assert result.exit_code == 0, result.stderr
    billed = [
        (
            invoice["customer"],
            [
                (line["description"], line["amount"])
                for line in invoice["lines"]
                if line["kind"] != "fixed_fee"
            ],
            invoice["total"],
        )
        for invoice in json.loads(result.stdout)[12:]
    ]
    # January: only the north's hours have 3 consenting owners (the Bauhaus offices with
    # two monitors, the Nordhafen apartments, the Elbe bakery): 744 cells x 0.02 = 14.88.
    # 30 % is a pool of 446 cents, by events contributed (1,488, 744 and 744 of 2,976):
    # 223, 111 and 111 cents; the operator keeps 1,488 - 445 = 1,043 cents. The south
    # (one consenting school) is suppressed, so the school gets nothing.
    # February: the bakery withdraws on the 15th, so only 14 days x 24 = 336 cells, 6.72;
    # a pool of 201 cents: 100, 50 and 50. Every monitor is 12.00 a month, taxed 19 %.
    first, second = (
        "30 % share of data export stadtnetz/export/1",
        ("30 % share of data export stadtnetz/export/2"),
    )
    assert billed == [
        ("bauhaus-offices", [(first, "-2.23")], "11.63"),  # (12.00 - 2.23) x 1.19
        ("nordhafen-apartments", [(first, "-1.11")], "12.96"),
        ("elbe-bakery", [(first, "-1.11")], "12.96"),
        ("suedpark-school", [], "14.28"),
        ("isar-flats", [], "14.28"),
        ("stadtnetz", [("Data export stadtnetz/export/1: Building energy by region, hourly",
                        "14.88")], "315.21"),  # (250.00 + 14.88) x 1.19
        ("bauhaus-offices", [(second, "-1.00")], "13.09"),
        ("nordhafen-apartments", [(second, "-0.50")], "13.69"),
        ("elbe-bakery", [(second, "-0.50")], "13.69"),
        ("suedpark-school", [], "14.28"),
        ("isar-flats", [], "14.28"),
        ("stadtnetz", [("Data export stadtnetz/export/2: Building energy by region, hourly",
                        "6.72")], "305.50"),
    ]  # fmt: skip
    exports = CliRunner().invoke(
        app, ["data", "exports", "--database", str(database), "--tenant", "demo", "--json"]
    )
    assert [(e["id"], e["records"], e["suppressed"], e["revenue"])
            for e in json.loads(exports.stdout)] == [
        ("stadtnetz/export/1", 744, 744, "14.88"),
        ("stadtnetz/export/2", 336, 1008, "6.72"),  # the south 672 hours, the north 336
    ]  # fmt: skip
