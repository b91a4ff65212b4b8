"""``iotbill adoption herding | cascade | capacity | window``: the JSON contract and bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from iotbill.entrypoints.cli import app

BOOK_EDGE_FILE = """\
# Easley and Kleinberg 19.3
v w
v r
w,r
v t
w t
r s
t u
s u
v s
w u
r s   # repeated: counts once
"""


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, ["adoption", *args])


def json_of(*args: str) -> Any:
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def book(tmp_path: Path) -> Path:
    path = tmp_path / "book.txt"
    path.write_text(BOOK_EDGE_FILE, encoding="utf-8")
    return path


def test_cascade_json_for_the_book_example(book: Path) -> None:
    payload = json_of(
        "cascade", "--edges", str(book), "--payoff-a", "3", "--payoff-b", "2", "--seeds", "w,v"
    )
    assert payload == {
        "threshold": 0.4,
        "rounds": [["r", "t"], ["s", "u"]],
        "adopters": ["r", "s", "t", "u", "v", "w"],
        "complete": True,
        "blocking_cluster": None,
    }


def test_cascade_json_when_blocked_sorts_ids_by_code_point(tmp_path: Path) -> None:
    edges = tmp_path / "blocked.txt"
    edges.write_text("B a\na c\nB c\nc Z\nZ e\nZ f\ne f\n", encoding="utf-8")
    payload = json_of("cascade", "--edges", str(edges), "--threshold", "2/5", "--seeds", "a,B")
    assert payload == {
        "threshold": 0.4,
        "rounds": [["c"]],
        "adopters": ["B", "a", "c"],
        "complete": False,
        "blocking_cluster": {"nodes": ["Z", "e", "f"], "density": pytest.approx(2 / 3)},
    }


def test_cascade_with_no_switch_has_no_rounds(book: Path) -> None:
    payload = json_of("cascade", "--edges", str(book), "--threshold", "0.9", "--seeds", "v")
    assert payload["rounds"] == [] and payload["adopters"] == ["v"]
    assert payload["blocking_cluster"]["density"] == pytest.approx(2 / 3)


def test_cascade_prints_a_table_without_json(book: Path) -> None:
    result = invoke("cascade", "--edges", str(book), "--threshold", "0.4", "--seeds", "v,w")
    assert result.exit_code == 0
    assert "q = 2/5" in result.stdout and "r, t" in result.stdout and "s, u" in result.stdout
    assert "complete: yes" in result.stdout


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--threshold", "0.5", "--seeds", "v,nobody"], "--seeds: unknown node id(s): nobody"),
        (["--threshold", "1.01", "--seeds", "v"], "--threshold: must be in [0, 1]"),
        (["--threshold", "-0.1", "--seeds", "v"], "--threshold: must be in [0, 1]"),
        (["--threshold", "half", "--seeds", "v"], "--threshold: expected a number"),
        (["--threshold", "0.5", "--seeds", " , "], "--seeds: name at least one"),
        (["--threshold", "0.5", "--payoff-a", "1", "--seeds", "v"], "either --threshold"),
        (["--payoff-a", "1", "--seeds", "v"], "give --threshold"),
        (["--payoff-a", "0", "--payoff-b", "0", "--seeds", "v"], "payoffs"),
    ],
)
def test_cascade_bad_arguments_exit_2(book: Path, arguments: list[str], message: str) -> None:
    result = invoke("cascade", "--edges", str(book), *arguments)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the graph is empty"),
        ("# nothing here\n", "the graph is empty"),
        ("a b\na b c\n", "edges.txt:2: expected two node ids"),
        ("a b\nc c\n", "edges.txt:2: self-loop at node c"),
    ],
)
def test_cascade_bad_edge_files_exit_2(tmp_path: Path, content: str, message: str) -> None:
    edges = tmp_path / "edges.txt"
    edges.write_text(content, encoding="utf-8")
    result = invoke("cascade", "--edges", str(edges), "--threshold", "0.5", "--seeds", "a")
    assert result.exit_code == 2
    assert message in result.stderr


def test_cascade_missing_edge_file_exits_2(tmp_path: Path) -> None:
    result = invoke(
        "cascade", "--edges", str(tmp_path / "none.txt"), "--threshold", "0.5", "--seeds", "a"
    )
    assert result.exit_code == 2
    assert "--edges: cannot read" in result.stderr


def test_herding_json_is_exact_for_the_book_case() -> None:
    payload = json_of("herding", "--signal-accuracy", "2/3", "--people", "2")
    assert payload == {
        "p_no_cascade": 4 / 9,
        "p_correct_cascade": 4 / 9,
        "p_wrong_cascade": 1 / 9,
    }


def test_herding_simulation_is_reported_and_reproducible() -> None:
    arguments = ("herding", "--signal-accuracy", "0.7", "--people", "6", "--prior", "0.4")
    options = ("--tie", "coin-flip", "--simulate", "2000", "--seed", "11")
    payload = json_of(*arguments, *options)
    assert set(payload) == {"p_no_cascade", "p_correct_cascade", "p_wrong_cascade", "simulated"}
    simulated = payload["simulated"]
    assert simulated["runs"] == 2000
    total = (
        simulated["p_no_cascade"] + simulated["p_correct_cascade"] + simulated["p_wrong_cascade"]
    )
    assert total == pytest.approx(1)
    assert json_of(*arguments, *options) == payload
    table = invoke(*arguments, *options)
    assert table.exit_code == 0 and "simulated (2000 runs)" in table.stdout


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--signal-accuracy", "0.5", "--people", "3"], "signal_accuracy"),
        (["--signal-accuracy", "0.7", "--people", "3", "--prior", "1"], "prior"),
        (["--signal-accuracy", "0.7", "--people", "-1"], "people"),
        (["--signal-accuracy", "0.7", "--people", "3", "--tie", "majority"], "--tie"),
    ],
)
def test_herding_bad_arguments_exit_2(arguments: list[str], message: str) -> None:
    result = invoke("herding", *arguments)
    assert result.exit_code == 2
    assert message in result.stderr


def test_window_json() -> None:
    payload = json_of("window", "--threshold", "0.18")
    assert payload["mean_degree_low"] == pytest.approx(1.0207, abs=1e-4)
    assert payload["mean_degree_high"] == pytest.approx(5.7647, abs=1e-4)
    assert json_of("window", "--threshold", "1/3") == {
        "mean_degree_low": None,
        "mean_degree_high": None,
    }
    assert json_of("window", "--threshold", "0") == {
        "mean_degree_low": 1.0,
        "mean_degree_high": None,
    }
    assert invoke("window", "--threshold", "2").exit_code == 2


def test_capacity_json(book: Path) -> None:
    assert json_of("capacity", "--edges", str(book), "--max-seeds", "2") == {
        "max_seeds": 2,
        "capacity": 2 / 3,
        "capacity_fraction": "2/3",
    }
    result = invoke("capacity", "--edges", str(book), "--max-seeds", "0")
    assert result.exit_code == 2 and "max_seeds" in result.stderr


def test_herding_simulation_has_a_documented_default_seed() -> None:
    arguments = ("herding", "--signal-accuracy", "2/3", "--people", "10", "--simulate", "500")

    unseeded = json_of(*arguments)

    assert unseeded["simulated"]["seed"] == 2026
    assert unseeded == json_of(*arguments, "--seed", "2026")
    assert unseeded["simulated"] != json_of(*arguments, "--seed", "7")["simulated"]
    assert "Simulated with --seed 2026: the same seed, the same runs." in invoke(*arguments).stdout
