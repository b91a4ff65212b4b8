"""A bill run killed part-way (SIGKILL) and run again bills each instalment exactly once.

Twelve customers buy the pump of examples/models/retail-instalments.yaml on 1 January; the
odd ones cancel at once on 20 January, so their cancellation invoice bills the two parts
still owed. The bill run of 1 February is killed after its first batch, or inside its second
batch's transaction (tests/e2e/test_bill_run_killed.py), then run again.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from iotbill.adapters.clock import FrozenClock
from iotbill.adapters.plan_files import parse_plan_document
from iotbill.adapters.storage.sql.engine import create_engine_for, upgrade
from iotbill.adapters.storage.sql.unit_of_work import sql_unit_of_work_factory
from iotbill.services.catalog import apply_plan
from iotbill.services.customers import add_customer
from iotbill.services.subscriptions import cancel_subscription, create_subscription
from tests.conftest import ROOT, run_iotbill
from tests.e2e.test_bill_run_killed import CHILD

CUSTOMERS = 12
BATCH = 4
TEMPLATE = ROOT / "examples" / "models" / "retail-instalments.yaml"


def set_up(database: Path) -> None:
    engine = create_engine_for(str(database))
    upgrade(engine)
    open_uow = sql_unit_of_work_factory(engine)
    clock = FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))
    document = parse_plan_document(TEMPLATE.read_text(), TEMPLATE.name)
    apply_plan(open_uow("default"), document, clock)
    for number in range(CUSTOMERS):
        customer = f"c{number:02d}"
        add_customer(
            open_uow("default"), id=customer, name=customer, currency="USD", timezone="UTC"
        )
        subscription = create_subscription(
            open_uow("default"), customer=customer, plan="retail-instalments",
            start=date(2026, 1, 1),
        )  # fmt: skip
        if number % 2:
            cancel_subscription(
                open_uow("default"), subscription.id, timing="immediate",
                at=datetime(2026, 1, 20, tzinfo=UTC),
            )  # fmt: skip
    engine.dispose()


@pytest.mark.parametrize("where", ["after-first-batch", "inside-second-batch"])
def test_each_instalment_is_billed_once_after_a_killed_run(tmp_path: Path, where: str) -> None:
    database = tmp_path / "billing.db"
    set_up(database)
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(database), where, str(BATCH)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    again = run_iotbill(
        "bill-run", "--as-of", "2026-02-01T12:00:00Z", "--database", str(database), "--json"
    )
    assert again.exit_code == 0, again.stderr
    listed = json.loads(
        run_iotbill("invoices", "list", "--database", str(database), "--json").stdout
    )
    ids = [invoice["id"] for invoice in listed]
    invoices = 2 * CUSTOMERS + CUSTOMERS // 2  # an opening and a close each; 6 cancellations
    assert len(ids) == len(set(ids)) == invoices
    numbers = sorted(invoice["number"] for invoice in listed)
    assert numbers == [f"INV-2026-{n:06d}" for n in range(1, invoices + 1)]
    parts: defaultdict[str, list[str]] = defaultdict(list)
    for invoice in sorted(listed, key=lambda invoice: invoice["number"]):
        for line in invoice["lines"]:
            if line["charge"] == "pump":
                parts[invoice["customer"]].append(line["amount"])
    for number in range(CUSTOMERS):
        billed = parts[f"c{number:02d}"]
        # Every customer pays the first two parts by February; those who cancelled, all three.
        expected = ["333.34", "333.33", "333.33"] if number % 2 else ["333.34", "333.33"]
        assert billed == expected, number
