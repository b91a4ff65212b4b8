"""The commands a billing team lives in, on SQLite and PostgreSQL: usage, the upcoming
invoice, one subscription, credit notes, exports and imports.

Each test runs the application in this process on a store of its own.
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from iotbill.entrypoints.cli import app
from iotbill.entrypoints.cli.invoices import EXPORT_COLUMNS
from tests.services import postgres_schema

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

EVENTS = [
    ("e1", "pump-1", "2026-01-05T15:00:00Z", "1.5"),  # 10:00 on the 5th in New York
    ("e2", "pump-1", "2026-01-06T21:00:00Z", "0.25"),  # 16:00 on the 6th
    ("e3", "pump-2", "2026-01-06T22:00:00Z", "4"),
    ("e4", "pump-1", "2026-01-20T12:00:00Z", "10"),
]


class Store:
    """A migrated store and the commands run on it."""

    def __init__(self, url: str, folder: Path, tenant: str) -> None:
        self.url = url
        self.folder = folder
        self.tenant = tenant
        upgraded = CliRunner().invoke(app, ["db", "upgrade", "--database", url])
        assert upgraded.exit_code == 0, upgraded.stderr
        added = CliRunner().invoke(app, ["tenants", "add", tenant, "--database", url])
        assert added.exit_code == 0, added.stderr

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(app, [*args, "--database", self.url, "--tenant", self.tenant])

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

    def file(self, name: str, text: str) -> str:
        path = self.folder / name
        path.write_text(text)
        return str(path)

    def acme(self) -> None:
        """Plan water; acme (New York, 8.875 %) with pumps 1 and 2 on it from 1 January;
        the events of ``EVENTS`` stored."""
        self.ok("plans", "apply", self.file("water.yaml", PLAN))
        self.ok(
            "customers", "add", "acme", "--currency", "USD", "--timezone", "America/New_York",
            "--tax-rate", "8.875",
        )  # fmt: skip
        for pump in ("pump-1", "pump-2"):
            self.ok("devices", "add", pump, "--customer", "acme", "--from", "2026-01-01")
        self.ok(
            "subscriptions", "create", "--customer", "acme", "--plan", "water",
            "--start", "2026-01-01",
        )  # fmt: skip
        lines = [
            json.dumps(
                {
                    "id": id,
                    "type": "pump.flow",
                    "device": device,
                    "timestamp": at,
                    "properties": {"m3": m3},
                }
            )
            for id, device, at, m3 in EVENTS
        ]
        self.ok("ingest", self.file("events.jsonl", "\n".join(lines) + "\n"))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One store per module and kind; each test migrates it and works in its own tenant."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('team') / 'billing.db'}"
        return
    with postgres_schema() as url:
        yield url


@pytest.fixture
def store(database: str, tmp_path: Path) -> Store:
    return Store(database, tmp_path, f"t-{uuid.uuid4().hex[:10]}")


def test_usage_per_day_of_one_device_as_a_table_json_and_csv(store: Store) -> None:
    store.acme()
    query = (
        "usage", "--customer", "acme", "--device", "pump-1", "--from", "2026-01-05",
        "--to", "2026-01-08", "--by", "day",
    )  # fmt: skip

    shown = store.json(*query)
    text = store.ok(*query, "--csv")
    table = store.ok(*query)

    assert [(row["start"], row["quantity"]) for row in shown["rows"]] == [
        ("2026-01-05T05:00:00+00:00", "1.5"),
        ("2026-01-06T05:00:00+00:00", "0.25"),
        ("2026-01-07T05:00:00+00:00", "0"),
    ]
    assert (shown["customer"], shown["device"], shown["timezone"]) == (
        "acme",
        "pump-1",
        "America/New_York",
    )
    assert list(csv.reader(io.StringIO(text))) == [
        ["meter", "start", "end", "group", "quantity"],
        ["water", "2026-01-05T05:00:00+00:00", "2026-01-06T05:00:00+00:00", "", "1.5"],
        ["water", "2026-01-06T05:00:00+00:00", "2026-01-07T05:00:00+00:00", "", "0.25"],
        ["water", "2026-01-07T05:00:00+00:00", "2026-01-08T05:00:00+00:00", "", "0"],
    ]
    assert "Usage of acme, pump-1, 2026-01-05 to 2026-01-08" in table
    assert "(America/New_York)" in table
    assert "2026-01-06" in table and "0.25" in table


def test_usage_refuses_a_bad_request_naming_each_flag(store: Store) -> None:
    store.acme()

    refused = store.refused(
        2, "usage", "--customer", "acme", "--meter", "gas", "--from", "2026-02-01",
        "--to", "2026-01-01", "--by", "week",
    )  # fmt: skip

    assert "--to: 2026-01-01T05:00:00+00:00 must be after from" in refused
    assert "--by: must be one of hour, day, month, not 'week'" in refused
    assert "--meter: unknown meter 'gas' (the customer's plans meter water)" in refused


def test_the_upcoming_invoice_is_the_one_the_bill_run_issues(store: Store) -> None:
    store.acme()
    before = store.json("invoices", "list")

    upcoming = store.json("subscriptions", "upcoming", "sub-000001", "--at", "2026-01-25T00:00:00Z")
    table = store.ok("subscriptions", "upcoming", "sub-000001", "--at", "2026-01-25T00:00:00Z")

    assert store.json("invoices", "list") == before  # nothing written
    # 15.75 m3 x 0.50 = 7.875 -> 7.88; February's fee 31.00; tax 8.875 % of 38.88 = 3.45
    assert [(line["charge"], line["amount"]) for line in upcoming["lines"]] == [
        ("water", "7.88"),
        ("base", "31.00"),
    ]
    assert (upcoming["subtotal"], upcoming["tax"]["amount"], upcoming["total"]) == (
        "38.88",
        "3.45",
        "42.33",
    )
    assert "upcoming, not stored" in table
    store.ok("bill-run", "--as-of", "2026-02-02T00:00:00Z")
    issued = store.json("invoices", "show", upcoming["id"])
    assert issued["lines"] == upcoming["lines"]
    assert issued["total"] == upcoming["total"]
    assert "no period is open yet" in store.refused(
        4, "subscriptions", "upcoming", "sub-000001", "--at", "2025-12-01"
    )
    assert "unknown subscription" in store.refused(3, "subscriptions", "upcoming", "sub-000009")


def test_subscriptions_show_gives_plans_and_invoices(store: Store) -> None:
    store.acme()
    store.ok("bill-run", "--as-of", "2026-02-02T00:00:00Z")

    shown = store.json("subscriptions", "show", "sub-000001")
    text = store.ok("subscriptions", "show", "sub-000001")

    assert shown["id"] == "sub-000001" and shown["customer"] == "acme"
    assert shown["invoices"] == ["INV-2026-000001", "INV-2026-000002"]
    assert "customer  acme (America/New_York)" in text
    assert "water v1" in text and "INV-2026-000002" in text
    assert "unknown subscription 'sub-000042'" in store.refused(
        3, "subscriptions", "show", "sub-000042"
    )


def test_customers_and_devices_import_from_csv_and_json_lines(store: Store) -> None:
    customers = store.file(
        "customers.csv",
        "id,name,currency,timezone,tax_rate\n"
        "acme,Acme,USD,America/New_York,8.875\n"
        "bolt,Bolt,EUR,Europe/Berlin,19\n",
    )
    devices = store.file(
        "devices.jsonl",
        '{"id": "pump-1", "customer": "acme", "from": "2026-01-01"}\n'
        '{"id": "pump-2", "customer": "bolt", "from": "2026-01-01"}\n',
    )

    first = store.ok("customers", "import", customers)
    store.ok("devices", "import", devices)
    again = store.json("devices", "import", devices)

    assert first == "2 created, 0 already stored, 0 rejected, 0 conflicts\n"
    assert again == {
        "created": 0,
        "unchanged": 2,
        "rejected": [],
        "conflicts": [],
        "stored": True,
    }
    assert [(d["id"], d["owner"]) for d in store.json("devices", "list")] == [
        ("pump-1", "acme"),
        ("pump-2", "bolt"),
    ]


def test_an_import_with_bad_rows_reports_each_and_atomic_stores_nothing(store: Store) -> None:
    customers = store.file(
        "customers.csv",
        "id,currency,timezone\nacme,USD,America/New_York\nbad,USX,UTC\nworse,USD,Nowhere\n",
    )

    refused = store.refused(2, "customers", "import", customers, "--atomic")
    assert store.json("customers", "list") == []
    partial = store.run("customers", "import", customers)

    assert f"{customers}:3: currency: unknown ISO 4217 currency code 'USX'" in refused
    assert f"{customers}:4: timezone: unknown IANA time zone 'Nowhere'" in refused
    assert (partial.exit_code, partial.stdout) == (
        2,
        "1 created, 0 already stored, 2 rejected, 0 conflicts\n",
    )
    assert [c["id"] for c in store.json("customers", "list")] == ["acme"]


def test_a_differing_row_is_a_conflict_exit_4_and_nothing_moves(store: Store) -> None:
    store.acme()
    store.ok("customers", "add", "bolt", "--currency", "USD", "--timezone", "UTC")
    devices = store.file("d.csv", "id,customer,from\npump-1,bolt,2026-01-01\n")

    conflict = store.refused(4, "devices", "import", devices)

    assert (
        f"{devices}:2: conflict: 'pump-1' is stored with other values: owned by 'acme' from"
        " 2026-01-01T05:00:00+00:00; the file says 'bolt' from 2026-01-01T00:00:00+00:00"
        " (devices move gives a device another owner)" in conflict
    )
    assert store.json("devices", "list")[0]["owner"] == "acme"
    assert "--format: give csv or jsonl" in store.refused(
        2, "devices", "import", store.file("d.txt", "")
    )


def test_finalize_at_credit_notes_show_and_list_and_the_invoice_json(store: Store) -> None:
    store.acme()
    store.ok("bill-run", "--as-of", "2026-02-02T00:00:00Z", "--grace-hours", "72")
    opening, close = sorted(store.json("invoices", "list"), key=lambda i: i["issued_at"])
    assert (opening["status"], close["status"]) == ("finalized", "draft")
    later = datetime.fromisoformat(opening["finalized_at"])  # the same instant is not before

    too_early = store.refused(
        2, "invoices", "finalize", close["id"], "--at", "2026-02-03T00:00:00Z"
    )
    finalized = store.json("invoices", "finalize", close["id"], "--at", later.isoformat())
    store.ok("credit-notes", "create", finalized["number"], "--amount", "10.00", "--reason", "leak")
    store.ok("invoices", "pay", opening["number"], "--at", later.isoformat())
    notes = store.json("credit-notes", "list")
    note = store.json("credit-notes", "show", "CN-2026-000001")
    shown = store.json("invoices", "show", finalized["number"])
    paid = store.json("invoices", "show", opening["number"])
    table = store.ok("credit-notes", "show", "CN-2026-000001")

    assert (
        f"--at: must not be before {opening['finalized_at']}, when the last invoice of series"
        " INV-2026 was finalized (numbers follow the order of finalization)" in too_early
    )
    assert (finalized["number"], finalized["finalized_at"]) == (
        "INV-2026-000002",
        later.isoformat(),
    )
    # 10.00 credited with 8.875 % tax: 10.00 + 0.8875 -> 0.89 = 10.89
    assert [(n["number"], n["invoice"], n["total"]) for n in notes] == [
        ("CN-2026-000001", close["id"], "10.89")
    ]
    assert note == notes[0]
    assert shown["issued_credit_notes"] == notes and shown["credit_notes"] == "10.89"
    assert (shown["paid_at"], paid["paid_at"]) == (None, later.isoformat())
    assert paid["issued_credit_notes"] == []
    assert "Total credited" in table and "-10.89" in table
    assert "unknown credit note" in store.refused(3, "credit-notes", "show", "CN-2026-000009")


def test_invoices_export_gives_one_csv_row_per_line_of_the_invoices_finalized(
    store: Store,
) -> None:
    store.acme()
    store.ok("bill-run", "--as-of", "2026-02-02T00:00:00Z")
    invoices = {i["number"]: i for i in store.json("invoices", "list")}

    exported = store.ok("invoices", "export", "--from", "2026-01-01", "--to", "2100-01-01", "--csv")
    before = store.ok("invoices", "export", "--from", "2020-01-01", "--to", "2026-01-01")

    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [(row["number"], row["line"], row["kind"], row["amount"]) for row in rows] == [
        ("INV-2026-000001", "1", "fixed_fee", "31.00"),  # January in advance
        ("INV-2026-000002", "1", "usage", "7.88"),  # 15.75 m3 x 0.50 = 7.875
        ("INV-2026-000002", "2", "fixed_fee", "31.00"),  # February in advance
    ]
    assert rows[1]["customer"] == "acme" and rows[1]["tax_rate"] == "8.875"
    assert rows[1]["finalized_at"] == invoices["INV-2026-000002"]["finalized_at"]
    assert before.splitlines() == [",".join(EXPORT_COLUMNS)]  # the header only
    assert "--to: 2026-01-01T00:00:00+00:00 must be after from" in store.refused(
        2, "invoices", "export", "--from", "2026-02-01", "--to", "2026-01-01"
    )


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])

    assert result.exit_code == 0
    assert re.fullmatch(r"iotbill \d+\.\d+\.\d+\S*\n", result.stdout)
