"""The customer's money from the command line, on SQLite: credits, terms, payments, dunning,
and ingest's conflicts."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from tests.e2e.test_billing_cli import PLAN, Store


def test_credits_terms_partial_payments_and_reminders(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.ok("plans", "apply", store.plan_file(PLAN))
    store.ok(
        "customers", "add", "acme", "--currency", "USD", "--timezone", "UTC", "--net-terms", "30",
    )  # fmt: skip
    assert store.refused(2, "customers", "add", "bolt", "--currency", "USD", "--timezone", "UTC",
                         "--net-terms", "-1") == (
        "error: --net-terms: must be from 0 to 3650 days, not -1\n"
    )  # fmt: skip
    granted = store.json("credits", "grant", "acme", "--amount", "10.00", "--at", "2026-01-01")
    assert (granted["id"], granted["remaining"]) == ("acme/credit/1", "10.00")
    refused = store.refused(
        2, "credits", "grant", "acme", "--amount", "5", "--at", "2026-02-01",
        "--expires", "2026-01-01",
    )  # fmt: skip
    assert "--expires: must be after the grant (2026-02-01T00:00:00+00:00)" in refused
    store.ok("devices", "add", "pump-1", "--customer", "acme", "--from", "2026-01-01")
    store.ok(
        "subscriptions", "create", "--customer", "acme", "--plan", "water",
        "--start", "2026-01-01",
    )  # fmt: skip
    events = store.plan_file(
        '{"id": "e1", "type": "pump.flow", "device": "pump-1", "timestamp": "2026-01-10T00:00:00Z",'
        ' "properties": {"m3": 32}}\n',
        "events.jsonl",
    )
    store.ok("ingest", events)
    store.ok("bill-run", "--as-of", "2026-02-01T00:00:00Z")
    close, opening = store.json("invoices", "list")  # by period, then id
    # The opening's 31.00 takes the 10.00 credit; January's close is 16.00 + 31.00 = 47.00.
    assert [(i["total"], i["balance_applied"], i["amount_due"]) for i in (opening, close)] == [
        ("31.00", "10.00", "21.00"),
        ("47.00", "0.00", "47.00"),
    ]
    finalized = datetime.fromisoformat(close["finalized_at"]).date()
    due = finalized + timedelta(days=30)
    assert close["due_on"] == due.isoformat()
    assert store.json("customers", "show", "acme")["balance"] == "0.00"

    def overdue(on: date) -> list[str]:
        listed = store.json("invoices", "list", "--overdue", "--as-of", f"{on}T00:00:00Z")
        return [invoice["number"] for invoice in listed]

    assert overdue(due) == []
    assert overdue(due + timedelta(days=1)) == [close["number"], opening["number"]]
    paid = store.json("invoices", "pay", close["number"], "--amount", "20.00")
    assert (paid["status"], paid["payments"], paid["amount_due"]) == ("finalized", "20.00", "27.00")
    assert store.refused(2, "invoices", "pay", close["number"], "--amount", "30.00") == (
        f"error: --amount: 30.00 is more than the 27.00 due on {close['number']}\n"
    )
    assert "credit it instead" in store.refused(4, "invoices", "void", close["number"])
    reminders = store.json("invoices", "remind", "--as-of", f"{due + timedelta(days=11)}T00:00:00Z")
    assert [(n["invoice"], n["kind"]) for n in reminders if n["invoice"] == close["id"]] == [
        (close["id"], "overdue"),
        (close["id"], "reminder+3"),
        (close["id"], "reminder+10"),
    ]
    assert (
        store.json("invoices", "remind", "--as-of", f"{due + timedelta(days=12)}T00:00:00Z") == []
    )
    settled = store.json("invoices", "pay", close["number"], "--amount", "27.00")
    assert (settled["status"], settled["amount_due"]) == ("paid", "0.00")
    assert overdue(due + timedelta(days=40)) == [opening["number"]]
    history = store.json("credits", "history", "acme")
    assert [(e["debit"], e["credit"], e["amount"]) for e in history] == [
        ("promotions", "customer:acme:credits", "10.00"),
        ("customer:acme:credits", "customer:acme:receivable", "10.00"),
    ]
    assert [c["remaining"] for c in store.json("credits", "list", "--customer", "acme")] == ["0.00"]


def test_plans_show_lists_the_progressive_billing_thresholds(tmp_path: Path) -> None:
    store = Store(tmp_path)
    progressive = PLAN.replace(
        "interval: month\n", 'interval: month\nthresholds: ["200", "350.5"]\n'
    )
    store.ok("plans", "apply", store.plan_file(progressive))
    shown = store.json("plans", "show", "water")
    assert shown["thresholds"] == ["200.00", "350.50"]  # at the currency's minor unit
    assert "Interim invoices when a period's usage reaches: 200.00, 350.50" in store.ok(
        "plans", "show", "water"
    )
    store.ok("plans", "apply", store.plan_file(PLAN, "plain.yaml"))
    assert store.json("plans", "show", "water")["thresholds"] == []


def test_a_purchased_credit_is_billed_untaxed_on_the_next_invoice(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.ok("plans", "apply", store.plan_file(PLAN))
    store.ok("customers", "add", "acme", "--currency", "USD", "--timezone", "UTC",
             "--tax-rate", "10")  # fmt: skip
    bought = store.json("credits", "grant", "acme", "--amount", "50.00", "--purchased",
                        "--at", "2026-01-01")  # fmt: skip
    assert (bought["charge"]["kind"], bought["charge"]["amount"]) == ("credit_purchase", "50.00")
    assert store.json("invoices", "list") == []  # no invoice of its own
    store.ok("subscriptions", "create", "--customer", "acme", "--plan", "water",
             "--start", "2026-01-01", "--id", "sub-1")  # fmt: skip
    store.ok("bill-run", "--as-of", "2026-01-01T00:00:00Z")
    (opening,) = store.json("invoices", "list")
    shown = store.json("invoices", "show", opening["id"])
    assert [(line["kind"], line["amount"]) for line in shown["lines"]] == [
        ("fixed_fee", "31.00"),
        ("credit_purchase", "50.00"),
    ]
    # Tax on the 31.00 only; the credit pays the 34.10 of service, not its own sale.
    assert (shown["tax"]["amount"], shown["total"], shown["balance_applied"]) == (
        "3.10", "84.10", "34.10",
    )  # fmt: skip
    assert shown["amount_due"] == "50.00"
    assert store.json("customers", "show", "acme")["balance"] == "15.90"
