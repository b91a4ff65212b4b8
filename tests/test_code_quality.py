"""The code stays clean: ruff, mypy and the examples in docstrings run as part of the suite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_ruff_lint_is_clean() -> None:
    result = run("ruff", "check", "src", "tests", "bench")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean() -> None:
    result = run("ruff", "format", "--check", "src", "tests", "bench")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean() -> None:
    result = run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_docstring_examples_hold() -> None:
    result = run(
        "pytest", "-q", "-p", "no:cacheprovider", "--doctest-modules", "src",
        "--ignore=src/iotbill/adapters/storage/migrations",  # alembic's script, run by alembic
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
