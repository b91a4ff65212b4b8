"""``iotbill customers update``: fields from now on, a tax rate from its --from."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from iotbill.entrypoints.cli import app


def test_customers_update_changes_fields_and_schedules_a_tax_rate(tmp_path: Path) -> None:
    store = ["--database", str(tmp_path / "store.db")]
    runner = CliRunner()
    for command in (
        ["db", "upgrade"],
        ["customers", "add", "acme", "--currency", "EUR", "--timezone", "Europe/Berlin"],
    ):
        assert runner.invoke(app, [*command, *store]).exit_code == 0

    updated = runner.invoke(
        app,
        ["customers", "update", "acme", "--address", "Hafenstr. 1, Kiel", "--tax-rate", "19",
         "--from", "2026-03-01", *store],
    )  # fmt: skip
    shown = json.loads(runner.invoke(app, ["customers", "show", "acme", "--json", *store]).stdout)
    text = runner.invoke(app, ["customers", "show", "acme", *store]).stdout
    refused = runner.invoke(app, ["customers", "update", "acme", "--from", "2026-04-01", *store])
    unknown = runner.invoke(app, ["customers", "update", "nobody", "--name", "X", *store])

    assert (updated.exit_code, updated.stdout) == (
        0,
        "updated customer acme; taxed at 19 % from 2026-02-28T23:00:00+00:00\n",
    )
    assert shown["billing_address"] == "Hafenstr. 1, Kiel"
    assert "Tax rate:        0 %; 19 % from 2026-03-01\n" in text
    assert (refused.exit_code, refused.stderr) == (
        2,
        "error: --from: is the start of a new tax rate: give the rate with it\n",
    )
    assert (unknown.exit_code, unknown.stderr) == (3, "error: unknown customer 'nobody'\n")
