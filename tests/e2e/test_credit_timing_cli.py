"""Credits before tax, chosen for a tenant from the command line, on SQLite."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_billing_cli import PLAN, Store


def test_a_tenant_uses_credits_before_tax(tmp_path: Path) -> None:
    store = Store(tmp_path)
    assert store.refused(2, "tenants", "credits", "default", "never") == (
        "error: TIMING: must be one of after_tax, before_tax, not 'never'\n"
    )
    assert "unknown tenant 'nobody'" in store.refused(3, "tenants", "credits", "nobody",
                                                      "before_tax")  # fmt: skip
    chosen = store.json("tenants", "credits", "default", "before_tax")
    assert chosen["credits"] == "before_tax"
    store.ok("plans", "apply", store.plan_file(PLAN))
    store.ok("customers", "add", "acme", "--currency", "USD", "--timezone", "UTC",
             "--tax-rate", "10")  # fmt: skip
    store.ok("credits", "grant", "acme", "--amount", "20.00", "--at", "2026-01-01")
    store.ok("subscriptions", "create", "--customer", "acme", "--plan", "water",
             "--start", "2026-01-01", "--id", "sub-1")  # fmt: skip
    store.ok("bill-run", "--as-of", "2026-01-01T00:00:00Z")
    (opening,) = store.json("invoices", "list")
    shown = store.json("invoices", "show", opening["id"])
    # 31.00 less the 20.00 credit before tax: 11.00, taxed 1.10, so 12.10 is due.
    assert [(line["charge"], line["amount"]) for line in shown["lines"]] == [
        ("base", "31.00"),
        ("prepaid_credit", "-20.00"),
    ]
    assert (shown["subtotal"], shown["tax"]["amount"], shown["amount_due"]) == (
        "11.00", "1.10", "12.10",
    )  # fmt: skip
