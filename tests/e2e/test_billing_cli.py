"""The store commands as a user meets them, on a temporary SQLite database.

Plans, customers, devices, subscriptions and invoices from the command line:
JSON for scripts, exit 2 naming the flag for bad input with nothing stored,
3 for something unknown, 4 for a conflict; and the walk-through of
docs/operations.md, run command by command. The walk-through runs the real
``iotbill`` in a fresh interpreter for each command, as a user does; the other
tests run the same application in this process, to keep the suite quick.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from iotbill.entrypoints.cli import app
from tests.conftest import ROOT, run_iotbill

PLAN = """\
code: water
name: Water
currency: USD
interval: month
fixed_fees:
  - {code: base, name: Monitoring, amount: "31.00"}
meters:
  - {code: water, event_type: pump.flow, aggregation: sum, property: m3}
charges:
  - {code: water, name: Water, meter: water, model: per_unit, unit_price: "0.50"}
"""


class Store:
    """A migrated SQLite file and the commands run on it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.url = f"sqlite:///{folder / 'billing.db'}"
        self.ok("db", "upgrade")

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(app, [*args, "--database", self.url])

    def ok(self, *args: str) -> str:
        result = self.run(*args)
        assert result.exit_code == 0, (args, result.stdout, result.stderr)
        return result.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json"))

    def refused(self, code: int, *args: str) -> str:
        result = self.run(*args)
        assert result.exit_code == code, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        return result.stderr

    def plan_file(self, text: str, name: str = "water.yaml") -> str:
        path = self.folder / name
        path.write_text(text)
        return str(path)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path)


def add_acme(store: Store) -> None:
    store.ok("plans", "apply", store.plan_file(PLAN))
    store.ok(
        "customers", "add", "acme", "--currency", "USD", "--timezone", "America/New_York",
        "--tax-rate", "8.875", "--address", "1 Main St",
    )  # fmt: skip


def test_a_customer_subscribes_and_scripts_read_it_back(store: Store) -> None:
    plan = store.plan_file(PLAN)
    assert store.ok("plans", "apply", plan) == "plan water: stored version 1\n"
    assert "unchanged, the same as version 1 (nothing stored)" in store.ok("plans", "apply", plan)
    store.ok(
        "customers", "add", "acme", "--currency", "USD", "--timezone", "America/New_York",
        "--tax-rate", "8.875", "--address", "1 Main St",
    )  # fmt: skip
    store.ok("devices", "add", "pump-1", "--customer", "acme", "--from", "2026-01-01")
    created = store.json(
        "subscriptions", "create", "--customer", "acme", "--plan", "water", "--start", "2026-01-01"
    )

    assert created["id"] == "sub-000001"
    assert store.json("subscriptions", "list") == [
        {
            "id": "sub-000001",
            "customer": "acme",
            "device": None,
            "billing_mode": "calendar",
            "interval": "month",
            "start": "2026-01-01T05:00:00+00:00",  # midnight in New York
            "trial_end": None,
            "phases": [{"plan": "water", "version": 1, "start": "2026-01-01T05:00:00+00:00"}],
            "cancellation": None,
            "contract": None,
            "pauses": [],
            "end": None,
        }
    ]
    assert store.json("customers", "list") == [
        {
            "id": "acme",
            "name": "acme",
            "currency": "USD",
            "timezone": "America/New_York",
            "billing_address": "1 Main St",
            "tax_rate": "8.875",
            "net_terms": 0,
            "locale": "en",
        }
    ]
    assert store.json("devices", "list") == [
        {
            "id": "pump-1",
            "owner": "acme",
            "ownership": [{"customer": "acme", "from": "2026-01-01T05:00:00+00:00"}],
            "retired_at": None,
        }
    ]
    (plan_view,) = store.json("plans", "list")
    assert (plan_view["code"], plan_view["version"], plan_view["currency"]) == ("water", 1, "USD")
    assert store.json("customers", "show", "acme")["subscriptions"] == ["sub-000001"]
    assert "sub-000001" in store.ok("subscriptions", "list")  # the table


def test_bad_input_exits_2_naming_the_flag_and_stores_nothing(store: Store) -> None:
    add_acme(store)
    store.ok("devices", "add", "pump-1", "--customer", "acme", "--from", "2026-03-01")
    edited = store.plan_file(PLAN.replace('"0.50"', "cheap").replace('"31.00"', '"31.001"'))
    subscribe = ("subscriptions", "create", "--customer", "acme", "--start", "2026-01-01")

    customer = store.refused(
        2, "customers", "add", "bad", "--currency", "XXX", "--timezone", "Mars/Olympus"
    )
    plan = store.refused(2, "plans", "apply", edited)
    unknown_plan = store.refused(2, *subscribe, "--plan", "gold")
    bad_date = store.refused(2, *subscribe[:-1], "2026-13-01", "--plan", "water")
    naive = store.refused(2, *subscribe[:-1], "2026-01-01T00:00:00", "--plan", "water")
    two_owners = store.refused(
        2, "devices", "move", "pump-1", "--to", "acme", "--from", "2026-02-01"
    )
    credit = store.refused(2, "credit-notes", "create", "inv-1", "--reason", "r")

    assert "--currency: unknown ISO 4217 currency code 'XXX'" in customer
    assert "--timezone: unknown IANA time zone 'Mars/Olympus'" in customer
    assert "water.yaml: fixed_fees[0].amount: 31.001 has more decimals than USD" in plan
    assert "water.yaml: charges[0].unit_price" in plan
    assert "--plan: unknown plan 'gold'" in unknown_plan
    assert "--start: '2026-13-01' is neither a date" in bad_date
    assert "--start: '2026-01-01T00:00:00' has no UTC offset" in naive
    assert "--to: device 'pump-1' already belongs to 'acme'" in two_owners
    assert "--from: must be after 2026-03-01T05:00:00+00:00" in two_owners
    assert "--amount: give --amount or --full" in credit
    assert [c["id"] for c in store.json("customers", "list")] == ["acme"]
    assert store.json("plans", "show", "water")["versions"] == [1]
    assert store.json("subscriptions", "list") == []
    assert len(store.json("devices", "list")[0]["ownership"]) == 1


def test_unknown_things_exit_3_and_conflicts_exit_4(store: Store) -> None:
    add_acme(store)
    store.ok(
        "subscriptions", "create", "--customer", "acme", "--plan", "water", "--start", "2026-01-01"
    )
    store.ok(
        "subscriptions", "cancel", "sub-000001", "--timing", "period_end", "--at", "2026-02-10"
    )

    assert "no invoice has the id or number 'INV-2026-000009'" in store.refused(
        3, "invoices", "show", "INV-2026-000009"
    )
    assert "unknown subscription 'sub-000042'" in store.refused(
        3, "subscriptions", "cancel", "sub-000042", "--timing", "immediate"
    )
    assert "customer 'acme' already exists" in store.refused(
        4, "customers", "add", "acme", "--currency", "USD", "--timezone", "UTC"
    )
    assert "already cancelled" in store.refused(
        4, "subscriptions", "cancel", "sub-000001", "--timing", "immediate"
    )
    (subscription,) = store.json("subscriptions", "list")
    assert subscription["end"] == "2026-03-01T05:00:00+00:00"  # February's end in New York


def test_a_move_recorded_late_takes_stored_events_unless_invoiced(store: Store) -> None:
    add_acme(store)
    store.ok("customers", "add", "bolt", "--currency", "USD", "--timezone", "America/New_York")
    store.ok("devices", "add", "pump-1", "--customer", "acme", "--from", "2026-01-01")
    store.ok(
        "subscriptions", "create", "--customer", "acme", "--plan", "water", "--start", "2026-01-01"
    )
    events = store.plan_file(
        '{"id": "e1", "type": "pump.flow", "device": "pump-1",'
        ' "timestamp": "2026-01-20T12:00:00Z", "properties": {"m3": 4}}\n'
        '{"id": "e2", "type": "pump.flow", "device": "pump-1",'
        ' "timestamp": "2026-02-20T12:00:00Z", "properties": {"m3": 6}}\n',
        "events.jsonl",
    )
    store.ok("ingest", events)
    store.ok("bill-run", "--as-of", "2026-02-02T00:00:00Z", "--grace-hours", "0")

    refused = store.refused(2, "devices", "move", "pump-1", "--to", "bolt", "--from", "2026-01-15")
    moved = store.ok("devices", "move", "pump-1", "--to", "bolt", "--from", "2026-02-10")
    back = store.json("devices", "move", "pump-1", "--to", "acme", "--from", "2026-02-15")
    text = store.ok("devices", "move", "pump-1", "--to", "bolt", "--from", "2026-03-01")

    assert (
        "--from: device 'pump-1' has events stored from 2026-01-20T12:00:00+00:00 on, in a period"
        " already invoiced to 'acme' (INV-2026-000002: 2026-01-01T05:00:00+00:00 to"
        " 2026-02-01T05:00:00+00:00), and a finalized invoice never changes: move it from"
        " 2026-02-01T05:00:00+00:00 or later" in refused
    )
    assert moved == "moved device pump-1 to bolt from 2026-02-10; 1 stored event passed to it\n"
    assert (back["owner"], back["events_moved"]) == ("acme", 1)
    assert text == "moved device pump-1 to bolt from 2026-03-01\n"


def test_a_bill_run_holds_a_subscription_whose_event_its_meter_refuses(store: Store) -> None:
    add_acme(store)
    store.ok("devices", "add", "pump-1", "--customer", "acme", "--from", "2026-01-01")
    event = (
        '{"id": "e1", "type": "pump.flow", "device": "pump-1",'
        ' "timestamp": "2026-01-20T12:00:00Z", "properties": {"m3": -4}}\n'
    )
    store.ok("ingest", store.plan_file(event, "e1.jsonl"))  # no subscription checks it yet
    store.ok(
        "subscriptions", "create", "--customer", "acme", "--plan", "water", "--start", "2026-01-01"
    )
    run = ("bill-run", "--as-of", "2026-02-02T00:00:00Z")

    held = store.run(*run)
    void = '{"id": "e1-void", "type": "pump.flow", "device": "pump-1",'
    void += ' "timestamp": "2026-01-20T12:00:00Z", "voids": "e1"}\n'
    store.ok("ingest", store.plan_file(void, "void.jsonl"))
    billed = store.json(*run)

    assert held.exit_code == 2
    assert "0 finalized, 1 subscription held" in held.stdout
    assert (
        "held sub-000001: stored event 'e1': properties.m3: negative value -4 is not allowed"
        in held.stderr
    )
    assert (len(billed["finalized"]), billed["held"]) == (2, [])


def walk_through() -> list[list[str]]:
    """The ``iotbill`` commands of the walk-through in docs/operations.md, in order."""
    text = (ROOT / "docs" / "operations.md").read_text()
    section = text.split("## Walk-through", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block is not None
    lines = [shlex.split(line) for line in block.group(1).splitlines()]
    return [line[1:] for line in lines if line and line[0] == "iotbill"]


def test_the_operations_walk_through_runs_to_a_paid_credited_invoice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IOTBILL_DATABASE_URL", f"sqlite:///{tmp_path / 'billing.db'}")
    commands = walk_through()
    assert commands[0] == ["db", "upgrade"] and commands[-1][0] == "credit-notes"

    for command in commands:
        result = run_iotbill(*command, cwd=ROOT)
        assert result.exit_code == 0, (command, result.stdout, result.stderr)

    closing = "sub-000001/close/2026-01-01T05:00:00+00:00"
    invoice = json.loads(run_iotbill("invoices", "show", closing, "--json", cwd=ROOT).stdout)
    assert re.fullmatch(r"INV-\d{4}-000002", invoice["number"])
    assert (invoice["status"], invoice["total"], invoice["credit_notes"]) == (
        "paid",
        "145.51",
        "10.89",
    )
    # Paid in full, then credited: amount_due = max(0, 145.51 - 10.89 - 0 - 145.51) = 0.
    assert (invoice["payments"], invoice["amount_due"]) == ("145.51", "0.00")
    assert [line["amount"] for line in invoice["lines"]] == ["102.65", "31.00"]
    (note,) = invoice.pop("issued_credit_notes")  # show --json adds the invoice's credit notes
    assert (note["invoice"], note["total"]) == (closing, "10.89")
    listed = json.loads(run_iotbill("invoices", "list", "--json", cwd=ROOT).stdout)
    assert invoice in listed  # show --json and list --json print the same schema
