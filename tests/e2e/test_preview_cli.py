"""``iotbill preview`` as a user meets it: good runs, bad input, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_iotbill

PLAN = """\
code: p
name: Pump
currency: USD
interval: month
meters:
  - {code: water, event_type: pump.flow, aggregation: sum, property: m3}
charges:
  - {code: water, meter: water, model: per_unit, unit_price: 0.1}
"""
GOOD_EVENT = (
    '{"id":"a","type":"pump.flow","device":"p1","timestamp":"2026-01-05T00:00:00Z",'
    '"properties":{"m3":3}}'
)


def write(folder: Path, plan: str, *events: str) -> tuple[str, str]:
    plan_file = folder / "plan.yaml"
    plan_file.write_text(plan)
    events_file = folder / "events.jsonl"
    events_file.write_text("".join(line + "\n" for line in events))
    return str(plan_file), str(events_file)


def preview(plan: str, events: str, *extra: str):
    return run_iotbill(
        "preview", "--plan", plan, "--events", events, "--from", "2026-01-01",
        "--to", "2026-02-01", *extra,
    )  # fmt: skip


def assert_bad_input(result, *fragments: str) -> None:
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def test_yaml_number_price_is_taken_exactly(tmp_path: Path) -> None:
    result = preview(*write(tmp_path, PLAN, GOOD_EVENT), "--json")
    assert result.exit_code == 0, result.stderr
    (line,) = json.loads(result.stdout)["lines"]
    assert line["unit_price"] == "0.1"
    assert line["detail"][0]["amount"] == "0.3"  # a binary float would give 0.30000000000000004
    assert line["amount"] == "0.30"


def test_readable_table_without_json(tmp_path: Path) -> None:
    result = preview(*write(tmp_path, PLAN, GOOD_EVENT))
    assert result.exit_code == 0, result.stderr
    assert "Total" in result.stdout and "0.30" in result.stdout
    assert "1 counted, 0 duplicates, 0 conflicts" in result.stdout


def test_repeated_event_id_is_counted_once_and_reported(tmp_path: Path) -> None:
    conflicting = GOOD_EVENT.replace('"m3":3', '"m3":30')
    result = preview(*write(tmp_path, PLAN, GOOD_EVENT, GOOD_EVENT, conflicting), "--json")
    assert result.exit_code == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["events"] == {"counted": 1, "duplicates": 1, "conflicts": 1}
    assert output["lines"][0]["quantity"] == "3"
    assert "events.jsonl:3: event id 'a' repeats line 1" in result.stderr


def test_events_from_standard_input(tmp_path: Path) -> None:
    plan, _ = write(tmp_path, PLAN)
    result = run_iotbill(
        "preview", "--plan", plan, "--events", "-", "--from", "2026-01-01", "--to", "2026-02-01",
        "--json", stdin=GOOD_EVENT + "\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["total"] == "0.30"


def test_malformed_json_line(tmp_path: Path) -> None:
    result = preview(*write(tmp_path, PLAN, GOOD_EVENT, '{"id": "b", "type": '))
    assert_bad_input(result, "events.jsonl:2", "not valid JSON")


def test_naive_timestamp(tmp_path: Path) -> None:
    naive = GOOD_EVENT.replace("2026-01-05T00:00:00Z", "2026-01-05T00:00:00")
    result = preview(*write(tmp_path, PLAN, GOOD_EVENT.replace('"a"', '"z"'), naive))
    assert_bad_input(result, "events.jsonl:2: timestamp", "UTC offset")


def test_every_bad_line_is_reported(tmp_path: Path) -> None:
    missing_type = '{"id":"c","device":"p1","timestamp":"2026-01-05T00:00:00Z"}'
    empty_id = GOOD_EVENT.replace('"id":"a"', '"id":""')
    result = preview(*write(tmp_path, PLAN, missing_type, GOOD_EVENT, empty_id))
    assert_bad_input(result, "events.jsonl:1: type: is required", "events.jsonl:3: id")


def test_negative_value_where_meter_forbids_it(tmp_path: Path) -> None:
    negative = GOOD_EVENT.replace('"m3":3', '"m3":-2.5')
    result = preview(*write(tmp_path, PLAN, negative))
    assert_bad_input(result, "events.jsonl:1: properties.m3", "negative value -2.5")


def test_negative_value_where_meter_allows_it(tmp_path: Path) -> None:
    plan = PLAN.replace("property: m3}", "property: m3, allow_negative: true}")
    negative = GOOD_EVENT.replace('"m3":3', '"m3":-2.5')
    result = preview(*write(tmp_path, plan, negative), "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["total"] == "-0.25"


def test_too_many_fractional_digits(tmp_path: Path) -> None:
    precise = GOOD_EVENT.replace('"m3":3', '"m3":0.0000000001')
    result = preview(*write(tmp_path, PLAN, precise))
    assert_bad_input(result, "events.jsonl:1: properties.m3", "more than 9 fractional digits")


def test_missing_property(tmp_path: Path) -> None:
    bare = GOOD_EVENT.replace('{"m3":3}', "{}")
    result = preview(*write(tmp_path, PLAN, bare))
    assert_bad_input(result, "events.jsonl:1: properties.m3: is required")


def test_unknown_meter_in_plan(tmp_path: Path) -> None:
    plan = PLAN.replace("meter: water, model", "meter: flow, model")
    result = preview(*write(tmp_path, plan, GOOD_EVENT))
    assert_bad_input(result, "plan.yaml: charges[0].meter: unknown meter 'flow'")


def test_negative_tier_bound(tmp_path: Path) -> None:
    plan = PLAN.replace(
        "model: per_unit, unit_price: 0.1}",
        'model: graduated, tiers: [{up_to: -5, unit_price: "1"}, {up_to: null, unit_price: "0"}]}',
    )
    result = preview(*write(tmp_path, plan, GOOD_EVENT))
    assert_bad_input(result, "charges[0].tiers[0].up_to: must be greater than 0, not -5")


def test_all_plan_problems_at_once(tmp_path: Path) -> None:
    plan = PLAN.replace("currency: USD", "currency: XYZ").replace("interval: month", "")
    result = preview(*write(tmp_path, plan, GOOD_EVENT))
    assert_bad_input(result, "currency: unknown ISO 4217", "interval: is required")


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    result = preview(*write(tmp_path, PLAN + "  - [unclosed\n", GOOD_EVENT))
    assert_bad_input(result, "plan.yaml:", "not valid YAML")


@pytest.mark.parametrize(
    ("flags", "fragment"),
    [
        (("--from", "2026-02-01", "--to", "2026-01-01"), "--to"),
        (("--from", "2026-01-01T00:00:00", "--to", "2026-02-01"), "--from: '2026-01-01T00:00:00'"),
        (("--from", "January", "--to", "2026-02-01"), "--from"),
        (("--from", "2026-01-01", "--to", "2026-02-01", "--timezone", "Mars/Olympus"), "zone"),
    ],
)
def test_bad_period_flags(tmp_path: Path, flags: tuple[str, ...], fragment: str) -> None:
    plan, events = write(tmp_path, PLAN, GOOD_EVENT)
    result = run_iotbill("preview", "--plan", plan, "--events", events, *flags)
    assert_bad_input(result, fragment)


def test_missing_files(tmp_path: Path) -> None:
    plan, events = write(tmp_path, PLAN, GOOD_EVENT)
    assert_bad_input(preview(str(tmp_path / "nope.yaml"), events), "nope.yaml: file not found")
    assert_bad_input(preview(plan, str(tmp_path / "nope.jsonl")), "nope.jsonl: file not found")


def test_timezone_moves_the_period(tmp_path: Path) -> None:
    late = GOOD_EVENT.replace("2026-01-05T00:00:00Z", "2026-01-31T23:30:00Z")
    plan, events = write(tmp_path, PLAN, late)
    in_utc = preview(plan, events, "--json")
    in_tokyo = preview(plan, events, "--json", "--timezone", "Asia/Tokyo")
    assert json.loads(in_utc.stdout)["total"] == "0.30"
    assert json.loads(in_tokyo.stdout)["from"] == "2025-12-31T15:00:00+00:00"
    assert json.loads(in_tokyo.stdout)["total"] == "0.00"  # Feb 1 08:30 in Tokyo
