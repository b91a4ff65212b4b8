"""``iotbill adoption small-world | search | seeds``: the JSON contract and bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner, Result

from iotbill.adoption.navigation import kleinberg_lattice, mean_delivery_time
from iotbill.adoption.smallworld import (
    average_path_length,
    clustering_coefficient,
    ring_lattice_path_length,
    watts_strogatz,
)
from iotbill.entrypoints.cli import app

STAR_AND_TRIANGLE = """\
# a star around z, and a separate triangle
z a
z b
z,c
z d
w x
x y
y w
"""


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, ["adoption", *args])


def json_of(*args: str) -> Any:
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def star(tmp_path: Path) -> Path:
    path = tmp_path / "star.txt"
    path.write_text(STAR_AND_TRIANGLE, encoding="utf-8")
    return path


# --- small-world -------------------------------------------------------------------------


def test_small_world_json_is_the_measures_of_the_seeded_graph() -> None:
    payload = json_of(
        "small-world", "--nodes", "600", "--degree", "6", "--rewire", "0.1", "--seed", "7"
    )
    assert set(payload) == {"clustering", "path_length", "clustering_ratio", "path_length_ratio"}
    rng = np.random.default_rng(7)
    graph = watts_strogatz(600, 6, 0.1, rng)
    path_length = average_path_length(graph, 100, rng)
    assert payload["clustering"] == clustering_coefficient(graph)
    assert payload["path_length"] == path_length
    assert payload["clustering_ratio"] == pytest.approx(payload["clustering"] / (3 * 4 / (4 * 5)))
    assert payload["path_length_ratio"] == pytest.approx(
        path_length / ring_lattice_path_length(600, 6)
    )


def test_small_world_without_rewiring_has_ratios_of_one() -> None:
    payload = json_of(
        "small-world", "--nodes", "50", "--degree", "4", "--rewire", "0", "--seed", "1"
    )
    assert payload["clustering"] == pytest.approx(0.5)  # 3 (K - 2) / (4 (K - 1))
    assert payload["clustering_ratio"] == pytest.approx(1.0)
    assert payload["path_length_ratio"] == pytest.approx(1.0)  # 50 <= 100 samples: exact


def test_small_world_on_a_ring_of_degree_two_has_no_clustering_ratio() -> None:
    payload = json_of(
        "small-world", "--nodes", "30", "--degree", "2", "--rewire", "0.2", "--seed", "1"
    )
    assert payload["clustering_ratio"] is None


def test_small_world_is_reproducible_and_prints_a_table() -> None:
    args = ("small-world", "--nodes", "400", "--degree", "4", "--rewire", "0.3", "--seed", "5")
    assert json_of(*args) == json_of(*args)
    assert json_of(*args) != json_of(*args[:-1], "6")
    result = invoke(*args)
    assert result.exit_code == 0
    assert "clustering C" in result.stdout and "path length L" in result.stdout


# --- search ------------------------------------------------------------------------------


def test_search_json_is_the_mean_delivery_time() -> None:
    payload = json_of("search", "--side", "40", "--exponent", "2", "--pairs", "300", "--seed", "3")
    rng = np.random.default_rng(3)
    expected = mean_delivery_time(kleinberg_lattice(40, 2.0, rng), 300, rng)
    assert payload == {"mean_steps": expected}
    result = invoke("search", "--side", "40", "--exponent", "2", "--pairs", "300", "--seed", "3")
    assert result.exit_code == 0 and f"{expected:.2f} hops" in result.stdout


# --- seeds -------------------------------------------------------------------------------


def test_seeds_under_a_fixed_threshold(star: Path) -> None:
    payload = json_of(
        "seeds", "--edges", str(star), "--budget", "2", "--threshold", "1/2", "--seed", "0",
        "--method", "greedy,degree",
    )  # fmt: skip
    assert payload["model"] == "fixed-threshold"
    assert payload["threshold"] == 0.5 and payload["runs"] is None and payload["budget"] == 2
    methods = {m["method"]: m for m in payload["methods"]}
    assert list(methods) == ["greedy", "degree"]
    # the hub converts its 4 leaves, then one node of the triangle (w, the lowest id) the rest
    assert methods["greedy"]["seeds"] == ["z", "w"] and methods["greedy"]["spread"] == 8.0
    assert methods["greedy"]["standard_error"] == 0.0
    # degree: z (4), then the triangle's nodes tie at 2 (the leaves have 1): w, the lowest id
    assert methods["degree"]["seeds"] == ["z", "w"]
    random = payload["random"]
    assert set(random) == {"draws", "mean", "deviation", "lowest", "highest"}
    assert random["draws"] == 20 and 2 <= random["lowest"] <= random["highest"] <= 8
    assert methods["greedy"]["versus_random"] == pytest.approx(8.0 / random["mean"])


def test_seeds_under_random_thresholds_beat_random_and_repeat(star: Path) -> None:
    args = ("seeds", "--edges", str(star), "--budget", "1", "--random-thresholds", "--seed", "4")
    payload = json_of(*args, "--runs", "300", "--draws", "10")
    assert payload["model"] == "linear-threshold" and payload["threshold"] is None
    assert payload["runs"] == 300
    assert [m["method"] for m in payload["methods"]] == ["greedy", "degree", "degree-discount"]
    greedy = payload["methods"][0]
    assert greedy["seeds"] == ["z"]  # the hub: each leaf listens to it, so 5 adopters each time
    assert greedy["spread"] == 5.0 and greedy["standard_error"] == 0.0
    assert greedy["spread"] >= payload["random"]["mean"]
    assert json_of(*args, "--runs", "300", "--draws", "10") == payload
    table = invoke(*args)
    assert table.exit_code == 0 and "random (20 draws)" in table.stdout


# --- bad input exits 2 naming the flag, never a traceback ----------------------------------

SMALL_WORLD = ["small-world", "--nodes", "20", "--degree", "4", "--rewire", "0.1", "--seed", "1"]


def replace(args: list[str], flag: str, value: str) -> list[str]:
    changed = list(args)
    changed[changed.index(flag) + 1] = value
    return changed


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (replace(SMALL_WORLD, "--degree", "5"), "--degree"),
        (replace(SMALL_WORLD, "--degree", "20"), "--nodes"),
        (replace(SMALL_WORLD, "--degree", "0"), "--degree"),
        (replace(SMALL_WORLD, "--rewire", "1.5"), "--rewire"),
        (replace(SMALL_WORLD, "--rewire", "-0.1"), "--rewire"),
        (replace(SMALL_WORLD, "--rewire", "nan"), "--rewire"),
        ([*SMALL_WORLD, "--samples", "0"], "--samples"),
        (SMALL_WORLD[:-2], "--seed"),
        (["search", "--side", "1", "--exponent", "2", "--pairs", "5", "--seed", "1"], "--side"),
        (
            ["search", "--side", "9", "--exponent", "-1", "--pairs", "5", "--seed", "1"],
            "--exponent",
        ),
        (["search", "--side", "9", "--exponent", "2", "--pairs", "0", "--seed", "1"], "--pairs"),
        (["search", "--side", "9", "--exponent", "2", "--pairs", "5"], "--seed"),
    ],
)
def test_bad_numbers_exit_2_naming_the_flag(args: list[str], flag: str) -> None:
    result = invoke(*args)
    assert result.exit_code == 2
    assert flag in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("extra", "flag"),
    [
        (["--threshold", "1/2", "--random-thresholds"], "--threshold"),
        ([], "--threshold"),
        (["--threshold", "3/2"], "--threshold"),
        (["--threshold", "half"], "--threshold"),
        (["--threshold", "0.5", "--budget", "9"], "--budget"),
        (["--threshold", "0.5", "--budget", "0"], "--budget"),
        (["--threshold", "0.5", "--method", "pagerank"], "--method"),
        (["--random-thresholds", "--runs", "0"], "--runs"),
        (["--threshold", "0.5", "--draws", "0"], "--draws"),
    ],
)
def test_bad_seeds_options_exit_2_naming_the_flag(star: Path, extra: list[str], flag: str) -> None:
    args = ["seeds", "--edges", str(star), "--budget", "2", "--seed", "1", *extra]
    result = invoke(*args)
    assert result.exit_code == 2
    assert flag in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [("a b\nc\n", "expected two node ids"), ("a a\n", "self-loop"), ("# nothing\n", "empty")],
)
def test_a_bad_edge_file_exits_2(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "edges.txt"
    path.write_text(content, encoding="utf-8")
    result = invoke("seeds", "--edges", str(path), "--budget", "1", "--threshold", "0.5",
                    "--seed", "1")  # fmt: skip
    assert result.exit_code == 2 and message in result.stderr


def test_a_missing_edge_file_exits_2(tmp_path: Path) -> None:
    result = invoke("seeds", "--edges", str(tmp_path / "none.txt"), "--budget", "1",
                    "--threshold", "0.5", "--seed", "1")  # fmt: skip
    assert result.exit_code == 2 and "--edges" in result.stderr
