"""Balance alerts from the command line, on SQLite."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_billing_cli import PLAN, Store


def test_thresholds_and_the_alerts_they_raise(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.ok("plans", "apply", store.plan_file(PLAN))
    store.ok("customers", "add", "acme", "--currency", "USD", "--timezone", "UTC")
    refused = store.refused(2, "credits", "thresholds", "acme", "0.001", "1e3")
    assert refused.splitlines() == [
        "error: thresholds[0]: 0.001 has more decimals than USD allows",
        "thresholds[1]: '1e3' is not a plain decimal number (like -12.50)",
    ]
    assert "unknown customer" in store.refused(3, "credits", "thresholds", "nobody", "5")
    chosen = store.json("credits", "thresholds", "acme", "5", "20.00")
    assert chosen == {"customer": "acme", "thresholds": ["20.00", "5.00"]}
    store.ok("credits", "grant", "acme", "--amount", "50.00", "--at", "2026-01-01")
    store.ok("subscriptions", "create", "--customer", "acme", "--plan", "water",
             "--start", "2026-01-01", "--id", "sub-1")  # fmt: skip
    store.ok("bill-run", "--as-of", "2026-01-01T00:00:00Z")
    store.ok("bill-run", "--as-of", "2026-01-01T00:00:00Z")
    (alert,) = store.json("credits", "alerts", "--customer", "acme")
    # 50.00 - 31.00 = 19.00: below 20.00, once however often the run is repeated.
    assert (alert["threshold"], alert["balance"], alert["entry"]) == (
        "20.00", "19.00", "acme/credit/1/used/sub-1/opening",
    )  # fmt: skip
    assert "19.00" in store.ok("credits", "alerts")
    assert store.json("credits", "thresholds", "acme") == {"customer": "acme", "thresholds": []}
