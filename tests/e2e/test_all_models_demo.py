"""``iotbill demo --model all``: every model of the registry in one tenant on SQLite.

Each customer's invoices total exactly what they total in its model's own demo (run
here on the in-memory store), since each model keeps its telemetry, its steps and its
billing instants (docs/models.md). Invoice numbers are the tenant's one series, so they
are not compared.
"""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from iotbill.adapters.storage.memory import MemoryStore
from iotbill.demo import models
from iotbill.demo.models import ModelDemo
from iotbill.demo.models.runner import run_model, run_models
from iotbill.domain.errors import InvalidInput
from iotbill.entrypoints.cli import app


def totals(invoices: list[dict[str, str]]) -> dict[str, Decimal]:
    found: defaultdict[str, Decimal] = defaultdict(Decimal)
    for invoice in invoices:
        found[invoice["customer"]] += Decimal(invoice["total"])
    return dict(found)


def test_every_model_s_customers_are_billed_as_in_its_own_demo(tmp_path: Path) -> None:
    database = tmp_path / "all.db"
    result = CliRunner().invoke(
        app, ["demo", "--model", "all", "--database", str(database), "--json"]
    )
    assert result.exit_code == 0, result.stderr
    mixed = json.loads(result.stdout)
    assert [invoice["number"] for invoice in mixed] == [
        f"INV-2026-{n:06d}" for n in range(1, len(mixed) + 1)
    ]  # one series for the tenant, gap-free
    alone: dict[str, Decimal] = {}
    for name in sorted(models.MODELS):
        demo = models.model_demo(name)
        run = run_model(MemoryStore().unit_of_work_factory(), demo, 2026)
        own = totals([invoice.as_json() for invoice in run.invoices])
        assert {customer.id for customer in demo.customers} <= set(own), name
        alone.update(own)
    assert totals(mixed) == alone


def test_models_that_share_a_customer_are_refused_naming_both() -> None:
    demo = models.model_demo("service")
    twin = ModelDemo(
        "twin", demo.story, models.template("razor-blade"), demo.customers, demo.start, ()
    )
    with pytest.raises(InvalidInput) as error:
        run_models(MemoryStore().unit_of_work_factory(), [demo, twin], 2026)
    assert str(error.value.problems[0]) == (
        "--model: customer 'riverside-water' is in the demos of both service and twin;"
        " device 'pump-p300-01' is in the demos of both service and twin;"
        " device 'pump-p300-02' is in the demos of both service and twin;"
        " customer 'hillcrest-farms' is in the demos of both service and twin;"
        " device 'pump-p300-03' is in the demos of both service and twin"
    )
