"""Tables a person can read at any width, and plain complete text when piped: amounts
never wrap or vanish, text wraps, details are trimmed, plurals agree, times name their zone.

The store is the demo's (three currencies, five invoices, tiers and packages)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from iotbill.entrypoints.cli import app

ANSI = re.compile(r"\x1b\[[0-9;]*m")
WIDTHS = (60, 80, 120)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The demo store: the store options of every command run on it."""
    database = tmp_path_factory.mktemp("demo") / "demo.db"
    made = CliRunner().invoke(app, ["demo", "--database", str(database)])
    assert made.exit_code == 0, made.output
    return ["--database", str(database), "--tenant", "demo"]


def _run(*args: str, width: int | None = None) -> str:
    """``iotbill ARGS``: on a terminal ``width`` columns wide, else piped."""
    env = {"COLUMNS": str(width), "TTY_COMPATIBLE": "1"} if width else {"TTY_COMPATIBLE": "0"}
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return ANSI.sub("", result.stdout)


def _invoices(demo: list[str]) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = json.loads(_run("invoices", "list", *demo, "--json"))
    return listed


def _whole(amount: str, text: str) -> bool:
    """Whether ``amount`` stands whole in a cell: right-aligned against the cell's edge."""
    return re.search(rf"(?<![\d.]){re.escape(amount)} [│|]", text) is not None


@pytest.mark.parametrize("width", [*WIDTHS, None])
def test_invoices_show_keeps_every_amount_whole(demo: list[str], width: int | None) -> None:
    for invoice in _invoices(demo):
        shown = _run("invoices", "show", invoice["number"], *demo, width=width)

        amounts = [invoice["subtotal"], invoice["tax"]["amount"], invoice["total"]]
        for line in invoice["lines"]:
            amounts += [line["quantity"], line["amount"], line["unit_price"] or line["amount"]]
        missing = [amount for amount in amounts if not _whole(amount, shown)]
        assert not missing, f"{invoice['number']} at width {width}: {missing}\n{shown}"
        if width is not None:
            assert all(len(row) <= width for row in shown.splitlines()), shown


@pytest.mark.parametrize("width", [*WIDTHS, None])
def test_invoices_list_keeps_every_total_whole(demo: list[str], width: int | None) -> None:
    invoices = _invoices(demo)

    listed = _run("invoices", "list", *demo, width=width)

    for invoice in invoices:
        assert _whole(f"{invoice['total']} {invoice['currency']}", listed), listed
        assert _whole(invoice["amount_due"], listed), listed
        assert invoice["number"] in listed


def test_piped_output_is_plain_and_each_cell_is_on_one_line(demo: list[str]) -> None:
    shown = _run("invoices", "show", "INV-2026-000002", *demo)

    assert "\x1b" not in shown
    assert not set("│┃━─") & set(shown)
    assert (
        "| Monitoring and maintenance (pump-outcome v1, 2026-02-01 to 2026-03-01, in advance) |"
        in shown
    )


def test_invoice_lines_show_their_arithmetic_trimmed(demo: list[str]) -> None:
    water = _run("invoices", "show", "INV-2026-000002", *demo)
    vending = _run("invoices", "show", "INV-2026-000005", *demo)

    # 1000 m3 at 0.50 in tier 1, 3662.813 m3 at 0.30 in tier 2: 500 + 1098.8439 = 1598.84
    assert "|   tier 1 (from 0 to 1000): 1000 x 0.5 = 500 " in water
    assert "|   tier 2 (from 1000): 3662.813 x 0.3 = 1098.8439 " in water
    # 500 transactions at 3 yen, 3032 at 2.5 yen: 1500 + 7580 = 9080
    assert "|   tier 2 (from 500): 3032 x 2.5 = 7580 " in vending
    assert "|   12 x 150 = 1800 (12 started package(s) of 100 units) " in vending


def test_times_carry_their_zone(demo: list[str]) -> None:
    shown = _run("invoices", "show", "INV-2026-000002", *demo)

    assert "Issued 2026-02-01 (America/Chicago)\n" in shown
    assert "Finalized 2026-02-01 06:00 (America/Chicago)\n" in shown


@pytest.mark.parametrize("width", WIDTHS)
def test_a_table_on_a_terminal_narrower_than_its_numbers_is_drawn_wider(width: int) -> None:
    from iotbill.entrypoints.cli.output import print_table, table

    shown = table("Readings", "Device", "Note", "Reading>", "Amount>")
    shown.add_row("pump-with-a-long-name-0001", "a note " * 30, "1234567.891", "99999999999.99")
    buffer = io.StringIO()

    print_table(shown, Console(file=buffer, width=width, force_terminal=True, color_system=None))

    text = buffer.getvalue()
    assert _whole("1234567.891", text) and _whole("99999999999.99", text)
    assert "pump-with-a-long-name-0001" in text


def test_plans_show_lists_the_tiers(tmp_path: Path) -> None:
    store = ["--database", str(tmp_path / "plans.db")]
    CliRunner().invoke(app, ["db", "upgrade", *store])
    CliRunner().invoke(app, ["plans", "apply", "examples/pump-outcome.yaml", *store])

    shown = _run("plans", "show", "pump-outcome", *store)

    assert "| base  | Monitoring and maintenance | fixed fee | advance" in shown
    assert "| 31.00  " in shown
    rows = [row for row in shown.splitlines() if row.startswith("| ")]
    prices = [row.rsplit("|", 2)[1].strip() for row in rows]
    assert prices[-3:] == ["graduated:", "0 to 100: 0.50 each", "above 100: 0.30 each"]
    assert "sum of m3 of pump.flow" in shown


def test_plans_show_names_the_meter_options_that_change_a_quantity(tmp_path: Path) -> None:
    store = ["--database", str(tmp_path / "plans.db")]
    CliRunner().invoke(app, ["db", "upgrade", *store])
    document = tmp_path / "options.yaml"
    document.write_text(
        """
code: options
currency: USD
interval: month
meters:
  - {code: sims, event_type: sim, aggregation: sum, property: change, recurring: true,
     allow_negative: true}
  - {code: peak, event_type: power, aggregation: max, property: kw, per: day}
  - {code: miles, event_type: trip, aggregation: sum, property: miles,
     cap: {per: day, max: 250}}
  - {code: data, event_type: upload, aggregation: sum, property: mb,
     rounding: {function: ceil}}
charges:
  - {code: sims, meter: sims, model: per_unit, unit_price: "2"}
  - {code: demand, meter: peak, model: per_unit, unit_price: "0.5"}
  - {code: mileage, meter: miles, model: per_unit, unit_price: "0.03"}
  - {code: data, meter: data, model: per_unit, unit_price: "0.01"}
"""
    )
    assert CliRunner().invoke(app, ["plans", "apply", str(document), *store]).exit_code == 0

    shown = _run("plans", "show", "options", *store, width=200)

    assert "sum of change of sim, recurring" in shown
    assert "max of kw of power, per day" in shown
    assert "sum of miles of trip, at most 250 per day" in shown
    assert "sum of mb of upload, rounded up to 0 decimals" in shown


def test_bill_run_lists_each_invoice_with_customer_and_total(tmp_path: Path) -> None:
    store = ["--database", str(tmp_path / "run.db")]
    for command in (
        ["db", "upgrade"],
        ["plans", "apply", "examples/pump-outcome.yaml"],
        ["customers", "add", "acme", "--currency", "USD", "--timezone", "America/New_York"],
        ["devices", "add", "pump-001", "--customer", "acme", "--from", "2025-12-01"],
        ["devices", "add", "pump-002", "--customer", "acme", "--from", "2025-12-01"],
        ["subscriptions", "create", "--customer", "acme", "--plan", "pump-outcome"],
    ):
        if command[0] == "subscriptions":
            command += ["--start", "2026-01-01"]
        assert CliRunner().invoke(app, [*command, *store]).exit_code == 0
    ingested = _run("ingest", "examples/pump-events.jsonl", *store)

    ran = _run("bill-run", "--as-of", "2026-02-02T00:00:00Z", "--grace-hours", "72", *store)

    assert ingested == "157 accepted, 1 duplicate, 0 conflicts, 0 rejected\n"
    assert ran.startswith("2 invoices issued, 0 drafts revised, 1 finalized\n")
    rows = [re.split(r"\s*\|\s*", row.strip("| ")) for row in ran.splitlines()[5:-1]]
    assert rows == [
        [
            "sub-000001/close/2026-01-01T05:00:00+00:00",
            "draft",
            "acme",
            "2026-01-01 to 2026-02-01",
            "133.65 USD",
        ],
        ["INV-2026-000001", "finalized", "acme", "2026-01-01 to 2026-02-01", "31.00 USD"],
    ]


def test_plans_show_gives_the_commitment(tmp_path: Path) -> None:
    store = ["--database", str(tmp_path / "plans.db")]
    CliRunner().invoke(app, ["db", "upgrade", *store])
    CliRunner().invoke(app, ["plans", "apply", "examples/models/outcome-commitment.yaml", *store])

    shown = _run("plans", "show", "water-outcome", *store)

    assert shown.endswith(
        "Minimum commitment of its charges: 100.00 a period\n"
        "Maximum of its charges: 400.00 a period\n"
        "Versions: 1\n"
    )
