"""``iotbill adoption forecast``: the JSON contract, the table, the chart and bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from iotbill.entrypoints.cli import app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

PATH_EDGES = "a b\nb c\nc d\n"

#: Per adopter and period with miles=220.4, water=150: 10.00 + 2.76 + 70.00 = 82.76.
FLEET_PLAN = """
code: fleet
currency: USD
interval: month
fixed_fees: [{code: base, amount: "10.00"}]
meters:
  - {code: miles, event_type: car.trip, aggregation: sum, property: miles}
  - {code: water, event_type: pump.flow, aggregation: sum, property: m3}
charges:
  - {code: miles, meter: miles, model: per_unit, unit_price: "0.0125"}
  - code: water
    meter: water
    model: graduated
    tiers:
      - {up_to: 100, unit_price: "0.50"}
      - {up_to: null, unit_price: "0.30", flat_fee: "5.00"}
"""
FLAT_PLAN = """
code: flat
currency: USD
interval: month
fixed_fees: [{code: subscription, amount: "40.00"}]
"""


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {
        "edges": tmp_path / "path.edges",
        "fleet": tmp_path / "fleet.yaml",
        "flat": tmp_path / "flat.yaml",
        "yen": tmp_path / "yen.yaml",
    }
    paths["edges"].write_text(PATH_EDGES, encoding="utf-8")
    paths["fleet"].write_text(FLEET_PLAN, encoding="utf-8")
    paths["flat"].write_text(FLAT_PLAN, encoding="utf-8")
    paths["yen"].write_text(FLAT_PLAN.replace("USD", "JPY").replace('"40.00"', '"4000"'))
    return paths


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, ["adoption", "forecast", *args])


def base_args(files: dict[str, Path], *extra: str) -> list[str]:
    return [
        "--plan",
        str(files["fleet"]),
        "--edges",
        str(files["edges"]),
        "--seeds",
        "a",
        "--threshold",
        "1/2",
        "--usage",
        "miles=220.4,water=150",
        "--periods",
        "5",
        "--seed",
        "1",
        *extra,
    ]


def json_of(*args: str) -> Any:
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def same(value: Any) -> dict[str, Any]:
    return {"median": value, "p10": value, "p90": value}


def test_json_contract_on_a_path(files: dict[str, Path]) -> None:
    payload = json_of(*base_args(files, "--runs", "3"))
    adopters, new = [1, 2, 3, 4, 4], [1, 1, 1, 1, 0]
    revenue = ["82.76", "165.52", "248.28", "331.04", "331.04"]
    assert payload == {
        "plan": "fleet",
        "currency": "USD",
        "periods": [
            {
                "period": period + 1,
                "adopters": same(adopters[period]),
                "new_adopters": same(new[period]),
                "churned": same(0),
                "revenue": same(revenue[period]),
            }
            for period in range(5)
        ],
        "total_revenue": same("1158.64"),
        "compare": None,
        "mapping": "initial adopters adopt in period 1; cascade round r adopts in period "
        "1 + r // 1; an adopter pays from the period it adopts in",
    }


def test_payoffs_and_rounds_per_period(files: dict[str, Path]) -> None:
    # a = 1, b = 1 gives q = 1/2; two rounds per period: a, b in period 1, c, d in period 2.
    args = base_args(files, "--rounds-per-period", "2")
    at = args.index("--threshold")
    args[at : at + 2] = ["--payoff-a", "1", "--payoff-b", "1"]
    payload = json_of(*args)
    assert [p["adopters"]["median"] for p in payload["periods"]] == [2, 4, 4, 4, 4]
    assert "1 + r // 2" in payload["mapping"]


def test_compare_prices_the_same_runs_under_both_plans(files: dict[str, Path]) -> None:
    args = base_args(files, "--compare-plan", str(files["flat"]), "--churn", "0.3")
    args += ["--usage-noise", "0.2", "--runs", "40"]
    payload = json_of(*args)
    compare = payload["compare"]
    assert compare["plan"] == "flat"
    assert compare["currency"] == "USD"
    for ours, theirs in zip(payload["periods"], compare["periods"], strict=True):
        assert ours["adopters"] == theirs["adopters"]
        assert ours["churned"] == theirs["churned"]
        low, middle, high = (int(theirs["adopters"][key]) for key in ("p10", "median", "p90"))
        assert theirs["revenue"] == {
            "median": f"{40 * middle}.00",
            "p10": f"{40 * low}.00",
            "p90": f"{40 * high}.00",
        }
    assert json_of(*args) == payload  # reproducible from --seed


def test_random_thresholds_are_reproducible_and_ordered(files: dict[str, Path]) -> None:
    args = base_args(files, "--runs", "60", "--churn", "0.2")
    at = args.index("--threshold")
    args[at : at + 2] = ["--random-thresholds"]
    payload = json_of(*args)
    assert json_of(*args) == payload
    at = args.index("--seed")
    args[at + 1] = "2"
    assert json_of(*args) != payload  # another --seed, other runs
    for period in payload["periods"]:
        for key in ("adopters", "new_adopters", "churned"):
            assert period[key]["p10"] <= period[key]["median"] <= period[key]["p90"]
        money = [float(period["revenue"][key]) for key in ("p10", "median", "p90")]
        assert money == sorted(money)


def test_table_shows_both_plans(files: dict[str, Path]) -> None:
    result = invoke(*base_args(files, "--compare-plan", str(files["flat"])))
    assert result.exit_code == 0, result.stderr
    assert "fleet" in result.stdout and "flat" in result.stdout
    assert "331.04" in result.stdout and "160.00" in result.stdout
    assert "Mapping: initial adopters adopt in period 1" in result.stdout


def test_chart_is_a_png(files: dict[str, Path], tmp_path: Path) -> None:
    chart = tmp_path / "revenue.png"
    args = base_args(files, "--compare-plan", str(files["flat"]), "--chart", str(chart))
    result = invoke(*args, "--runs", "5", "--churn", "0.5")
    assert result.exit_code == 0, result.stderr
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"Chart written to {chart}" in result.stdout.replace("\n", "")


def test_worked_example_in_the_docs_runs() -> None:
    payload = json_of(
        "--plan",
        str(EXAMPLES / "pump-outcome.yaml"),
        "--compare-plan",
        str(EXAMPLES / "pump-subscription.yaml"),
        "--edges",
        str(EXAMPLES / "customers.edges"),
        "--seeds",
        "utility-north,utility-east",
        "--threshold",
        "1/3",
        "--usage",
        "water=150",
        "--periods",
        "6",
        "--rounds-per-period",
        "2",
        "--seed",
        "7",
    )
    # 31.00 + 100 x 0.50 + 50 x 0.30 = 96.00 against 89.00, for the 4 adopters of period 1.
    assert payload["periods"][0]["revenue"] == same("384.00")
    assert payload["compare"]["periods"][0]["revenue"] == same("356.00")
    assert payload["periods"][-1]["adopters"] == same(19)


@pytest.mark.parametrize(
    ("change", "flag", "message"),
    [
        (("--seeds", "a,z"), "--seeds", "unknown node id(s): z"),
        (("--usage", "miles=1,flow=2"), "--usage", "unknown meter(s) flow"),
        (("--usage", "miles"), "--usage", "expected METER=QUANTITY"),
        (("--usage", "miles=-3"), "--usage", "no negative usage"),
        (("--threshold", "1.5"), "--threshold", "must be in [0, 1]"),
        (("--threshold", "-1/2"), "--threshold", "must be in [0, 1]"),
        (("--periods", "-2"), "--periods", "must be at least 1"),
        (("--churn", "1.5"), "--churn", "must be in [0, 1]"),
        (("--churn", "-0.5"), "--churn", "must be in [0, 1]"),
        (("--runs", "0"), "--runs", "must be at least 1"),
        (("--rounds-per-period", "0"), "--rounds-per-period", "must be at least 1"),
        (("--usage-noise", "-1"), "--usage-noise", "must be >= 0"),
        (("--random-thresholds",), "--threshold", "exactly one of"),
        (("--threshold", "1/2/3"), "--threshold", "expected a number"),
    ],
)
def test_bad_input_exits_2_naming_the_flag(
    files: dict[str, Path], change: tuple[str, ...], flag: str, message: str
) -> None:
    args = base_args(files)
    if change[0] in args:
        at = args.index(change[0])
        args[at : at + 2] = change
    else:
        args += change
    result = invoke(*args)
    assert result.exit_code == 2
    assert f"error: {flag}: " in result.stderr
    assert message in result.stderr


def test_negative_payoffs_exit_2(files: dict[str, Path]) -> None:
    args = base_args(files)
    at = args.index("--threshold")
    args[at : at + 2] = ["--payoff-a", "-1", "--payoff-b", "2"]
    result = invoke(*args)
    assert result.exit_code == 2
    assert "error: --payoff-a: need a >= 0" in result.stderr


def test_plans_in_different_currencies_exit_2(files: dict[str, Path]) -> None:
    result = invoke(*base_args(files, "--compare-plan", str(files["yen"])))
    assert result.exit_code == 2
    assert "error: --compare-plan: plan flat is in JPY but fleet is in USD" in result.stderr
