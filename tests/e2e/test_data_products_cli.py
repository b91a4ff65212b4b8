"""Data monetization from the command line, on SQLite: consent, a k-anonymous export billed
per record on the buyer's invoice, the owners credited their share, and refusals that
store nothing."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow.parquet as pq

from tests.e2e.test_billing_cli import Store

OWNERS_PLAN = """\
code: energy-monitor
name: Building energy monitor
model: data_monetization
currency: USD
interval: month
fixed_fees:
  - {code: monitoring, name: Monitoring, amount: "5.00", timing: arrears}
"""
BUYER_PLAN = """\
code: grid-data
name: Grid operator data feed
model: data_monetization
currency: USD
interval: month
fixed_fees:
  - {code: access, name: Data access, amount: "20.00", timing: arrears}
meters:
  - {code: energy, name: Energy, event_type: energy.reading, aggregation: sum, property: kwh}
data_products:
  - code: energy-hourly
    name: Energy by region, hourly
    meter: energy
    group_by: region
    bucket: hour
    k: 2
    price: "0.25"
    owner_share: 40
"""
OTHER_PLAN = (
    BUYER_PLAN.replace("grid-data", "insurer-data")
    .replace("energy-hourly", "energy-daily")
    .replace("bucket: hour", "bucket: day")
)
READINGS = [  # (device, time on 10 January, region, kWh)
    ("m-ann", "00:10", "north", "1.5"),
    ("m-ann", "00:40", "north", "0.5"),
    ("m-bob", "00:20", "north", "2.0"),
    ("m-cat", "00:30", "south", "3.0"),  # before cat consents: never exported
    ("m-ann", "01:05", "north", "1.0"),
    ("m-bob", "01:10", "north", "1.0"),  # before bob withdraws at 01:30
    ("m-cat", "01:20", "north", "1.0"),
    ("m-ann", "02:05", "north", "1.0"),  # alone in its hour: suppressed
    ("m-bob", "02:10", "north", "9.0"),  # after bob withdrew
]


def _setup(store: Store) -> None:
    store.ok("plans", "apply", store.plan_file(OWNERS_PLAN, "owners.yaml"))
    store.ok("plans", "apply", store.plan_file(BUYER_PLAN, "buyer.yaml"))
    store.ok("plans", "apply", store.plan_file(OTHER_PLAN, "other.yaml"))
    for owner in ("ann", "bob", "cat"):
        store.ok("customers", "add", owner, "--currency", "USD", "--timezone", "UTC")
        store.ok("devices", "add", f"m-{owner}", "--customer", owner, "--from", "2026-01-01")
        store.ok("subscriptions", "create", "--customer", owner, "--plan", "energy-monitor",
                 "--start", "2026-01-01")  # fmt: skip
    for buyer, plan in (("gridco", "grid-data"), ("insureco", "insurer-data")):
        store.ok("customers", "add", buyer, "--currency", "USD", "--timezone", "UTC")
        store.ok("subscriptions", "create", "--customer", buyer, "--plan", plan,
                 "--start", "2026-01-01")  # fmt: skip
    lines = [  # kWh written as JSON numbers, read exactly
        json.dumps({"id": f"r{number}", "type": "energy.reading", "device": device,
                    "timestamp": f"2026-01-10T{time}:00Z",
                    "properties": {"kwh": "KWH", "region": region}}).replace('"KWH"', kwh)
        for number, (device, time, region, kwh) in enumerate(READINGS)
    ]  # fmt: skip
    store.ok("ingest", store.plan_file("\n".join(lines) + "\n", "readings.jsonl"))


def test_an_export_delivers_k_anonymous_consented_cells_billed_and_shared(tmp_path: Path) -> None:
    store = Store(tmp_path)
    _setup(store)
    store.ok("consent", "give", "m-ann", "--at", "2026-01-01")
    store.ok("consent", "give", "m-bob", "--at", "2026-01-01")
    assert store.ok("consent", "withdraw", "m-bob", "--at", "2026-01-10T01:30:00Z") == (
        "m-bob: data may be sold from 2026-01-01T00:00:00+00:00 until 2026-01-10T01:30:00+00:00\n"
    )
    store.ok("consent", "give", "m-cat", "--at", "2026-01-10T01:00:00Z")

    output = tmp_path / "energy.csv"
    text = store.ok(
        "data", "export", "--product", "energy-hourly", "--buyer", "gridco",
        "--from", "2026-01-10", "--to", "2026-01-11", "--format", "csv",
        "--output", str(output), "--at", "2026-01-20T09:00:00Z",
    )  # fmt: skip
    assert text == (
        f"gridco/export/1: 2 records of energy-hourly written to {output}, 1 cell "
        "suppressed; 0.50 USD billed to gridco\n"
    )
    with output.open() as file:
        rows = list(csv.DictReader(file))
    # 00h north: ann 1.5 + 0.5 and bob 2.0 (2 owners); 01h north: ann, bob (before his
    # withdrawal) and cat (after her consent), 1.0 each; 02h north: ann alone, suppressed;
    # 00h south: cat before she consented, never counted.
    assert rows == [
        {"product": "energy-hourly", "group": "north", "bucket": "2026-01-10T00:00:00+00:00",
         "value": "4", "events": "3", "owners": "2"},
        {"product": "energy-hourly", "group": "north", "bucket": "2026-01-10T01:00:00+00:00",
         "value": "3", "events": "3", "owners": "3"},
    ]  # fmt: skip

    # 2 records x 0.25 = 0.50 USD = 50 cents; 40 % is a pool of 20 cents, shared by the
    # events contributed (ann 3, bob 2, cat 1 of 6): floor(20 x 3/6) = 10, floor(6.67) = 6,
    # floor(3.33) = 3 cents; the operator keeps 50 - 19 = 31 cents.
    history = {
        owner: [(e["debit"], e["credit"], e["amount"]) for e in store.json("credits", "history",
                                                                             owner)]
        for owner in ("ann", "bob", "cat", "gridco")
    }  # fmt: skip
    assert history == {
        "ann": [
            ("data_sales", "customer:ann:revenue_share", "0.10"),
            ("customer:ann:revenue_share", "customer:ann:receivable", "0.10"),
        ],
        "bob": [
            ("data_sales", "customer:bob:revenue_share", "0.06"),
            ("customer:bob:revenue_share", "customer:bob:receivable", "0.06"),
        ],
        "cat": [
            ("data_sales", "customer:cat:revenue_share", "0.03"),
            ("customer:cat:revenue_share", "customer:cat:receivable", "0.03"),
        ],
        "gridco": [  # its own receivable alone: the owners' pool is not the buyer's to see
            ("customer:gridco:receivable", "data_sales", "0.50"),
        ],
    }

    again = store.json(
        "data", "export", "--product", "energy-hourly", "--buyer", "gridco",
        "--from", "2026-01-10", "--to", "2026-01-11", "--format", "parquet",
        "--output", str(tmp_path / "energy.parquet"), "--id", "gridco/export/1",
    )  # fmt: skip
    assert (again["repeated"], again["records"], again["owners"]) == (True, 2, [])
    table = pq.read_table(tmp_path / "energy.parquet").to_pylist()
    assert [(row["group"], str(row["value"]), row["owners"]) for row in table] == [
        ("north", "4.000000000", 2),
        ("north", "3.000000000", 3),
    ]
    assert len(store.json("data", "exports")) == 1  # billed once

    store.ok("bill-run", "--as-of", "2026-02-01T00:00:00Z")
    invoices = {invoice["customer"]: invoice for invoice in store.json("invoices", "list")}
    lines = {
        customer: ([(line["description"], line["amount"]) for line in invoice["lines"]],
                   invoice["total"])
        for customer, invoice in invoices.items()
    }  # fmt: skip
    credit = "40 % share of data export gridco/export/1"  # a credit line, before tax
    assert lines == {
        "ann": ([("Monitoring", "5.00"), (credit, "-0.10")], "4.90"),
        "bob": ([("Monitoring", "5.00"), (credit, "-0.06")], "4.94"),
        "cat": ([("Monitoring", "5.00"), (credit, "-0.03")], "4.97"),
        "gridco": (
            [("Data access", "20.00"),
             ("Data export gridco/export/1: Energy by region, hourly", "0.50")],
            "20.50",
        ),
        "insureco": ([("Data access", "20.00")], "20.00"),  # no export, no record billed
    }  # fmt: skip


def test_bad_input_is_refused_with_its_field_and_nothing_is_stored(tmp_path: Path) -> None:
    store = Store(tmp_path)
    _setup(store)
    refused = store.refused(
        2, "plans", "apply", store.plan_file(BUYER_PLAN.replace("k: 2", "k: 1"), "k1.yaml")
    )
    assert "data_products[0].k: must be at least 2, not 1" in refused
    store.ok("consent", "give", "m-ann", "--at", "2026-01-05")
    assert store.refused(2, "consent", "withdraw", "m-ann", "--at", "2026-01-04") == (
        "error: --at: must be after the consent was given (2026-01-05T00:00:00+00:00)\n"
    )
    assert store.json("consent", "list") == [
        {"device": "m-ann", "given_at": "2026-01-05T00:00:00+00:00", "withdrawn_at": None}
    ]
    assert "consents already" in store.refused(4, "consent", "give", "m-ann", "--at", "2026-01-06")
    output = tmp_path / "stolen.csv"
    assert store.refused(
        2, "data", "export", "--product", "energy-hourly", "--buyer", "insureco",
        "--from", "2026-01-10", "--to", "2026-01-11", "--output", str(output),
    ) == (
        "error: --product: buyer 'insureco' does not hold product 'energy-hourly' "
        "(it holds: energy-daily)\n"
    )  # fmt: skip
    assert not output.exists() and not list(tmp_path.glob(".stolen*"))
    assert store.refused(
        2, "data", "export", "--product", "energy-daily", "--buyer", "insureco",
        "--from", "2026-01-11", "--to", "2026-01-10", "--format", "xml", "--output", str(output),
    ) == (
        "error: --format: must be one of csv, jsonl, parquet, not 'xml'\n"
        "--to: must be after the start (2026-01-11T00:00:00+00:00), not "
        "2026-01-10T00:00:00+00:00\n"
    )  # fmt: skip
    missing = tmp_path / "no-such-folder" / "energy.csv"
    assert store.refused(
        2, "data", "export", "--product", "energy-daily", "--buyer", "insureco",
        "--from", "2026-01-10", "--to", "2026-01-11", "--output", str(missing),
    ) == f"error: --output: '{missing}' cannot be written: No such file or directory\n"  # fmt: skip
    assert store.json("data", "exports") == []
    assert store.json("credits", "history", "ann") == []
