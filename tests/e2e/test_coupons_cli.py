"""Coupons from the command line, on SQLite: a 20 % coupon for three months on a plan with
usage, billed to the cent, and the refusals with their exit codes."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_billing_cli import PLAN, Store


def test_a_20_percent_coupon_for_three_months_on_a_plan_with_usage(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.ok("plans", "apply", store.plan_file(PLAN))
    store.ok("customers", "add", "acme", "--currency", "USD", "--timezone", "UTC",
             "--tax-rate", "10")  # fmt: skip
    store.ok("devices", "add", "pump-1", "--customer", "acme", "--from", "2026-01-01")
    store.ok("subscriptions", "create", "--customer", "acme", "--plan", "water",
             "--start", "2026-01-01", "--id", "sub-1")  # fmt: skip
    created = store.json("coupons", "create", "LAUNCH20", "--percent", "20", "--periods", "3",
                         "--name", "Launch")  # fmt: skip
    assert {key: created[key] for key in ("code", "kind", "percent", "periods", "plan")} == {
        "code": "LAUNCH20",
        "kind": "percentage",
        "percent": "20",
        "periods": 3,
        "plan": None,
    }
    applied = store.json("coupons", "apply", "LAUNCH20", "--subscription", "sub-1",
                         "--at", "2026-01-01")  # fmt: skip
    assert applied["redeemed_at"] == "2026-01-01T00:00:00+00:00"
    events = "".join(
        f'{{"id": "e{month}", "type": "pump.flow", "device": "pump-1",'
        f' "timestamp": "2026-{month:02d}-10T00:00:00Z", "properties": {{"m3": {m3}}}}}\n'
        for month, m3 in ((1, 20), (2, 40), (3, 30), (4, 10))
    )
    store.ok("ingest", store.plan_file(events, "events.jsonl"))
    for month in (2, 3, 4, 5):
        store.ok("bill-run", "--as-of", f"2026-{month:02d}-01T00:00:00Z")
    invoices = sorted(store.json("invoices", "list"), key=lambda i: i["issued_at"])
    shown = [store.json("invoices", "show", invoice["id"]) for invoice in invoices]

    def lines(invoice: dict) -> list[tuple[str, str, str]]:
        return [(line["kind"], line["charge"], line["amount"]) for line in invoice["lines"]]

    opening, january, february, march, april = shown
    assert lines(opening) == [("fixed_fee", "base", "31.00"), ("discount", "LAUNCH20", "-6.20")]
    assert (opening["subtotal"], opening["tax"]["amount"], opening["total"]) == (
        "24.80", "2.48", "27.28",
    )  # fmt: skip
    assert lines(january) == [
        ("usage", "water", "10.00"),
        ("fixed_fee", "base", "31.00"),
        ("discount", "LAUNCH20", "-2.00"),
        ("discount", "LAUNCH20", "-6.20"),
    ]
    assert january["lines"][3]["description"] == (
        "Coupon LAUNCH20 (20 % off every line, 2026-02-01 to 2026-03-01)"
    )
    assert january["total"] == "36.08"
    assert lines(february) == [
        ("usage", "water", "20.00"),
        ("fixed_fee", "base", "31.00"),
        ("discount", "LAUNCH20", "-4.00"),
        ("discount", "LAUNCH20", "-6.20"),
    ]
    assert lines(march) == [
        ("usage", "water", "15.00"),
        ("fixed_fee", "base", "31.00"),
        ("discount", "LAUNCH20", "-3.00"),
    ]
    assert (march["total"], lines(april)) == (
        "47.30",
        [("usage", "water", "5.00"), ("fixed_fee", "base", "31.00")],
    )
    (listed,) = store.json("coupons", "list")
    assert (listed["code"], listed["redeemed"]) == ("LAUNCH20", 1)
    assert "LAUNCH20" in store.ok("coupons", "list")


def test_bad_coupons_and_refused_redemptions_have_their_exit_codes(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.ok("plans", "apply", store.plan_file(PLAN))
    store.ok("customers", "add", "acme", "--currency", "USD", "--timezone", "UTC")
    store.ok("subscriptions", "create", "--customer", "acme", "--plan", "water",
             "--start", "2026-01-01", "--id", "sub-1")  # fmt: skip
    assert store.refused(2, "coupons", "create", "BIG", "--percent", "120") == (
        "error: --percent: must be more than 0 and at most 100, not 120\n"
    )
    assert "--periods: must be at least 1, not 0" in store.refused(
        2, "coupons", "create", "ZERO", "--amount", "5.00", "--periods", "0"
    )
    assert "unknown plan" in store.refused(3, "coupons", "create", "P", "--percent", "5",
                                           "--plan", "nope")  # fmt: skip
    assert store.json("coupons", "list") == []
    store.ok("coupons", "create", "ONCE", "--percent", "10", "--max-redemptions", "1")
    assert "already exists" in store.refused(4, "coupons", "create", "ONCE", "--percent", "5")
    assert "unknown coupon" in store.refused(3, "coupons", "apply", "NOPE",
                                             "--subscription", "sub-1")  # fmt: skip
    store.ok("coupons", "apply", "ONCE", "--subscription", "sub-1", "--at", "2026-01-01")
    assert "its limit" in store.refused(4, "coupons", "apply", "ONCE", "--subscription", "sub-1",
                                        "--at", "2026-06-01")  # fmt: skip
