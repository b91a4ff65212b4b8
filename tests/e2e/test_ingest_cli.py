"""``iotbill db upgrade``, ``tenants`` and ``ingest`` as a user runs them (SQLite file)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from iotbill.adapters.storage.sql.engine import create_engine_for
from iotbill.adapters.storage.sql.unit_of_work import sql_unit_of_work_factory
from iotbill.domain.customers import Customer, Device
from tests.conftest import run_iotbill

GOOD = [
    '{"id": "e1", "type": "pump.flow", "device": "pump-1", "timestamp": "2026-01-02T00:00:00Z", '
    '"properties": {"m3": 2.5}}',
    '{"id": "e2", "type": "pump.flow", "device": "pump-1", "timestamp": "2026-01-03T00:00:00Z", '
    '"properties": {"m3": 0.1}}',
]
UNKNOWN_DEVICE = (
    '{"id": "e3", "type": "pump.flow", "device": "pump-9", "timestamp": "2026-01-03T00:00:00Z"}'
)
NAIVE_TIME = (
    '{"id": "e4", "type": "pump.flow", "device": "pump-1", "timestamp": "2026-01-03T00:00:00"}'
)


@pytest.fixture
def database(tmp_path: Path) -> str:
    """A migrated SQLite store with customer acme-1 and its device pump-1."""
    path = str(tmp_path / "billing.db")
    assert run_iotbill("db", "upgrade", "--database", path).exit_code == 0
    engine = create_engine_for(path)
    with sql_unit_of_work_factory(engine)("default") as uow:
        uow.customers.add(
            Customer.create(id="acme-1", name="Acme", currency_code="USD", timezone="UTC")
        )
        uow.devices.add(Device.create("pump-1", "acme-1", datetime(2026, 1, 1, tzinfo=UTC)))
        uow.commit()
    engine.dispose()
    return path


def _stored(database: str) -> int:
    engine = create_engine_for(database)
    with sql_unit_of_work_factory(engine)("default") as uow:
        count = uow.events.count()
    engine.dispose()
    return count


def _file(tmp_path: Path, *lines: str) -> str:
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_reingesting_a_file_changes_nothing(tmp_path: Path, database: str) -> None:
    events = _file(tmp_path, *GOOD, UNKNOWN_DEVICE, "{not json", NAIVE_TIME)
    first = run_iotbill("ingest", events, "--database", database, "--json")
    again = run_iotbill("ingest", events, "--database", database, "--json")
    assert (first.exit_code, again.exit_code) == (2, 2)
    assert json.loads(first.stdout)["accepted"] == 2
    report = json.loads(again.stdout)
    assert (report["accepted"], report["duplicates"]) == (0, 2)
    assert [r["line"] for r in report["rejected"]] == [3, 4, 5]
    assert "unknown device 'pump-9'" in report["rejected"][0]["reason"]
    assert report["rejected"][1]["reason"].startswith("not valid JSON")
    assert report["rejected"][2]["reason"].startswith("timestamp: must include a UTC offset")
    assert _stored(database) == 2


def test_atomic_stores_nothing_when_a_line_is_rejected(tmp_path: Path, database: str) -> None:
    events = _file(tmp_path, *GOOD, UNKNOWN_DEVICE)
    result = run_iotbill("ingest", events, "--atomic", "--database", database)
    assert result.exit_code == 2
    assert (
        "0 accepted, 0 duplicates, 0 conflicts, 1 rejected (--atomic: nothing stored)"
        in result.stdout
    )
    assert f"{events}:3: device: unknown device 'pump-9'" in result.stderr
    assert _stored(database) == 0


def test_standard_input_and_a_quiet_pipe(database: str) -> None:
    result = run_iotbill("ingest", "-", "--database", database, stdin="\n".join(GOOD) + "\n")
    assert (result.exit_code, result.stdout, result.stderr) == (
        0,
        "2 accepted, 0 duplicates, 0 conflicts, 0 rejected\n",
        "",
    )


def test_tenants_and_an_unknown_tenant(tmp_path: Path, database: str) -> None:
    added = run_iotbill("tenants", "add", "acme", "--name", "Acme", "--database", database)
    listed = run_iotbill("tenants", "list", "--database", database, "--json")
    unknown = run_iotbill(
        "ingest", _file(tmp_path, *GOOD), "--tenant", "nope", "--database", database
    )
    assert added.exit_code == 0
    assert json.loads(listed.stdout) == [
        {"code": "acme", "name": "Acme", "credits": "after_tax"},
        {"code": "default", "name": "Default tenant", "credits": "after_tax"},
    ]
    assert unknown.exit_code == 3
    assert "unknown tenant 'nope'" in unknown.stderr


def test_a_store_without_schema_asks_for_an_upgrade(tmp_path: Path) -> None:
    result = run_iotbill("ingest", _file(tmp_path, *GOOD), "--database", str(tmp_path / "new.db"))
    assert result.exit_code == 4
    assert "run `iotbill db upgrade`" in result.stderr


def test_a_changed_event_is_a_conflict_reported_with_its_line(
    tmp_path: Path, database: str
) -> None:
    first = run_iotbill("ingest", _file(tmp_path, *GOOD), "--database", database)
    assert first.exit_code == 0
    changed = json.loads(GOOD[1])
    changed["properties"] = {"m3": 7}
    events = _file(tmp_path, GOOD[0], json.dumps(changed))
    result = run_iotbill("ingest", events, "--database", database)
    assert result.exit_code == 2
    assert "0 accepted, 1 duplicate, 1 conflict, 0 rejected" in result.stdout
    assert f"{events}:2: id: {changed['id']!r} is the id of an event stored before" in result.stderr
    report = json.loads(run_iotbill("ingest", events, "--database", database, "--json").stdout)
    assert [(c["line"], c["id"], c["first_line"]) for c in report["conflicts"]] == [
        (2, changed["id"], None)
    ]
    assert _stored(database) == 2


def test_the_first_fifty_problems_are_shown_in_line_order_and_the_rest_counted(
    tmp_path: Path, database: str
) -> None:
    """Rejections and conflicts interleaved: the first 50 of the 60, by line, then a count."""
    lines = []
    for number in range(30):
        event = {"id": f"x{number}", "type": "pump.flow", "device": "pump-1"}
        event["timestamp"] = f"2026-01-02T00:00:{number:02}Z"
        lines.append(json.dumps(event))
        lines.append(json.dumps({**event, "device": "pump-9"}))  # unknown device: rejected
        lines.append(json.dumps({**event, "properties": {"m3": 1}}))  # same id: a conflict
    result = run_iotbill("ingest", _file(tmp_path, *lines), "--database", database)
    assert result.exit_code == 2
    assert "30 accepted, 0 duplicates, 30 conflicts, 30 rejected" in result.stdout
    shown = result.stderr.splitlines()
    assert [int(line.split(":")[1]) for line in shown[:50]] == [
        line for line in range(1, 76) if line % 3 != 1
    ]
    assert "unknown device" in shown[0] and "is the id of the event of line 1" in shown[1]
    assert shown[50:] == ["... and 10 more"]
