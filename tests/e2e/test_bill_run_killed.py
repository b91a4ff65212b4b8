"""A bill run killed for real (SIGKILL) part-way, then run again from the command line.

Every invoice must then exist exactly once, numbered without a gap, and each coupon
period is taken once. The kill
comes from inside the running process, at a chosen point: after a batch has
committed, or in the middle of a batch's transaction, after its invoices were
written but before the commit.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from iotbill.adapters.clock import FrozenClock
from iotbill.adapters.plan_files import parse_plan_document
from iotbill.adapters.storage.sql.engine import create_engine_for, upgrade
from iotbill.adapters.storage.sql.unit_of_work import sql_unit_of_work_factory
from iotbill.domain.events import SourcedEvent, UsageEvent
from iotbill.services.catalog import apply_plan
from iotbill.services.coupons import apply_coupon, create_coupon
from iotbill.services.customers import add_customer, add_device
from iotbill.services.ingest import ingest
from iotbill.services.one_off_charges import add_one_off_charge
from iotbill.services.subscriptions import create_subscription
from tests.conftest import run_iotbill

SUBSCRIPTIONS = 12
BATCH = 4
CHARGED = (1, 5, 9)  # a one-off charge in each batch: the one killed and those around it
PLAN = """\
code: pump
name: Pump
currency: USD
interval: month
fixed_fees: [{code: base, amount: "31.00"}]
meters: [{code: water, event_type: pump.flow, aggregation: sum, property: m3}]
charges: [{code: water, meter: water, model: per_unit, unit_price: "0.50"}]
"""
# Runs the bill run in a child process and kills it (SIGKILL) at the chosen point.
CHILD = """
import os, signal, sys
from datetime import datetime, UTC
from iotbill.adapters.storage.sql.engine import create_engine_for
from iotbill.adapters.storage.sql.unit_of_work import sql_unit_of_work_factory
from iotbill.adapters.storage.sql.invoices import SqlInvoiceRepository
from iotbill.services.billing import bill_run

database, where = sys.argv[1], sys.argv[2]
kill = lambda *args, **kwargs: os.kill(os.getpid(), signal.SIGKILL)
if where == "inside-second-batch":
    writes = []
    original = SqlInvoiceRepository.add_many
    def add_many(self, invoices):
        original(self, invoices)
        writes.append(1)
        if len(writes) == 2:
            kill()
    SqlInvoiceRepository.add_many = add_many
at = datetime(2026, 2, 1, 12, tzinfo=UTC)
bill_run(
    sql_unit_of_work_factory(create_engine_for(database)), "default", as_of=at, now=at,
    batch_size=int(sys.argv[3]), progress=kill if where == "after-first-batch" else None,
)
"""


def set_up(database: Path) -> None:
    engine = create_engine_for(str(database))
    upgrade(engine)
    open_uow = sql_unit_of_work_factory(engine)
    clock = FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))
    apply_plan(open_uow("default"), parse_plan_document(PLAN, "plan.yaml"), clock)
    january = clock.now()
    create_coupon(open_uow("default"), code="FIVE", at=january, amount="5.00", currency="USD",
                  periods=1)  # fmt: skip
    create_coupon(open_uow("default"), code="TENTH", at=january, percent="10", periods=2)
    events = []
    for number in range(SUBSCRIPTIONS):
        customer = f"c{number:02d}"
        add_customer(
            open_uow("default"), id=customer, name=customer, currency="USD", timezone="UTC"
        )
        add_device(open_uow("default"), f"d{number:02d}", customer=customer, start=date(2026, 1, 1))
        subscription = create_subscription(
            open_uow("default"), customer=customer, plan="pump", start=date(2026, 1, 1)
        )
        coupon = "TENTH" if number % 2 else "FIVE"  # an amount, or a percentage, on each
        apply_coupon(open_uow("default"), coupon, subscription=subscription.id, at=january)
        event = UsageEvent(
            id=f"e{number}", type="pump.flow", device=f"d{number:02d}",
            timestamp=datetime(2026, 1, 15, tzinfo=UTC), properties={"m3": number},
        )  # fmt: skip
        events.append(SourcedEvent(event, number + 1))
        if number in CHARGED:
            add_one_off_charge(
                open_uow("default"), customer=customer, description="Setup visit",
                amount="45.00", at=datetime(2026, 1, 10, tzinfo=UTC),
            )  # fmt: skip
    ingest(open_uow, "default", events, clock=FrozenClock(datetime(2026, 1, 31, tzinfo=UTC)))
    engine.dispose()


@pytest.mark.parametrize("where", ["after-first-batch", "inside-second-batch"])
def test_killed_bill_run_then_run_again_leaves_every_invoice_once(
    tmp_path: Path, where: str
) -> None:
    database = tmp_path / "billing.db"
    set_up(database)
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(database), where, str(BATCH)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    partial = run_iotbill("invoices", "list", "--database", str(database), "--json")
    assert partial.exit_code == 0, partial.stderr
    assert len(json.loads(partial.stdout)) == 2 * BATCH  # the first batch only, whole

    again = run_iotbill(
        "bill-run", "--as-of", "2026-02-01T12:00:00Z", "--database", str(database), "--json"
    )
    assert again.exit_code == 0, again.stderr
    listed = json.loads(
        run_iotbill("invoices", "list", "--database", str(database), "--json").stdout
    )
    ids = [invoice["id"] for invoice in listed]
    assert len(ids) == len(set(ids)) == 2 * SUBSCRIPTIONS  # an opening and a close each
    numbers = sorted(invoice["number"] for invoice in listed)
    assert numbers == [f"INV-2026-{n:06d}" for n in range(1, 2 * SUBSCRIPTIONS + 1)]
    closes = {i["customer"]: i["total"] for i in listed if "/close/" in i["id"]}
    # 4 m3 x 0.50 + February's 31.00, less FIVE's 5.00 for January, taken once.
    assert closes["c04"] == "28.00"
    # 5 m3 x 0.50 + February's 31.00, less TENTH's 10 % of each: 2.25 + 27.90; and the
    # setup visit's 45.00, recorded on 10 January (a coupon discounts the plan's charges).
    assert closes["c05"] == "75.15"
    # Openings 6 x 31.00 + 6 x 27.90; closes 6 x 26.00 + 15.00 (even m3) and
    # 6 x 27.90 + 0.45 x 36 (odd m3); 3 setup visits x 45.00: every discount and charge once.
    total = sum(Decimal(invoice["total"]) for invoice in listed)
    assert total == Decimal("843.00")
    one_offs = [
        (invoice["customer"], line["amount"])
        for invoice in listed
        for line in invoice["lines"]
        if line["kind"] == "one_off"
    ]
    assert sorted(one_offs) == [("c01", "45.00"), ("c05", "45.00"), ("c09", "45.00")]
    charges = json.loads(
        run_iotbill("charges", "list", "--database", str(database), "--json").stdout
    )
    billed_on = {
        invoice["customer"]: invoice["id"] for invoice in listed if "/close/" in invoice["id"]
    }
    assert {c["customer"]: c["invoice"] for c in charges} == {
        f"c{n:02d}": billed_on[f"c{n:02d}"] for n in CHARGED
    }
