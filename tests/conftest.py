"""Shared test helpers: running the real ``iotbill`` command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


class CommandResult:
    def __init__(self, completed: subprocess.CompletedProcess[str]) -> None:
        self.exit_code = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr


def run_iotbill(*args: str, cwd: Path | None = None, stdin: str | None = None) -> CommandResult:
    """Run ``iotbill ARGS`` in a fresh interpreter, as a user would."""
    completed = subprocess.run(
        [sys.executable, "-m", "iotbill.entrypoints.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        input=stdin,
        check=False,
    )
    return CommandResult(completed)


@pytest.fixture
def iotbill():
    return run_iotbill
