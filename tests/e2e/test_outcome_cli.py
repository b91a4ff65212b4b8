"""Pay per mile and outcome commitments from the command line, on SQLite.

The template plans are applied as a business would apply them, events are
ingested from JSON Lines, and bill runs close the months; the invoices' lines
are checked to the cent. A bill run killed part-way (SIGKILL) and run again
bills each commitment true-up once.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import ROOT, run_iotbill
from tests.e2e.test_bill_run_killed import CHILD
from tests.e2e.test_billing_cli import Store

TEMPLATES = ROOT / "examples" / "models"
CHICAGO = ZoneInfo("America/Chicago")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path)


def event_lines(events: list[tuple[str, str, datetime, dict[str, int]]]) -> str:
    """JSON Lines of ``(device, type, instant, properties)``, with ids e1, e2, ..."""
    return "".join(
        json.dumps(
            {
                "id": f"e{number}",
                "type": kind,
                "device": device,
                "timestamp": at.isoformat(),
                "properties": properties,
            }
        )
        + "\n"
        for number, (device, kind, at, properties) in enumerate(events, start=1)
    )


def summary(invoice: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(line["kind"], line["charge"], line["amount"]) for line in invoice["lines"]]


def chicago(month: int, day: int, hour: int = 12) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=CHICAGO)


def test_pay_per_mile_bills_46_00_for_500_miles_and_caps_a_400_mile_day(store: Store) -> None:
    store.ok("plans", "apply", str(TEMPLATES / "pay-per-mile.yaml"))
    store.ok("customers", "add", "dana", "--currency", "USD", "--timezone", "America/Chicago")
    store.ok("devices", "add", "car-1", "--customer", "dana", "--from", "2026-03-01")
    store.ok(
        "subscriptions", "create", "--customer", "dana", "--plan", "pay-per-mile",
        "--start", "2026-03-01",
    )  # fmt: skip
    trips = [(chicago(3, 2), 100), (chicago(3, 8), 250), (chicago(3, 15), 150)]
    trips += [(chicago(4, 10, 8), 300), (chicago(4, 10, 18), 100), (chicago(4, 20, 23), 200)]
    trips += [(chicago(4, 21, 1), 200)]
    events = [("car-1", "car.trip", at, {"miles": miles}) for at, miles in trips]
    events += [("car-1", "car.harsh_brake", chicago(4, 10, 9), {})] * 12
    store.ok("ingest", store.plan_file(event_lines(events), "trips.jsonl"))
    for month_end in ("2026-04-01T05:00:00Z", "2026-05-01T05:00:00Z"):  # Chicago midnights
        store.ok("bill-run", "--as-of", month_end, "--grace-hours", "0")

    listed = store.json("invoices", "list")
    (opening,) = [invoice for invoice in listed if "/close/" not in invoice["id"]]
    march, april = sorted(
        (invoice for invoice in listed if "/close/" in invoice["id"]), key=lambda i: i["id"]
    )
    assert summary(opening) == [("fixed_fee", "base", "30.00")]
    # 500 miles x 0.032 = 16.00, and April's base rate: 46.00.
    assert summary(march) == [("usage", "mileage", "16.00"), ("fixed_fee", "base", "30.00")]
    assert march["total"] == "46.00"
    # 10 April's 400 miles count 250; 250 + 200 + 200 = 650 x 0.032 = 20.80, x 1.15 (1.5 harsh
    # brakes per 100 miles driven) = 23.92.
    assert summary(april) == [("usage", "mileage", "23.92"), ("fixed_fee", "base", "30.00")]
    assert april["lines"][0]["quantity"] == "650"
    kinds = [detail["kind"] for detail in april["lines"][0]["detail"]]
    assert kinds == ["window_cap", "units", "risk_factor"]
    assert april["lines"][0]["detail"][2]["factor"] == "1.15"


def commitment_store(store: Store) -> None:
    """Four UTC customers on the outcome-commitment plan from 1 January 2026, whose January
    water is 0, 100, 300 and 1,000 m3."""
    store.ok("plans", "apply", str(TEMPLATES / "outcome-commitment.yaml"))
    events = []
    for number, m3 in enumerate((0, 100, 300, 1000)):
        customer = f"c{number}"
        store.ok("customers", "add", customer, "--currency", "USD", "--timezone", "UTC")
        store.ok("devices", "add", f"p{number}", "--customer", customer, "--from", "2026-01-01")
        store.ok(
            "subscriptions", "create", "--customer", customer, "--plan", "water-outcome",
            "--start", "2026-01-01",
        )  # fmt: skip
        events.append(
            (f"p{number}", "pump.flow", datetime.fromisoformat("2026-01-15T00:00Z"), {"m3": m3})
        )
    store.ok("ingest", store.plan_file(event_lines(events), "water.jsonl"))


def test_a_killed_bill_run_run_again_bills_each_true_up_once(store: Store) -> None:
    commitment_store(store)
    child = subprocess.run(
        [sys.executable, "-c", CHILD, store.url, "after-first-batch", "1"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert len(store.json("invoices", "list")) == 2  # the first customer's, whole
    again = run_iotbill("bill-run", "--as-of", "2026-02-01T12:00:00Z", "--database", store.url)
    assert again.exit_code == 0, again.stderr

    listed = store.json("invoices", "list")
    ids = [invoice["id"] for invoice in listed]
    assert len(ids) == len(set(ids)) == 8  # an opening and a close each
    closes = {
        invoice["customer"]: summary(invoice) for invoice in listed if "/close/" in invoice["id"]
    }
    monitoring = ("fixed_fee", "monitoring", "25.00")  # February's, in advance
    true_up = ("commitment", "minimum_commitment")
    assert closes == {
        # No water: the whole commitment of 100.00 is billed as a true-up.
        "c0": [("usage", "water", "0.00"), (*true_up, "100.00"), monitoring],
        # 100 m3 x 0.50 = 50.00 of water: a true-up of 50.00.
        "c1": [("usage", "water", "50.00"), (*true_up, "50.00"), monitoring],
        # 150.00: between the commitment and the maximum.
        "c2": [("usage", "water", "150.00"), monitoring],
        # 500.00, above the maximum of 400.00: -100.00 credited.
        "c3": [("usage", "water", "500.00"), ("commitment", "maximum", "-100.00"), monitoring],
    }  # fmt: skip
    numbers = sorted(invoice["number"] for invoice in listed)
    assert numbers == [f"INV-2026-{n:06d}" for n in range(1, 9)]


def test_a_malformed_plan_is_refused_whole_naming_every_field(store: Store) -> None:
    text = (TEMPLATES / "pay-per-mile.yaml").read_text()
    broken = (
        text.replace("cap: {per: day, max: 250}", "cap: {per: fortnight, max: 250}")
        .replace("{up_to: 3, factor", "{up_to: 0.5, factor")
        .replace("interval: month", 'interval: month\nminimum_commitment: "-5"')
    )
    path = store.plan_file(broken, "miles.yaml")
    refused = store.refused(2, "plans", "apply", path).replace(path, "miles.yaml")
    # One error, every problem on a line of its own.
    assert refused.splitlines() == [
        "error: miles.yaml: meters[0].cap.per: must be one of day, hour, not 'fortnight'",
        "miles.yaml: charges[0].risk_factor.table[1].up_to: must be greater than 1 (bounds ascend)",
        "miles.yaml: minimum_commitment: must be greater than 0, not -5",
    ]
    assert store.json("plans", "list") == []
