"""Golden scenarios that move time, compared with the expected files committed beside them
(format and how to add one: :mod:`tests.stories.scenarios`)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.stories.scenarios import SCENARIOS, Scenario, run

NAMES = sorted(folder.name for folder in SCENARIOS.iterdir() if folder.is_dir())


def test_the_named_scenarios_are_all_there() -> None:
    assert set(NAMES) >= {
        "trial-then-paid",
        "upgrade-mid-month",
        "cancel-at-period-end",
        "late-event-after-finalization",
        "dst-month-berlin",
        "jpy-customer",
    }


@pytest.mark.parametrize("name", NAMES)
def test_a_scenario_bills_what_its_expected_file_says(name: str) -> None:
    scenario = Scenario.load(SCENARIOS / name)
    produced = run(scenario)
    if os.environ.get("IOTBILL_WRITE_GOLDEN") == "1":
        scenario.expected_file.write_text(json.dumps(produced, indent=2) + "\n")
    assert scenario.expected_file.exists(), f"{name}: no expected.json (see NOTES.md)"
    assert produced == json.loads(scenario.expected_file.read_text())


def test_a_scenario_that_goes_back_in_time_is_refused(tmp_path: Path) -> None:
    (tmp_path / "scenario.yaml").write_text(
        "start: 2026-02-01T00:00:00Z\nsteps:\n  - at: 2026-01-31T00:00:00Z\n"
    )
    with pytest.raises(ValueError, match="step at 2026-01-31T00:00:00Z goes back in time"):
        run(Scenario.load(tmp_path))
