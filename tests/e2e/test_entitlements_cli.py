"""The freemium story through the command line, on SQLite: checks, alerts and invoices.

The same story as ``tests/stories/test_freemium_stories.py``, told with the
commands a user runs: the template plans applied, readings ingested from
files, ``entitlements check`` before and after an immediate upgrade on the
10th, ``entitlements alerts``, and the bill run's invoices to the cent.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.conftest import ROOT
from tests.e2e.test_billing_cli import Store

TEMPLATES = ROOT / "examples" / "models"


def readings_file(folder: Path, name: str, first: datetime, every: timedelta, count: int) -> str:
    path = folder / f"{name}.jsonl"
    path.write_text(
        "".join(
            json.dumps(
                {
                    "id": f"{name}-{n}",
                    "type": "reading",
                    "device": "m1",
                    "timestamp": (first + n * every).isoformat(),
                }
            )
            + "\n"
            for n in range(count)
        )
    )
    return str(path)


def check(store: Store, at: str, feature: str = "readings") -> dict[str, object]:
    found: dict[str, object] = store.json(
        "entitlements", "check", "--customer", "acme", "--feature", feature, "--as-of", at
    )
    return found


def test_freemium_blocks_at_the_allowance_and_upgrades_on_the_10th(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.ok("plans", "apply", str(TEMPLATES / "freemium.yaml"))
    store.ok("plans", "apply", str(TEMPLATES / "freemium-pro.yaml"))
    store.ok("customers", "add", "acme", "--currency", "USD", "--timezone", "UTC")
    store.ok("devices", "add", "m1", "--customer", "acme", "--from", "2026-01-01")
    store.ok(
        "subscriptions",
        "create",
        "--customer",
        "acme",
        "--plan",
        "monitor-free",
        "--start",
        "2026-01-01",
        "--id",
        "sub-1",
    )
    jan_1 = datetime(2026, 1, 1, tzinfo=UTC)
    store.ok("ingest", readings_file(tmp_path, "jan", jan_1, timedelta(minutes=10), 1000))

    answer = check(store, "2026-01-08")
    assert {k: answer[k] for k in ("has_access", "used", "limit", "remaining", "overage")} == {
        "has_access": False,
        "used": "1000",
        "limit": "1000",
        "remaining": "0",
        "overage": "block",
    }
    assert answer["period"] == {
        "start": "2026-01-01T00:00:00+00:00",
        "end": "2026-02-01T00:00:00+00:00",
    }
    text = store.ok(
        "entitlements",
        "check",
        "--customer",
        "acme",
        "--feature",
        "readings",
        "--as-of",
        "2026-01-08",
    )
    assert text == (
        "readings for acme: no\n"
        "used 1000 of 1000, remaining 0 (overage: block)\n"
        "period 2026-01-01T00:00:00+00:00 to 2026-02-01T00:00:00+00:00, counted from"
        " 2026-01-01T00:00:00+00:00 on monitor-free\n"
        "why: the allowance of 1000 is used up\n"
    )
    assert check(store, "2026-01-08", "remote_diagnostics")["has_access"] is False

    store.ok(
        "subscriptions",
        "change",
        "sub-1",
        "--plan",
        "monitor-pro",
        "--timing",
        "immediate",
        "--at",
        "2026-01-10",
    )
    upgraded = check(store, "2026-01-10")
    assert (upgraded["has_access"], upgraded["used"], upgraded["limit"]) == (True, "0", "10000")
    assert upgraded["counted_from"] == "2026-01-10T00:00:00+00:00"
    jan_10 = datetime(2026, 1, 10, tzinfo=UTC)
    store.ok("ingest", readings_file(tmp_path, "pro", jan_10, timedelta(minutes=3), 10_500))
    late = check(store, "2026-01-31T23:00:00Z")
    assert (late["has_access"], late["used"], late["remaining"]) == (True, "10500", "0")

    alerts = store.json("entitlements", "alerts", "--customer", "acme")
    assert [(a["percent"], a["used"], a["counted_from"][:10]) for a in alerts] == [
        ("80", "1000", "2026-01-01"),
        ("100", "1000", "2026-01-01"),
        ("80", "10500", "2026-01-10"),
        ("100", "10500", "2026-01-10"),
    ]

    store.ok("bill-run", "--as-of", "2026-02-01T00:00:00Z", "--grace-hours", "0")
    invoices = store.json("invoices", "list", "--customer", "acme")
    shown = [store.json("invoices", "show", invoice["id"]) for invoice in invoices]
    assert [
        [(line["kind"], line["charge"], line["amount"]) for line in invoice["lines"]]
        for invoice in shown
    ] == [
        # 30.00 x 22/31 days = 21.29 for the rest of January on pro.
        [("fixed_fee", "pro", "21.29")],
        # 1,000 free readings at 0.00; 500 above pro's 10,000 at 0.002 = 1.00; February.
        [
            ("usage", "readings", "0.00"),
            ("usage", "readings", "1.00"),
            ("fixed_fee", "pro", "30.00"),
        ],
    ]
    assert [invoice["total"] for invoice in shown] == ["21.29", "31.00"]


def test_an_unknown_customer_is_exit_3_and_a_bad_as_of_exit_2(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.ok("customers", "add", "acme", "--currency", "USD", "--timezone", "UTC")
    assert "unknown customer 'nobody'" in store.refused(
        3, "entitlements", "check", "--customer", "nobody", "--feature", "readings"
    )
    assert "--as-of" in store.refused(
        2, "entitlements", "check", "--customer", "acme", "--feature", "x", "--as-of", "soon"
    )
    answer = check(store, "2026-01-08")
    assert (answer["has_access"], answer["reason"]) == (
        False,
        "customer 'acme' has no subscription running then",
    )
