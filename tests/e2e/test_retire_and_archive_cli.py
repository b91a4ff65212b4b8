"""``iotbill devices retire`` and ``plans archive``: listed as such, refused for new use."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from iotbill.entrypoints.cli import app


def _run(store: list[str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [*args, *store])
    return result.exit_code, result.stdout, result.stderr


def test_a_retired_device_is_listed_as_retired_and_its_later_usage_refused(
    tmp_path: Path,
) -> None:
    store = ["--database", str(tmp_path / "store.db")]
    for command in (
        ["db", "upgrade"],
        ["customers", "add", "acme", "--currency", "USD", "--timezone", "America/New_York"],
        ["devices", "add", "pump-1", "--customer", "acme", "--from", "2026-01-01"],
    ):
        assert _run(store, *command)[0] == 0
    events = tmp_path / "events.jsonl"
    events.write_text(
        '{"id": "e1", "type": "pump.flow", "device": "pump-1",'
        ' "timestamp": "2026-02-28T12:00:00Z", "properties": {"m3": 1}}\n'
        '{"id": "e2", "type": "pump.flow", "device": "pump-1",'
        ' "timestamp": "2026-03-01T05:00:00Z", "properties": {"m3": 1}}\n'
    )

    retired = _run(store, "devices", "retire", "pump-1", "--at", "2026-03-01")
    listed = json.loads(_run(store, "devices", "list", "--json")[1])
    table = _run(store, "devices", "list")[1]
    ingested = _run(store, "ingest", str(events))
    again = _run(store, "devices", "retire", "pump-1")
    unknown = _run(store, "devices", "retire", "pump-9")

    assert retired == (
        0,
        "retired device pump-1 from 2026-03-01T05:00:00+00:00; usage it reports from then on"
        " is refused\n",
        "",
    )
    assert listed[0]["retired_at"] == "2026-03-01T05:00:00+00:00"
    assert "| 2026-03-01 (America/New_York) |" in table
    assert ingested == (
        2,
        "1 accepted, 0 duplicates, 0 conflicts, 1 rejected\n",
        f"{events}:2: timestamp: device 'pump-1' is retired since 2026-03-01T05:00:00+00:00:"
        " it reports no usage from then on\n",
    )
    assert again[0] == 4 and "device 'pump-1' is retired already" in again[2]
    assert unknown == (3, "", "error: unknown device 'pump-9'\n")


def test_an_archived_plan_is_listed_as_archived_and_takes_no_new_subscription(
    tmp_path: Path,
) -> None:
    store = ["--database", str(tmp_path / "store.db")]
    for command in (
        ["db", "upgrade"],
        ["plans", "apply", "examples/pump-outcome.yaml"],
        ["customers", "add", "acme", "--currency", "USD", "--timezone", "UTC"],
        ["subscriptions", "create", "--customer", "acme", "--plan", "pump-outcome"],
    ):
        if command[0] == "subscriptions":
            command += ["--start", "2026-01-01"]
        assert _run(store, *command)[0] == 0

    archived = _run(store, "plans", "archive", "pump-outcome", "--at", "2026-01-15T00:00:00Z")
    listed = json.loads(_run(store, "plans", "list", "--json")[1])
    refused = _run(
        store, "subscriptions", "create", "--customer", "acme", "--plan", "pump-outcome",
        "--start", "2026-02-01",
    )  # fmt: skip
    again = _run(store, "plans", "archive", "pump-outcome")

    assert archived == (
        0,
        "archived plan pump-outcome from 2026-01-15T00:00:00+00:00: no new subscriptions;"
        " those on it keep billing\n",
        "",
    )
    assert listed[0]["archived_at"] == "2026-01-15T00:00:00+00:00"
    assert refused == (
        2,
        "",
        "error: --plan: plan 'pump-outcome' is archived since 2026-01-15T00:00:00+00:00: it"
        " takes no new subscriptions\n",
    )
    assert again[0] == 4
