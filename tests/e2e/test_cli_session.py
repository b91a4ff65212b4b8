"""The command line's one session: the store options every store command takes, one way of
printing, one place that reports errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from iotbill.entrypoints.cli import app
from iotbill.entrypoints.cli.errors import IotbillGroup
from iotbill.entrypoints.cli.session import session, store_command, store_group


def test_a_store_command_takes_the_store_options_without_declaring_them() -> None:
    shown = CliRunner().invoke(app, ["customers", "list", "--help"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0
    for option in ("--tenant", "--database", "--json"):
        assert option in shown.stdout
    directory = CliRunner().invoke(app, ["tenants", "list", "--help"], env={"COLUMNS": "200"})
    assert "--database" in directory.stdout and "--tenant" not in directory.stdout


def test_the_session_reads_its_settings_and_prints_json_or_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    probe = typer.Typer(cls=IotbillGroup)
    group = store_group(help="probe")
    probe.add_typer(group, name="probe")

    @group.command("show")
    def show(word: str) -> None:
        current = session()
        current.emit({"word": word, "tenant": current.tenant}, f"{word} for {current.tenant}")

    @group.command("fail")
    def fail() -> None:
        from iotbill.domain.errors import NotFound

        raise NotFound("no such thing")

    monkeypatch.setenv("IOTBILL_TENANT", "acme")
    runner = CliRunner()

    assert runner.invoke(probe, ["probe", "show", "hello"]).stdout == "hello for acme\n"
    as_json = runner.invoke(probe, ["probe", "show", "hi", "--tenant", "other", "--json"])
    assert json.loads(as_json.stdout) == {"word": "hi", "tenant": "other"}
    failed = runner.invoke(probe, ["probe", "fail"])
    assert (failed.exit_code, failed.stderr) == (3, "error: no such thing\n")
    monkeypatch.setenv("IOTBILL_TENANT", "")
    refused = runner.invoke(probe, ["probe", "show", "x"])
    assert (refused.exit_code, refused.stderr) == (2, "error: IOTBILL_TENANT: must not be empty\n")


def test_session_outside_a_store_command_is_a_programming_error() -> None:
    with pytest.raises(RuntimeError, match="only inside a store command"):
        session()


def test_a_wrapped_command_keeps_its_own_signature_first() -> None:
    import inspect

    def command(reference: str, *, full: bool = False) -> None: ...

    names = list(inspect.signature(store_command(command)).parameters)
    assert names == ["reference", "full", "tenant", "database", "as_json"]
