"""``iotbill demo --model NAME``: a business model billed over several periods on SQLite."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from iotbill.demo import models
from iotbill.entrypoints.cli import app
from tests.conftest import ROOT


def demo(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["demo", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def test_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(models.MODELS, "pump-test", "tests.e2e.demo_model")


def test_a_model_demo_bills_its_periods_and_its_story_steps_once(
    tmp_path: Path, test_model: None
) -> None:
    database = tmp_path / "model.db"
    code, out, err = demo("--model", "pump-test", "--database", str(database), "--json")
    assert code == 0, err
    invoices = json.loads(out)
    assert [invoice["number"] for invoice in invoices] == [
        "INV-2026-000001",
        "INV-2026-000002",
        "INV-2026-000003",
    ]
    assert [invoice["period"]["start"][:10] for invoice in invoices] == [
        "2026-01-01",
        "2026-01-01",
        "2026-02-01",
    ]
    one_offs = [
        (invoice["number"], line["description"], line["quantity"], line["amount"])
        for invoice in invoices
        for line in invoice["lines"]
        if line["kind"] == "one_off"
    ]
    # Recorded on 10 February: on the invoice that closes February, 2 x 74.50.
    assert one_offs == [("INV-2026-000003", "Spare impeller", "2", "149.00")]
    for invoice in invoices:
        assert Decimal(invoice["subtotal"]) == sum(Decimal(li["amount"]) for li in invoice["lines"])
    again = json.loads(demo("--model", "pump-test", "--database", str(database), "--json")[1])
    assert [i["total"] for i in again] == [i["total"] for i in invoices]  # seeded

    code, out, err = demo("--model", "pump-test", "--database", str(database))
    assert code == 0, err
    assert out.startswith("pump-test: A utility pays for water moved.")
    assert "Spare impeller" in out and "INV-2026-000003" in out


def test_an_unknown_model_is_refused_naming_the_models_there_are(tmp_path: Path) -> None:
    code, _, err = demo("--model", "nope", "--database", str(tmp_path / "x.db"))
    known = ", ".join(sorted(models.MODELS)) or "none yet"
    assert (code, err) == (
        2,
        f"error: --model: unknown model 'nope' (one of: {known}; or all)\n",
    )
    assert not (tmp_path / "x.db").exists()


@pytest.mark.parametrize("name", sorted(models.MODELS))
def test_each_model_has_its_template_and_its_section(name: str) -> None:
    assert (ROOT / "examples" / "models" / f"{name}.yaml").read_text() == (
        models.template(name).read_text()
    )
    assert f"\n## {name}\n" in (ROOT / "docs" / "models.md").read_text()
