"""``iotbill demo --model all``: every model of the registry in one tenant on SQLite.

Up to its model's last billing instant, each customer's invoices total exactly what they
total in its model's own demo (run here on the in-memory store), since each model keeps
its telemetry, its steps and its billing instants (docs/models.md). The tenant's bill
runs go on to the last model's last instant, billing the subscriptions of the models
whose stories end sooner until then: those later invoices are not compared. Invoice
numbers are the tenant's one series, so they are not compared either.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from iotbill.adapters.storage.memory import MemoryStore
from iotbill.adapters.storage.sql.engine import create_engine_for
from iotbill.adapters.storage.sql.unit_of_work import sql_unit_of_work_factory
from iotbill.demo import models
from iotbill.demo.models import ModelDemo
from iotbill.demo.models.runner import run_model, run_models
from iotbill.domain.errors import InvalidInput
from iotbill.domain.invoices import Invoice
from iotbill.entrypoints.cli import app


def totals(invoices: list[Invoice], until: dict[str, datetime]) -> dict[str, Decimal]:
    """Each customer's invoices issued by ``until`` of its customer, totalled."""
    found: defaultdict[str, Decimal] = defaultdict(Decimal)
    for invoice in invoices:
        if invoice.issued_at <= until[invoice.customer_id]:
            found[invoice.customer_id] += invoice.total
    return dict(found)


def test_every_model_s_customers_are_billed_as_in_its_own_demo(tmp_path: Path) -> None:
    database = tmp_path / "all.db"
    result = CliRunner().invoke(
        app, ["demo", "--model", "all", "--database", str(database), "--json"]
    )
    assert result.exit_code == 0, result.stderr
    listed = json.loads(result.stdout)
    series: defaultdict[str, list[int]] = defaultdict(list)
    for invoice in listed:
        year, number = invoice["number"].rsplit("-", 1)
        series[year].append(int(number))
    for numbers in series.values():  # the tenant's series, one a year, gap-free
        assert sorted(numbers) == list(range(1, len(numbers) + 1))
    alone: dict[str, Decimal] = {}
    until: dict[str, datetime] = {}
    for name in sorted(models.MODELS):
        demo = models.model_demo(name)
        run = run_model(MemoryStore().unit_of_work_factory(), demo, 2026)
        until.update({invoice.customer_id: demo.bill_at[-1] for invoice in run.invoices})
        own = totals(run.invoices, until)
        assert {customer.id for customer in demo.customers} <= set(own), name
        alone.update(own)
    with sql_unit_of_work_factory(engine := create_engine_for(str(database)))("demo") as uow:
        mixed = uow.invoices.list()
    engine.dispose()
    assert {invoice["customer"] for invoice in listed} == set(alone)
    assert totals(mixed, until) == alone


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
