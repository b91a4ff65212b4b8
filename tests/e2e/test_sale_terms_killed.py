"""A bill run killed part-way (SIGKILL) and run again bills each instalment, early
termination fee and buy-out exactly once.

Twelve customers buy the pump of examples/models/retail-instalments.yaml on 1 January; the
odd ones cancel at once on 20 January, so their cancellation invoice bills the two parts
still owed. Four more lease a pump (examples/models/lease.yaml): two end the lease on 20
January (a fee for the 35 months left), two on a one-month term buy it out on 1 February.
The bill run of 1 February is killed after its first batch, or inside its second batch's
transaction (tests/e2e/test_bill_run_killed.py), then run again.
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
from iotbill.services.subscriptions import (
    buy_out_subscription,
    cancel_subscription,
    create_subscription,
)
from tests.conftest import ROOT, run_iotbill
from tests.e2e.test_bill_run_killed import CHILD

CUSTOMERS = 12
BATCH = 4
TEMPLATE = ROOT / "examples" / "models" / "retail-instalments.yaml"
LEASE = ROOT / "examples" / "models" / "lease.yaml"
SHORT_LEASE = (
    LEASE.read_text().replace("code: lease", "code: short-lease").replace("term: 36", "term: 1")
)


def set_up(database: Path) -> None:
    engine = create_engine_for(str(database))
    upgrade(engine)
    open_uow = sql_unit_of_work_factory(engine)
    clock = FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))
    for text in (TEMPLATE.read_text(), LEASE.read_text(), SHORT_LEASE):
        apply_plan(open_uow("default"), parse_plan_document(text, "plan.yaml"), clock)
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
    for number, plan in enumerate(("lease", "lease", "short-lease", "short-lease")):
        customer = f"lessee{number}"
        add_customer(
            open_uow("default"), id=customer, name=customer, currency="USD", timezone="UTC"
        )
        lease = create_subscription(
            open_uow("default"), customer=customer, plan=plan, start=date(2026, 1, 1)
        )
        at = datetime(2026, 1, 20, tzinfo=UTC)
        if plan == "lease":
            cancel_subscription(open_uow("default"), lease.id, timing="immediate", at=at)
        else:
            buy_out_subscription(open_uow("default"), lease.id, at=datetime(2026, 2, 1, tzinfo=UTC))
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
    # an opening and a close each; 6 cancellations of sales, 2 of leases and 2 buy-outs
    invoices = 2 * (CUSTOMERS + 4) + CUSTOMERS // 2 + 4
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
    lease = {
        (invoice["customer"], invoice["kind"]): [
            (li["charge"], li["amount"]) for li in invoice["lines"]
        ]
        for invoice in listed
        if invoice["customer"].startswith("lessee")
    }
    for ended in ("lessee0", "lessee1"):
        # 120.00 x 12 / 31 days unused; 0.5 x 35 months (February 2026 to December 2028) x 120.00
        assert lease[ended, "cancellation"] == [
            ("lease", "-46.45"),
            ("early_termination_fee", "2100.00"),
        ]
    for bought in ("lessee2", "lessee3"):
        assert lease[bought, "cancellation"] == [("buy_out", "300.00")]
        assert lease[bought, "close"] == [("sms", "0.00")]  # January; no fee for February
