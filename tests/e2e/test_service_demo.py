"""``iotbill demo --model service``: three pumps over three months on SQLite; the alert job
opens work orders from seeded vibration, each visit's labour and parts are billed once on
the invoice that closes its month, and the one late visit credits 25 % of its month's fee."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from iotbill.entrypoints.cli import app


def test_alerts_open_work_orders_billed_once_and_the_late_visit_is_credited(
    tmp_path: Path,
) -> None:
    database = tmp_path / "service.db"
    result = CliRunner().invoke(
        app, ["demo", "--model", "service", "--database", str(database), "--json"]
    )
    assert result.exit_code == 0, result.stderr
    invoices = json.loads(result.stdout)
    billed = [
        (
            invoice["number"],
            invoice["customer"],
            [(line["charge"], line["amount"]) for line in invoice["lines"]],
            invoice["total"],
        )
        for invoice in invoices
    ]
    riverside, hillcrest = "riverside-water/work-order/", "hillcrest-farms/work-order/"
    # Riverside Water (two pumps, tax 8.25 %), Hillcrest Farms (one pump, no tax); 49.00 a
    # pump's subscription a month in advance. Labour at 90.00 an hour in started quarters.
    assert billed == [
        ("INV-2026-000001", "riverside-water", [("monitoring", "49.00")], "53.04"),
        ("INV-2026-000002", "hillcrest-farms", [("monitoring", "49.00")], "49.00"),
        (
            "INV-2026-000003",
            "riverside-water",
            [
                ("monitoring", "49.00"),
                (f"{riverside}1/labour", "67.50"),
                (f"{riverside}1/part/bearing", "18.50"),
            ],
            "146.14",  # 135.00 + 11.1375 tax, rounded once
        ),
        (
            "INV-2026-000004",
            "hillcrest-farms",
            [
                ("monitoring", "49.00"),
                (f"{hillcrest}1/labour", "112.50"),
                (f"{hillcrest}1/part/seal", "7.25"),
                (f"{hillcrest}2/labour", "135.00"),
                # Work order 2 was reached after 9 h 20 min: 25 % of January's 49.00
                # (January from midnight in Denver, 07:00 UTC).
                ("sla/2026-01-01T07:00:00+00:00", "-12.25"),
            ],
            "291.50",
        ),
        (
            "INV-2026-000005",
            "riverside-water",
            [
                ("monitoring", "49.00"),
                (f"{riverside}2/labour", "112.50"),
                (f"{riverside}2/part/seal", "7.25"),
                (f"{riverside}3/labour", "67.50"),
                (f"{riverside}3/part/bearing", "18.50"),
            ],
            "275.77",
        ),
        (
            "INV-2026-000006",
            "hillcrest-farms",
            [("monitoring", "49.00"), (f"{hillcrest}3/labour", "135.00")],
            "184.00",
        ),
        (
            "INV-2026-000007",
            "riverside-water",
            [
                ("monitoring", "49.00"),
                (f"{riverside}4/labour", "112.50"),
                (f"{riverside}4/part/seal", "7.25"),
                (f"{riverside}5/labour", "135.00"),
            ],
            "328.81",
        ),
        (
            "INV-2026-000008",
            "hillcrest-farms",
            [
                ("monitoring", "49.00"),
                (f"{hillcrest}4/labour", "67.50"),
                (f"{hillcrest}4/part/bearing", "18.50"),
            ],
            "135.00",
        ),
    ]
    for invoice in invoices:
        assert Decimal(invoice["subtotal"]) == sum(Decimal(li["amount"]) for li in invoice["lines"])
    listed = CliRunner().invoke(
        app,
        [
            "work-orders",
            "list",
            "--database",
            f"sqlite:///{database}",
            "--tenant",
            "demo",
            "--json",
        ],
    )
    assert listed.exit_code == 0, listed.stderr
    orders = json.loads(listed.stdout)
    # Every work order was opened by the alert rule, reached and resolved; one was late.
    assert len(orders) == 9
    assert {(order["alert_rule"], order["status"]) for order in orders} == {
        ("vibration", "resolved")
    }
    late = [order for order in orders if order["sla_credit"] is not None]
    assert [(order["id"], order["sla_credit"]["percent"]) for order in late] == [
        ("hillcrest-farms/work-order/2", "25")
    ]
    shown = CliRunner().invoke(
        app,
        [
            "work-orders",
            "show",
            "hillcrest-farms/work-order/2",
            "--database",
            f"sqlite:///{database}",
            "--tenant",
            "demo",
        ],
    )
    assert shown.exit_code == 0, shown.stderr
    assert shown.stdout.rstrip().endswith(
        "SLA credit 25 % on sub-000002/close/2026-01-01T07:00:00+00:00"
    )
