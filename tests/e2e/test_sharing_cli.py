"""``iotbill sharing buyers ...``, the bill run and ``iotbill payouts statement`` on SQLite:
a battery on examples/models/asset-sharing.yaml sells capacity to the grid operator (a
customer, invoiced) and on the spot market (paid directly); its owner is credited 30 %.
Bad input is refused with its field, and nothing is stored."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.test_billing_cli import Store

TEMPLATE = Path(__file__).parents[2] / "examples" / "models" / "asset-sharing.yaml"
BUYER_PLAN = """\
code: capacity-buyer
currency: EUR
interval: month
fixed_fees: [{code: account, name: Capacity account, amount: "10.00", timing: advance}]
"""


def sales(folder: Path, name: str, *rows: tuple[str, str, str, str, str]) -> str:
    path = folder / name
    path.write_text(
        "".join(
            json.dumps(
                {
                    "id": id,
                    "type": "capacity.sold",
                    "device": "b1",
                    "timestamp": at,
                    "properties": {"kwh": kwh, "price": price, "buyer": buyer},
                }
            )
            + "\n"
            for id, at, kwh, price, buyer in rows
        )
    )
    return str(path)


def setup(store: Store) -> None:
    store.ok("plans", "apply", str(TEMPLATE))
    store.ok("plans", "apply", store.plan_file(BUYER_PLAN, "buyer.yaml"))
    for id, money in (("acme", "EUR"), ("grid-op", "EUR"), ("us-grid", "USD")):
        store.ok("customers", "add", id, "--currency", money, "--timezone", "UTC")
    store.ok("devices", "add", "b1", "--customer", "acme", "--from", "2026-01-01")
    for customer, plan in (("acme", "battery-sharing"), ("grid-op", "capacity-buyer")):
        store.ok(
            "subscriptions", "create", "--customer", customer, "--plan", plan,
            "--start", "2026-01-01",
        )  # fmt: skip


def test_sales_are_invoiced_credited_and_stated_per_asset(tmp_path: Path) -> None:
    store = Store(tmp_path)
    setup(store)
    added = store.json(
        "sharing", "buyers", "add", "--device", "b1", "--buyer", "grid", "--customer", "grid-op",
        "--at", "2026-01-01",
    )  # fmt: skip
    assert added == {
        "device": "b1",
        "buyer": "grid",
        "customer": "grid-op",
        "paid_directly": False,
        "added_at": "2026-01-01T00:00:00+00:00",
    }
    text = store.ok(
        "sharing", "buyers", "add", "--device", "b1", "--buyer", "spot", "--paid-directly",
        "--at", "2026-01-01",
    )  # fmt: skip
    assert "b1: buyer 'spot', paid directly by the market" in text
    store.ok(
        "ingest",
        sales(
            tmp_path,
            "january.jsonl",
            ("s1", "2026-01-05T12:00:00Z", "12.5", "0.21", "grid"),
            ("s2", "2026-01-20T12:00:00Z", "40.125", "0.185", "grid"),
            ("s3", "2026-01-21T12:00:00Z", "3", "0.095", "spot"),
        ),
    )
    store.ok("bill-run", "--as-of", "2026-02-01T00:00:00Z")
    store.ok(
        "ingest",
        sales(tmp_path, "late.jsonl", ("s4", "2026-01-30T12:00:00Z", "5", "0.21", "grid")),
    )
    store.ok("bill-run", "--as-of", "2026-03-01T00:00:00Z")
    invoices = store.json("invoices", "list")
    credits = [
        (invoice["period"]["start"][:7], line["amount"], line["description"])
        for invoice in invoices
        if invoice["customer"] == "acme"
        for line in invoice["lines"]
        if line["kind"] == "credit"
    ]
    # January: 7.42 + 2.63 + 0.29 = 10.34 at 30 % = 3.102 -> 3.10; late: 1.05 -> 0.315 -> 0.32.
    assert credits == [
        ("2026-01", "-3.10", "30 % share of 10.34 EUR sold from b1, 2026-01-01 to 2026-02-01"),
        (
            "2026-02",
            "-0.32",
            "Late sale: 30 % share of 1.05 EUR sold from b1, 2026-01-01 to 2026-02-01",
        ),
    ]
    bought = [
        (invoice["period"]["start"][:7], line["quantity"], line["unit_price"], line["amount"])
        for invoice in invoices
        if invoice["customer"] == "grid-op"
        for line in invoice["lines"]
        if line["kind"] == "one_off"
    ]
    assert bought == [
        ("2026-01", "40.125", "0.185", "7.42"),
        ("2026-01", "12.5", "0.21", "2.63"),
        ("2026-02", "5", "0.21", "1.05"),
    ]

    statement = store.json("payouts", "statement", "--customer", "acme", "--period", "2026-01")
    (asset,) = statement["assets"]
    assert [(s["buyer"], s["price"], s["amount"], s["late"]) for s in asset["sold"]] == [
        ("grid", "0.185", "7.42", False),
        ("grid", "0.21", "2.63", False),
        ("spot", "0.095", "0.29", False),
        ("grid", "0.21", "1.05", True),
    ]
    assert (asset["revenue"], asset["credit"], asset["operator"]) == ("11.39", "3.42", "7.97")
    assert statement["share"] == ["30"] and statement["currency"] == "EUR"
    shown = store.ok("payouts", "statement", "--customer", "acme", "--period", "2026-01")
    assert "b1: sold 11.39 EUR; share 30 %: credit 3.42 EUR; operator 7.97 EUR" in shown
    assert "Total: sold 11.39 EUR, credited 3.42 EUR, operator 7.97 EUR" in shown
    march = store.ok("payouts", "statement", "--customer", "acme", "--period", "2026-03-15")
    assert "acme: nothing sold in the period holding 2026-03-15T00:00:00+00:00" in march


def test_bad_input_is_refused_with_its_field_and_nothing_is_stored(tmp_path: Path) -> None:
    store = Store(tmp_path)
    too_much = TEMPLATE.read_text().replace('share: "30"', 'share: "120"')
    error = store.refused(2, "plans", "apply", store.plan_file(too_much, "bad.yaml"))
    assert "sharing.share: must be a percentage from 0 to 100, not 120" in error
    negative = TEMPLATE.read_text().replace('share: "30"', "share: -5")
    error = store.refused(2, "plans", "apply", store.plan_file(negative, "bad.yaml"))
    assert "sharing.share: must be a percentage from 0 to 100, not -5" in error
    assert store.json("plans", "list") == []

    setup(store)
    add = ("sharing", "buyers", "add", "--device", "b1", "--buyer", "grid")
    error = store.refused(2, *add, "--customer", "us-grid")
    assert (
        "customer: 'us-grid' is billed in USD, but the asset's plan is in EUR: a buyer is"
        " invoiced in the owner's plan currency (there is no currency conversion)"
    ) in error
    assert "unknown customer 'nobody'" in store.refused(3, *add, "--customer", "nobody")
    error = store.refused(3, "sharing", "buyers", "add", "--device", "b9", "--buyer", "grid",
                          "--paid-directly")  # fmt: skip
    assert "unknown device 'b9'" in error
    error = store.refused(2, *add)
    assert "--customer: give either --customer or --paid-directly" in error
    assert store.json("sharing", "buyers", "list") == []

    statement = ("payouts", "statement", "--period", "2026-01")
    assert "unknown customer 'nobody'" in store.refused(3, *statement, "--customer", "nobody")
    error = store.refused(3, *statement, "--customer", "acme", "--asset", "b9")
    assert "unknown device 'b9'" in error
    error = store.refused(2, *statement[:2], "--period", "January", "--customer", "acme")
    assert "--period" in error
