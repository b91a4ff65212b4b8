"""The one wiring point: settings from what is given, else the environment; no I/O at import."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from iotbill.adapters.clock import FrozenClock
from iotbill.bootstrap import Settings, bootstrap, in_memory, load_settings, open_engine
from iotbill.domain.errors import Conflict, InvalidInput
from iotbill.services.ports import Tenant


def test_settings_default_without_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "TENANT", "GRACE_HOURS"):
        monkeypatch.delenv(f"IOTBILL_{name}", raising=False)

    assert load_settings() == Settings("sqlite:///iotbill.db", "default", 0)


def test_the_environment_fills_what_is_not_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOTBILL_DATABASE_URL", "postgresql://db/iotbill")
    monkeypatch.setenv("IOTBILL_TENANT", "acme")
    monkeypatch.setenv("IOTBILL_GRACE_HOURS", "48")

    assert load_settings() == Settings("postgresql://db/iotbill", "acme", 48)
    given = load_settings(database_url="billing.db", tenant=None)
    assert given == Settings("billing.db", "acme", 48)  # None: not given


def test_a_bad_setting_names_its_variable_and_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOTBILL_GRACE_HOURS", "soon")
    monkeypatch.setenv("IOTBILL_TENANT", "")

    with pytest.raises(InvalidInput) as raised:
        load_settings()

    problems = {problem.location: problem.message for problem in raised.value.problems}
    assert problems == {
        "IOTBILL_TENANT": "must not be empty",
        "IOTBILL_GRACE_HOURS": (
            "input should be a valid integer, unable to parse string as an integer (got 'soon')"
        ),
    }


def test_an_unknown_setting_is_a_programming_error() -> None:
    with pytest.raises(TypeError, match="unknown settings: tennant"):
        load_settings(tennant="acme")


def test_bootstrap_refuses_a_store_without_the_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"

    with pytest.raises(Conflict, match=r"has no iotbill schema or an old one: run `iotbill db"):
        bootstrap(Settings(database_url=url))


def test_bootstrap_wires_a_migrated_store_and_the_clock_given(tmp_path: Path) -> None:
    from iotbill.adapters.storage.sql.engine import upgrade

    settings = Settings(database_url=str(tmp_path / "store.db"))
    upgrade(open_engine(settings))
    at = datetime(2026, 3, 1, tzinfo=UTC)

    wired = bootstrap(settings, clock=FrozenClock(at))

    assert wired.clock.now() == at
    with wired.uow_factory("default", read_only=True) as uow:
        assert [tenant.code for tenant in uow.tenants.list()] == ["default"]


def test_in_memory_stores_are_apart() -> None:
    first, second = in_memory(), in_memory()

    with first.uow_factory("default") as uow:
        uow.tenants.add(Tenant("acme", "Acme"))
        uow.commit()
    with second.uow_factory("default") as uow:
        assert [tenant.code for tenant in uow.tenants.list()] == ["default"]
    assert first.clock.now().tzinfo is UTC


def test_importing_the_wiring_opens_nothing_and_imports_no_driver() -> None:
    code = (
        "import sys, iotbill.bootstrap\n"
        "print(sorted(m for m in ('sqlalchemy', 'pydantic', 'pydantic_settings', 'typer')"
        " if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
