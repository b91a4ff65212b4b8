"""The money that once went missing, from the command line on SQLite: a credit larger than
the charges is carried, late usage after the end of service is billed, a voided draft close
is re-issued, a void invoice is due nothing, and no amount reads -0.00. (Ingest's conflicts
are in test_money_cli.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.e2e.test_billing_cli import PLAN, Store

QUARTERLY = """\
code: {code}
name: {code}
currency: USD
interval: quarter
fixed_fees: [{{code: base, amount: "{amount}", timing: advance}}]
"""


def water_store(tmp_path: Path) -> Store:
    store = Store(tmp_path)
    store.ok("plans", "apply", store.plan_file(PLAN))
    store.ok("customers", "add", "acme", "--currency", "USD", "--timezone", "UTC")
    store.ok("devices", "add", "pump-1", "--customer", "acme", "--from", "2026-01-01")
    store.ok("subscriptions", "create", "--customer", "acme", "--plan", "water",
             "--start", "2026-01-01", "--id", "sub-1")  # fmt: skip
    return store


def ingest(store: Store, name: str, *events: tuple[str, str, int]) -> None:
    text = "".join(
        json.dumps({"id": id, "type": "pump.flow", "device": "pump-1", "timestamp": at,
                    "properties": {"m3": m3}}) + "\n"
        for id, at, m3 in events
    )  # fmt: skip
    store.ok("ingest", store.plan_file(text, name))


def invoices(store: Store) -> list[dict[str, Any]]:
    listed = sorted(store.json("invoices", "list"), key=lambda i: (i["issued_at"], i["id"]))
    return [store.json("invoices", "show", invoice["id"]) for invoice in listed]


def lines(invoice: dict[str, Any]) -> list[tuple[str, str]]:
    return [(line["charge"], line["amount"]) for line in invoice["lines"]]


def test_a_quarterly_downgrade_s_credit_is_carried(tmp_path: Path) -> None:
    store = Store(tmp_path)
    for code, amount in (("gold", "300.00"), ("silver", "150.00")):
        store.ok("plans", "apply", store.plan_file(QUARTERLY.format(code=code, amount=amount),
                                                   f"{code}.yaml"))  # fmt: skip
    store.ok("customers", "add", "acme", "--currency", "USD", "--timezone", "UTC")
    store.ok("subscriptions", "create", "--customer", "acme", "--plan", "gold",
             "--start", "2026-01-01", "--id", "sub-1")  # fmt: skip
    store.ok("subscriptions", "change", "sub-1", "--plan", "silver", "--timing", "immediate",
             "--at", "2026-02-15")  # fmt: skip
    store.ok("bill-run", "--as-of", "2026-04-01T00:00:00Z")
    opening, change, close = invoices(store)
    # 45 of 90 days left: -150.00 + 75.00 = -75.00, due 0.00 (not -0.00), carried on.
    assert (lines(change), change["total"], change["amount_due"]) == (
        [("base", "-150.00"), ("base", "75.00")], "-75.00", "0.00",
    )  # fmt: skip
    assert change["tax"]["amount"] == "0.00"
    assert (lines(close), close["amount_due"]) == (
        [("base", "150.00"), ("carried_credit", "-75.00")], "75.00",
    )  # fmt: skip
    assert close["lines"][1]["description"] == f"Credit carried from {change['number']}"
    assert opening["amount_due"] == "300.00"


def test_an_immediate_cancellation_s_credit_is_carried_to_the_close(tmp_path: Path) -> None:
    store = water_store(tmp_path)
    ingest(store, "january.jsonl", ("e1", "2026-01-10T00:00:00Z", 50))
    store.ok("subscriptions", "cancel", "sub-1", "--timing", "immediate", "--at", "2026-01-21")
    store.ok("bill-run", "--as-of", "2026-02-01T00:00:00Z")
    opening, cancellation, close = invoices(store)
    assert lines(cancellation) == [("base", "-11.00")]  # 11 of 31 days unused
    # 50 m3 x 0.50 = 25.00 of usage, less the 11.00 carried: 14.00, none of it lost.
    assert (lines(close), close["amount_due"]) == (
        [("water", "25.00"), ("carried_credit", "-11.00")], "14.00",
    )  # fmt: skip
    assert [i["amount_due"] for i in (opening, cancellation)] == ["31.00", "0.00"]


def test_late_usage_after_the_end_of_service_is_billed(tmp_path: Path) -> None:
    store = water_store(tmp_path)
    store.ok("subscriptions", "cancel", "sub-1", "--timing", "period_end", "--at", "2026-01-01")
    ingest(store, "january.jsonl", ("e1", "2026-01-10T00:00:00Z", 20))
    store.ok("bill-run", "--as-of", "2026-02-01T00:00:00Z")
    ingest(store, "late.jsonl", ("e2", "2026-01-20T00:00:00Z", 7))  # seven m3 of January
    billed = store.json("bill-run", "--as-of", "2026-02-05T00:00:00Z")
    (late_id,) = billed["issued"]
    assert late_id.startswith("sub-1/late/")
    _opening, january, late = invoices(store)
    assert lines(january) == [("water", "10.00")]
    # 27 m3 x 0.50 = 13.50 now, 10.00 billed: 3.50 more, on an invoice of its own.
    assert (late["kind"], lines(late), late["amount_due"]) == ("late", [("water", "3.50")], "3.50")
    assert store.json("bill-run", "--as-of", "2026-02-05T00:00:00Z")["issued"] == []


def test_a_voided_draft_close_is_reissued_and_a_void_invoice_is_due_nothing(
    tmp_path: Path,
) -> None:
    store = water_store(tmp_path)
    ingest(store, "january.jsonl", ("e1", "2026-01-10T00:00:00Z", 20))
    store.ok("bill-run", "--as-of", "2026-02-01T00:00:00Z", "--grace-hours", "72")
    close_id = "sub-1/close/2026-01-01T00:00:00+00:00"
    voided = store.json("invoices", "void", close_id)
    assert (voided["status"], voided["number"], voided["amount_due"]) == ("void", None, "0.00")
    again = store.json("bill-run", "--as-of", "2026-02-04T00:00:00Z", "--grace-hours", "72")
    assert again["issued"] == [f"{close_id}/2"]
    replacement = store.json("invoices", "show", f"{close_id}/2")
    # January's usage and February's fee: the period is billed after all.
    assert lines(replacement) == [("water", "10.00"), ("base", "31.00")]
    opening = store.json("invoices", "show", "sub-1/opening")
    void_opening = store.json("invoices", "void", opening["number"])
    assert (void_opening["total"], void_opening["amount_due"]) == ("31.00", "0.00")
    listed = {i["id"]: i["amount_due"] for i in store.json("invoices", "list")}
    assert (listed["sub-1/opening"], listed[close_id]) == ("0.00", "0.00")
