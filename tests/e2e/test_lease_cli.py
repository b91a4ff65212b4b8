"""A pump leased for 36 months, from the command line on SQLite: an early end's fee, a
buy-out at term end (and the refusals around it), and bad contract terms refused whole."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import ROOT
from tests.e2e.test_billing_cli import Store

LEASE = ROOT / "examples" / "models" / "lease.yaml"


def charges(invoice: dict[str, list[dict[str, str]]]) -> list[tuple[str, str]]:
    return [(line["charge"], line["amount"]) for line in invoice["lines"]]


def test_a_lease_ended_early_pays_its_fee_and_one_bought_out_pays_its_price(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path)
    store.ok("plans", "apply", str(LEASE))
    for customer, start in (("farm", "2023-01-01"), ("mill", "2025-01-01")):
        store.ok("customers", "add", customer, "--currency", "USD", "--timezone", "UTC")
        store.ok(
            "subscriptions", "create", "--customer", customer, "--plan", "lease",
            "--start", start, "--id", f"lease-{customer}",
        )  # fmt: skip
    refused = store.refused(4, "subscriptions", "buy-out", "lease-farm", "--at", "2025-12-31")
    assert refused == (
        "error: the buy-out is offered from the end of the term, 2026-01-01T00:00:00+00:00\n"
    )
    store.ok(
        "subscriptions", "cancel", "lease-mill", "--timing", "period_end",
        "--at", "2025-10-15T00:00:00Z",
    )  # fmt: skip
    bought = store.json("subscriptions", "buy-out", "lease-farm", "--at", "2026-01-01")
    assert bought["cancellation"] == {
        "timing": "immediate",
        "requested_at": "2026-01-01T00:00:00+00:00",
        "effective_at": "2026-01-01T00:00:00+00:00",
        "reason": "buy_out",
    }
    shown = store.ok("subscriptions", "show", "lease-farm")
    assert "bought    the device is the customer's since 2026-01-01 (buy-out)" in shown
    assert "was bought out at 2026-01-01" in store.refused(
        4, "subscriptions", "buy-out", "lease-farm", "--at", "2026-02-01"
    )
    store.ok("bill-run", "--as-of", "2026-02-01T00:00:00Z")
    store.ok("bill-run", "--as-of", "2026-02-01T00:00:00Z")

    farm = store.json("invoices", "list", "--customer", "farm")
    fees = [amount for invoice in farm for charge, amount in charges(invoice) if charge == "lease"]
    assert fees == ["120.00"] * 36  # January 2023 to December 2025, and no more
    (bought_out,) = [invoice for invoice in farm if invoice["kind"] == "cancellation"]
    assert charges(bought_out) == [("buy_out", "300.00")]
    assert bought_out["total"] == "300.00"

    mill = store.json("invoices", "list", "--customer", "mill")
    assert len(mill) == 11  # the opening and ten closes: service ended on 1 November 2025
    (last,) = [invoice for invoice in mill if invoice["period"]["start"].startswith("2025-10")]
    # 0.5 x 26 months left (November 2025 to December 2027) x 120.00
    assert charges(last) == [("sms", "0.00"), ("early_termination_fee", "1560.00")]
    assert last["lines"][1]["detail"][0]["note"] == (
        "50 % x 26 periods x 120.00, the fixed fees left in the term"
        " (2025-11-01T00:00:00+00:00 to 2028-01-01T00:00:00+00:00)"
    )


def test_bad_contract_terms_are_refused_with_every_problem_and_nothing_stored(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path)
    bad = (
        LEASE.read_text()
        .replace("{percent: 50}", "{percent: 150}")
        .replace('  - {code: lease, name: Pump lease, amount: "120.00", timing: advance}\n', "")
        .replace("fixed_fees:\n", "")
    )
    refused = store.refused(2, "plans", "apply", store.plan_file(bad, "lease.yaml"))
    assert "term: binds the plan's fixed fees for a number of periods, and the plan has none" in (
        refused
    )
    assert "early_termination_fee.percent: must be at most 100, not 150" in refused
    assert store.json("plans", "list") == []
    termless = LEASE.read_text().replace("term: 36", "")
    refused = store.refused(2, "plans", "apply", store.plan_file(termless, "termless.yaml"))
    assert refused.count("needs a term (term: N periods)") == 3  # at_term_end, fee, buy_out


def test_the_lease_demo_bills_the_fee_once_and_the_buy_out_once(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from iotbill.entrypoints.cli import app

    database = tmp_path / "demo.db"
    result = CliRunner().invoke(
        app, ["demo", "--model", "lease", "--database", str(database), "--json"]
    )
    assert result.exit_code == 0, result.stderr
    billed: dict[tuple[str, str], list[str]] = {}
    for invoice in json.loads(result.stdout):
        for charge, amount in charges(invoice):
            billed.setdefault((invoice["customer"], charge), []).append(amount)
    # Harbor: January to October 2026, then the fee for the 26 months left.
    assert billed["harbor-aquaculture", "lease"] == ["120.00"] * 10
    assert billed["harbor-aquaculture", "early_termination_fee"] == ["1560.00"]
    # Delta: the 36 months of the term, then the buy-out and no fee for January 2029.
    assert billed["delta-fisheries", "lease"] == ["120.00"] * 36
    assert billed["delta-fisheries", "buy_out"] == ["300.00"]
    assert ("delta-fisheries", "early_termination_fee") not in billed


def test_a_subscription_given_lease_terms_of_its_own(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.ok("plans", "apply", str(ROOT / "examples" / "models" / "retail-instalments.yaml"))
    store.ok("customers", "add", "acme", "--currency", "USD", "--timezone", "UTC")
    refused = store.refused(
        2, "subscriptions", "create", "--customer", "acme", "--plan", "retail-instalments",
        "--start", "2025-01-01", "--term", "0", "--termination-fee", "150%",
    )  # fmt: skip
    assert "--term: must be at least 1, not 0" in refused
    assert "--termination-fee.percent: must be at most 100, not 150" in refused
    assert store.json("subscriptions", "list") == []
    created = store.json(
        "subscriptions", "create", "--customer", "acme", "--plan", "retail-instalments",
        "--start", "2025-01-01", "--term", "12", "--termination-fee", "25%",
        "--buy-out", "50.00", "--id", "sale-1",
    )  # fmt: skip
    assert created["contract"] == {
        "term": 12,
        "at_term_end": "evergreen",
        "early_termination_fee": {"percent": "25"},
        "buy_out": "50.00",
    }
    assert "contract  12 periods, then evergreen; ending early: 25 %; buy-out: 50.00" in (
        store.ok("subscriptions", "show", "sale-1")
    )
    store.ok(
        "subscriptions", "cancel", "sale-1", "--timing", "period_end",
        "--at", "2025-04-10T00:00:00Z",
    )  # fmt: skip
    store.ok("bill-run", "--as-of", "2025-06-01T00:00:00Z")
    (april,) = [
        invoice
        for invoice in store.json("invoices", "list")
        if invoice["period"]["start"].startswith("2025-04")
    ]
    # Monitoring's 15.00 for the 8 months left of its own term (May to December), at 25 %.
    assert charges(april)[-1] == ("early_termination_fee", "30.00")
