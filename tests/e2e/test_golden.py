"""Golden scenarios (tests/golden/*) through the real ``iotbill preview`` command."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from tests.conftest import run_iotbill

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
SCENARIOS = sorted(path for path in GOLDEN.iterdir() if path.is_dir())


def test_there_are_golden_scenarios() -> None:
    assert len(SCENARIOS) >= 7


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda path: path.name)
def test_golden_scenario(scenario: Path) -> None:
    args = shlex.split((scenario / "args").read_text())
    result = run_iotbill(
        "preview", "--plan", "plan.yaml", "--events", "events.jsonl", *args, "--json",
        cwd=scenario,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    expected = json.loads((scenario / "expected.json").read_text())
    assert json.loads(result.stdout) == expected


def test_golden_total_is_sum_of_lines() -> None:
    for scenario in SCENARIOS:
        expected = json.loads((scenario / "expected.json").read_text())
        from decimal import Decimal

        total = sum((Decimal(line["amount"]) for line in expected["lines"]), Decimal(0))
        assert total == Decimal(expected["total"]), scenario.name
