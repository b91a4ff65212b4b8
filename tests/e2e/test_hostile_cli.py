"""Hostile input through the command line: exit 2 with the line and field, never a traceback,
and the lines after a bad one still read."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from iotbill.adapters.storage.sql.engine import create_engine_for
from iotbill.adapters.storage.sql.unit_of_work import sql_unit_of_work_factory
from iotbill.domain.customers import Customer, Device
from tests.conftest import run_iotbill

PLAN = """\
code: pump
currency: USD
interval: month
fixed_fees: [{{code: base, amount: {fee}}}]
meters: [{{code: water, event_type: pump.flow, aggregation: sum, property: m3}}]
charges: [{{code: water, meter: water, model: per_unit, unit_price: {price}}}]
"""
PLAIN = "is not a plain decimal number (like -12.50)"
BELOW = "must be below 1000000000000 in magnitude"


def event(id: str, **fields: object) -> str:
    base: dict[str, object] = {
        "id": id,
        "type": "pump.flow",
        "device": "pump-1",
        "timestamp": "2026-01-09T12:00:00Z",
        "properties": {"m3": 2},
    }
    base.update(fields)
    return json.dumps(base)


@pytest.fixture
def database(tmp_path: Path) -> str:
    """A migrated SQLite store with customer acme and its device pump-1."""
    path = str(tmp_path / "billing.db")
    assert run_iotbill("db", "upgrade", "--database", path).exit_code == 0
    engine = create_engine_for(path)
    with sql_unit_of_work_factory(engine)("default") as uow:
        uow.customers.add(
            Customer.create(id="acme", name="Acme", currency_code="USD", timezone="UTC")
        )
        uow.devices.add(Device.create("pump-1", "acme", datetime(2026, 1, 1, tzinfo=UTC)))
        uow.commit()
    engine.dispose()
    return path


@pytest.mark.parametrize(
    ("fee", "price", "field", "reason"),
    [
        ("31", '"1E+30"', "charges[0].unit_price", f"'1E+30' {PLAIN}"),
        ("31", "1E+999999", "charges[0].unit_price", f"1E+999999 {BELOW}"),
        ('"1E+30"', "1", "fixed_fees[0].amount", f"'1E+30' {PLAIN}"),
        ("1e400", "1", "fixed_fees[0].amount", f"1E+400 {BELOW}"),
    ],
)  # fmt: skip
def test_an_absurd_plan_number_is_refused_at_apply_and_preview(
    tmp_path: Path, database: str, fee: str, price: str, field: str, reason: str
) -> None:
    # Issue item 1: these were accepted (or crashed with a traceback) and later stopped
    # the bill run of the whole tenant.
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN.format(fee=fee, price=price))
    events = tmp_path / "events.jsonl"
    events.write_text(event("e1") + "\n")
    applied = run_iotbill("plans", "apply", str(plan), "--database", database)
    previewed = run_iotbill(
        "preview", "--plan", str(plan), "--events", str(events), "--from", "2026-01-01",
        "--to", "2026-02-01",
    )  # fmt: skip
    for result in (applied, previewed):
        assert result.exit_code == 2
        assert f"{plan}: {field}: {reason}" in result.stderr
        assert "Traceback" not in result.stderr


def test_hostile_lines_are_refused_with_line_and_field_and_the_rest_stored(
    tmp_path: Path, database: str
) -> None:
    deep = '{"x": ' + "[" * 1000 + "]" * 1000 + "}"
    lines = [
        event("e1"),
        event("e2").replace('{"m3": 2}', deep),  # issue item 4: stopped the whole ingest
        event("e\u00003"),  # item 2
        event("e4", timestamp="2026-01-31T23:59:59.9999995-05:00"),  # item 5
        event("e5", properties={"m3": " 2.5 "}),  # item 6: a meter refuses it
        event("e6").replace('"device": "pump-1"', '"device": "pump-1", "device": "pump-9"'),
        event("e7", timestamp="9999-12-31T23:59:59-23:59"),  # item 8
        event("e8", timestamp="2999-01-01T00:00:00Z"),  # item 8: clock skew
        event("e9", properties={"m3": "2.5"}),
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n")
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN.format(fee="31", price="0.5"))  # a meter reads m3: it checks it
    assert run_iotbill("plans", "apply", str(plan), "--database", database).exit_code == 0
    subscribed = run_iotbill(
        "subscriptions", "create", "--customer", "acme", "--plan", "pump", "--start",
        "2026-01-01", "--database", database,
    )  # fmt: skip
    assert subscribed.exit_code == 0
    result = run_iotbill("ingest", str(path), "--database", database, "--json")
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    assert report["accepted"] == 2
    reasons = {r["line"]: r["reason"] for r in report["rejected"]}
    assert sorted(reasons) == [2, 3, 4, 5, 6, 7, 8]
    assert reasons[2] == "properties: nested deeper than 32 levels of lists and objects"
    assert reasons[3] == "id: contains a NUL character (\\u0000), which is not allowed"
    assert reasons[4] == (
        "timestamp: has 7 fractional digits of a second; at most 6 (microseconds) are kept"
    )
    assert reasons[5] == (
        "properties.m3: ' 2.5 ' is not a plain decimal number (like -12.50) (meter 'water')"
    )
    assert reasons[6] == "device: named twice in one object (which one counts would be a guess)"
    assert reasons[7] == (
        "timestamp: 9999-12-31T23:59:59-23:59 is not before 9000-01-01T00:00:00+00:00 (UTC)"
    )
    assert reasons[8].startswith("timestamp: is ") and "allowed for clock skew" in reasons[8]


def test_a_device_stays_movable_after_an_instant_past_9999_was_sent(
    tmp_path: Path, database: str
) -> None:
    # Issue item 8: once such an event was stored, every move of the device failed.
    path = tmp_path / "events.jsonl"
    path.write_text(event("e1", timestamp="9999-12-31T23:59:59-23:59") + "\n")
    assert run_iotbill("ingest", str(path), "--database", database).exit_code == 2
    assert (
        run_iotbill(
            "customers",
            "add",
            "bolt",
            "--currency",
            "USD",
            "--timezone",
            "UTC",
            "--database",
            database,
        ).exit_code
        == 0
    )
    moved = run_iotbill(
        "devices", "move", "pump-1", "--to", "bolt", "--from", "2026-02-01", "--database", database
    )
    assert (moved.exit_code, moved.stderr) == (0, "")
    refused = run_iotbill(
        "devices", "move", "pump-1", "--to", "acme", "--from", "9999-12-31T23:59:59-23:59",
        "--database", database,
    )  # fmt: skip
    assert refused.exit_code == 2
    assert "--from: 9999-12-31T23:59:59-23:59 is not before 9000-01-01" in refused.stderr
