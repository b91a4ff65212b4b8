"""Bill runs on every store: the same invoices, exactly once, numbered without gaps.

The stories (``tests/stories``) move a clock through months on the memory
store; these run bill runs on SQLite and PostgreSQL too, where a batch of
subscriptions is read in a few queries (``load_many``, ``count_many``,
summaries) and written in bulk, and where a batch commits whole or not at all.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from unittest.mock import patch

import pytest

from iotbill.adapters.plan_files import parse_plan_text
from iotbill.adapters.storage.sql import events as sql_events
from iotbill.adapters.storage.sql.events import SqlEventStore
from iotbill.domain.customers import Device
from iotbill.domain.events import UsageEvent
from iotbill.domain.invoices import Invoice
from iotbill.domain.subscriptions import subscribe
from iotbill.services.balance import grant_credit
from iotbill.services.billing import bill_run
from iotbill.services.ports import UnitOfWork, UnitOfWorkFactory
from tests.contract.conftest import JAN_1
from tests.stories.test_active_device_stories import PLAN as SIMS
from tests.stories.test_subscription_stories import PUMP
from tests.stories.test_transaction_fee_stories import PLAN as TILL
from tests.stories.test_weighted_sum_stories import RECURRING as RESERVE
from tests.stories.world import lines

FEB_1 = JAN_1 + timedelta(days=31)
MAR_1 = FEB_1 + timedelta(days=28)


class Crash(Exception):
    """The process dies."""


def _subscribe(store: UnitOfWorkFactory, tenant: str, *devices: str, own: bool) -> None:
    """Customer c1's devices, and a subscription each (``own``) or one for them all."""
    plan = parse_plan_text(PUMP, "plan.yaml")
    with store(tenant) as uow:
        customer = uow.customers.get("c1")
        uow.plans.add_version(plan, PUMP, JAN_1)
        for device in devices:
            uow.devices.add(Device.create(device, "c1", JAN_1))
        subscribed = [(f"s-{device}", device) for device in devices] if own else [("s-c1", None)]
        for id, device_id in subscribed:
            uow.subscriptions.add(
                subscribe(
                    id=id,
                    customer=customer,
                    plan=plan,
                    plan_version=1,
                    start=JAN_1,
                    device_id=device_id,
                )
            )
        uow.commit()


def _subscribe_to(store: UnitOfWorkFactory, tenant: str, text: str, device: str) -> None:
    """Customer c1 subscribed from 1 January to the plan of ``text``, with ``device``."""
    plan = parse_plan_text(text, "plan.yaml")
    with store(tenant) as uow:
        uow.plans.add_version(plan, text, JAN_1)
        uow.devices.add(Device.create(device, "c1", JAN_1))
        customer = uow.customers.get("c1")
        uow.subscriptions.add(
            subscribe(
                id=f"s-{plan.code}", customer=customer, plan=plan, plan_version=1, start=JAN_1
            )
        )
        uow.commit()


def _send(
    store: UnitOfWorkFactory,
    tenant: str,
    received_at: datetime,
    event_type: str,
    device: str,
    name: str,
    values: tuple[tuple[str, datetime, str], ...],
) -> None:
    """Events ``(id, timestamp, value)`` of ``device`` (customer c1's), carrying the property
    ``name``, stored at ``received_at``."""
    events = [
        UsageEvent(id, event_type, device, at, {name: Decimal(value)}) for id, at, value in values
    ]
    with store(tenant) as uow:
        uow.events.append(events, ["c1"] * len(events), received_at)
        uow.commit()


def _flow(store: UnitOfWorkFactory, tenant: str, received_at: datetime, *flows: tuple) -> None:
    """Events ``(id, device, timestamp, m3)`` of customer c1, stored at ``received_at``."""
    events = [
        UsageEvent(id, "pump.flow", device, at, {"m3": Decimal(m3)}) for id, device, at, m3 in flows
    ]
    with store(tenant) as uow:
        uow.events.append(events, ["c1"] * len(events), received_at)
        uow.commit()


def _invoices(uow: UnitOfWork) -> list[Invoice]:
    return sorted(
        uow.invoices.list(), key=lambda invoice: (invoice.subscription_id, invoice.issued_at)
    )


def test_device_and_customer_subscriptions_with_a_late_event(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    _subscribe(store, tenant, "d1", own=False)
    _subscribe(store, tenant, "d2", own=True)  # d2's events are its own subscription's only
    _flow(store, tenant, FEB_1, ("e1", "d1", JAN_1 + timedelta(days=3), "50"))
    _flow(store, tenant, FEB_1, ("e2", "d2", JAN_1 + timedelta(days=4), "120"))
    first = bill_run(store, tenant, as_of=FEB_1, now=FEB_1)
    assert first.finalized == [f"INV-2026-00000{n}" for n in range(1, 5)]
    late_at = FEB_1 + timedelta(days=4)
    _flow(store, tenant, late_at, ("e3", "d1", JAN_1 + timedelta(days=20), "100"))  # late
    _flow(store, tenant, late_at, ("e4", "d2", FEB_1 + timedelta(days=2), "10"))
    bill_run(store, tenant, as_of=MAR_1, now=MAR_1)
    with store(tenant) as uow:
        found = [(invoice.id, invoice.number, lines(invoice)) for invoice in _invoices(uow)]
    close = "close/2026-0"
    assert found == [
        ("s-c1/opening", "INV-2026-000001", [("fixed_fee", "base", "31.00")]),
        (f"s-c1/{close}1-01T00:00:00+00:00", "INV-2026-000002", _usage("25.00")),
        # January re-priced with the late 100 m3: 150 m3 is 65.00, 25.00 was billed.
        (
            f"s-c1/{close}2-01T00:00:00+00:00",
            "INV-2026-000005",
            [*_usage("0.00"), ("adjustment", "water", "40.00")],
        ),
        ("s-d2/opening", "INV-2026-000003", [("fixed_fee", "base", "31.00")]),
        (f"s-d2/{close}1-01T00:00:00+00:00", "INV-2026-000004", _usage("56.00")),
        (f"s-d2/{close}2-01T00:00:00+00:00", "INV-2026-000006", _usage("5.00")),
    ]
    again = bill_run(store, tenant, as_of=MAR_1, now=MAR_1 + timedelta(days=1))
    assert (again.issued, again.revised, again.finalized) == ([], [], [])


def _usage(amount: str) -> list[tuple[str, str, str]]:
    return [("usage", "water", amount), ("fixed_fee", "base", "31.00")]


def test_drafts_are_revised_in_their_grace_period_then_finalized(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    grace = timedelta(days=3)
    _subscribe(store, tenant, "d1", own=False)
    _flow(store, tenant, FEB_1, ("e1", "d1", JAN_1 + timedelta(days=3), "50"))
    issued = bill_run(store, tenant, as_of=FEB_1, now=FEB_1, grace=grace)
    close_id = "s-c1/close/2026-01-01T00:00:00+00:00"
    assert issued.issued == ["s-c1/opening", close_id]
    assert issued.finalized == ["INV-2026-000001"]  # the opening's grace ended on January 4
    _flow(store, tenant, FEB_1 + timedelta(days=1), ("e2", "d1", FEB_1 - timedelta(hours=1), "10"))
    revised = bill_run(
        store, tenant, as_of=FEB_1 + timedelta(days=2), now=FEB_1 + timedelta(days=2), grace=grace
    )
    assert (revised.issued, revised.revised, revised.finalized) == ([], [close_id], [])
    with store(tenant) as uow:
        draft = uow.invoices.get(close_id)
    assert (draft.status, lines(draft)) == ("draft", _usage("30.00"))
    due = FEB_1 + grace
    finalized = bill_run(store, tenant, as_of=due, now=due, grace=grace)
    assert finalized.finalized == ["INV-2026-000002"]
    with store(tenant) as uow:
        invoice = uow.invoices.get(close_id)
    assert (invoice.status, invoice.finalized_at, lines(invoice)) == (
        "finalized",
        due,
        _usage("30.00"),
    )


def _crashing_at_commit(store: UnitOfWorkFactory, which: int) -> UnitOfWorkFactory:
    """``store``, but its ``which``-th commit (counting from 1) raises :class:`Crash`."""
    commits = itertools.count(1)

    def open_uow(tenant: str, *, read_only: bool = False) -> UnitOfWork:
        uow = store(tenant, read_only=read_only)
        commit = uow.commit

        def crash_or_commit() -> None:
            if next(commits) == which:
                raise Crash
            commit()

        uow.commit = crash_or_commit  # type: ignore[method-assign]
        return uow

    return open_uow


def test_a_run_killed_between_batches_then_run_again_leaves_every_invoice_once(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    devices = [f"d{n}" for n in range(1, 6)]
    _subscribe(store, tenant, *devices, own=True)
    _flow(store, tenant, FEB_1, *((f"e-{d}", d, JAN_1 + timedelta(days=5), "3") for d in devices))
    with pytest.raises(Crash):  # the second batch of two subscriptions dies at its commit
        bill_run(_crashing_at_commit(store, 2), tenant, as_of=FEB_1, now=FEB_1, batch_size=2)
    with store(tenant) as uow:
        survivors = _invoices(uow)
    assert [(i.subscription_id, i.number) for i in survivors] == [
        ("s-d1", "INV-2026-000001"),
        ("s-d1", "INV-2026-000002"),
        ("s-d2", "INV-2026-000003"),
        ("s-d2", "INV-2026-000004"),
    ]
    rerun = bill_run(store, tenant, as_of=FEB_1, now=FEB_1 + timedelta(hours=1), batch_size=2)
    assert rerun.finalized == [f"INV-2026-{n:06d}" for n in range(5, 11)]
    with store(tenant) as uow:
        invoices = _invoices(uow)
    assert [i.id for i in invoices] == [
        f"s-{d}/{kind}" for d in devices for kind in ("opening", "close/2026-01-01T00:00:00+00:00")
    ]
    assert sorted(i.number or "" for i in invoices) == [f"INV-2026-{n:06d}" for n in range(1, 11)]
    assert invoices[:4] == survivors  # the committed batch was left as it was


def test_a_plan_of_fees_only_bills_without_reading_events(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    text = PUMP.split("meters:")[0].replace("code: pump", "code: flat")  # no meter, no charge
    plan = parse_plan_text(text, "plan.yaml")
    with store(tenant) as uow:
        uow.plans.add_version(plan, text, JAN_1)
        uow.subscriptions.add(
            subscribe(
                id="s1", customer=uow.customers.get("c1"), plan=plan, plan_version=1, start=JAN_1
            )
        )
        uow.commit()
    bill_run(store, tenant, as_of=FEB_1, now=FEB_1)
    with store(tenant) as uow:
        assert [lines(invoice) for invoice in _invoices(uow)] == [
            [("fixed_fee", "base", "31.00")],
            [("fixed_fee", "base", "31.00")],  # February in advance; January had no usage
        ]


def test_a_late_correction_and_void_are_billed_as_one_adjustment(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    _subscribe(store, tenant, "d1", own=False)
    jan_4, jan_5 = JAN_1 + timedelta(days=3), JAN_1 + timedelta(days=4)
    _flow(store, tenant, FEB_1, ("e1", "d1", jan_4, "50"), ("e2", "d1", jan_5, "30"))
    bill_run(store, tenant, as_of=FEB_1, now=FEB_1)  # January: 80 m3 is 40.00
    fixes = [
        UsageEvent("e1-fix", "pump.flow", "d1", jan_4, {"m3": Decimal(150)}, corrects="e1"),
        UsageEvent("e2-void", "pump.flow", "d1", jan_5, voids="e2"),
    ]
    with store(tenant) as uow:
        uow.events.append(fixes, ["c1", "c1"], FEB_1 + timedelta(days=4))
        uow.commit()
    bill_run(store, tenant, as_of=MAR_1, now=MAR_1)
    with store(tenant) as uow:
        found = [lines(invoice) for invoice in _invoices(uow)]
    # January re-priced: 150 m3 is 65.00 (e2 void), 40.00 was billed.
    assert found[1:] == [_usage("40.00"), [*_usage("0.00"), ("adjustment", "water", "25.00")]]


def test_a_killed_run_uses_each_credit_and_issues_each_interim_invoice_once(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    text = PUMP.replace("code: pump", "code: staged") + 'thresholds: ["20.00"]\n'
    plan = parse_plan_text(text, "plan.yaml")
    with store(tenant) as uow:
        customer = uow.customers.get("c1")
        uow.plans.add_version(plan, text, JAN_1)
        for device in ("d1", "d2", "d3"):
            uow.devices.add(Device.create(device, "c1", JAN_1))
            uow.subscriptions.add(
                subscribe(
                    id=f"s-{device}",
                    customer=customer,
                    plan=plan,
                    plan_version=1,
                    start=JAN_1,
                    device_id=device,
                )
            )
        uow.commit()
    grant_credit(store(tenant), customer="c1", amount="40.00", at=JAN_1)
    day_5 = JAN_1 + timedelta(days=5)
    _flow(store, tenant, day_5, *((f"e-{d}", d, day_5, "60") for d in ("d1", "d2", "d3")))
    at = day_5 + timedelta(hours=1)
    with pytest.raises(Crash):  # the second batch (s-d3) dies at its commit
        bill_run(_crashing_at_commit(store, 2), tenant, as_of=at, now=at, batch_size=2)
    rerun = bill_run(store, tenant, as_of=at, now=at, batch_size=2)
    again = bill_run(store, tenant, as_of=at, now=at, batch_size=2)
    assert again.issued == [] and again.finalized == []
    with store(tenant) as uow:
        invoices = _invoices(uow)
        entries = uow.credits.entries(["c1"])
    # Each device: an opening of 31.00 and, at 60 m3 (100 x 0.50 tier: 30.00 >= 20.00), an
    # interim invoice of 30.00. The 40.00 of credit pays the first opening and 9.00 of the
    # next invoice finalized, once, whatever the crash.
    assert sorted(i.id.split("/", 1)[1] for i in invoices) == sorted(
        ["opening", "interim/2026-01-01T00:00:00+00:00/1"] * 3
    )
    assert rerun.issued == ["s-d3/opening", "s-d3/interim/2026-01-01T00:00:00+00:00/1"]
    assert [str(i.total) for i in invoices] == ["31.00", "30.00"] * 3
    assert sum((i.balance_applied for i in invoices), Decimal(0)) == Decimal("40.00")
    assert {entry.document: entry.amount for entry in entries} == {
        None: Decimal("40.00"),  # the grant
        "s-d1/opening": Decimal("31.00"),
        "s-d1/interim/2026-01-01T00:00:00+00:00/1": Decimal("9.00"),
    }
    assert sorted(i.number or "" for i in invoices) == [f"INV-2026-{n:06d}" for n in range(1, 7)]


def test_fees_per_payment_read_the_payments_in_time_then_id_order_on_every_store(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    """q3 (100) and q4 (50) share an instant: by id, q3 is the third payment, free, and q4
    the fourth, paying 0.70 (the other way round, 1.30); 1,000 pays 5 (cut) and 10 pays
    0.25 (raised): 5.95. A payment of 30 before them all, received after January was
    finalized, moves the allowance: q3 pays 1.30 too, so February's close adds 1.30."""
    _subscribe_to(store, tenant, TILL, "till-1")
    day = timedelta(days=1)

    def pay(received_at: datetime, *payments: tuple[str, datetime, str]) -> None:
        _send(store, tenant, received_at, "payment", "till-1", "usd", payments)

    at = JAN_1 + 3 * day
    pay(
        FEB_1,
        ("q6", JAN_1 + 5 * day, "10"),
        ("q4", at, "50"),
        ("q1", JAN_1 + day, "200"),
        ("q5", JAN_1 + 4 * day, "1000"),
        ("q3", at, "100"),
        ("q2", JAN_1 + 2 * day, "100"),
    )
    bill_run(store, tenant, as_of=FEB_1, now=FEB_1)
    pay(FEB_1 + day, ("q0", JAN_1 + timedelta(hours=12), "30"))
    bill_run(store, tenant, as_of=MAR_1, now=MAR_1)
    with store(tenant) as uow:
        found = [(invoice.number, lines(invoice)) for invoice in _invoices(uow)]
    assert found == [
        ("INV-2026-000001", [("usage", "fees", "5.95")]),
        ("INV-2026-000002", [("usage", "fees", "0.00"), ("adjustment", "fees", "1.30")]),
    ]


def test_a_recurring_weighted_sum_carries_every_earlier_change_on_every_store(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    """Capacity reserved, carried from month to month: January 470 / 31 kWh (1.52),
    February from 30 with -5 for 18 days (2.68). A reservation of 12 from 1 January,
    received after both were finalized, reprices each (1.20 more each, on March's close,
    which starts from 37: 3.70). The store reads every earlier change of the meter, not
    only the last."""
    _subscribe_to(store, tenant, RESERVE.replace("currency: EUR", "currency: USD"), "battery-1")
    day = timedelta(days=1)

    def reserve(received_at: datetime, *changes: tuple[str, datetime, str]) -> None:
        _send(store, tenant, received_at, "capacity.reserved", "battery-1", "kwh", changes)

    reserve(FEB_1, ("r1", JAN_1 + 15 * day, "20"), ("r2", JAN_1 + 16 * day, "10"))
    reserve(MAR_1, ("r3", FEB_1 + 10 * day, "-5"))
    bill_run(store, tenant, as_of=MAR_1, now=MAR_1)
    reserve(MAR_1 + day, ("r0", JAN_1, "12"))
    apr_1 = MAR_1 + 31 * day
    bill_run(store, tenant, as_of=apr_1, now=apr_1)
    with store(tenant) as uow:
        found = [(invoice.number, lines(invoice)) for invoice in _invoices(uow)]
    assert found == [
        ("INV-2026-000001", [("usage", "reserved", "1.52")]),
        ("INV-2026-000002", [("usage", "reserved", "2.68")]),
        (
            "INV-2026-000003",
            [
                ("usage", "reserved", "3.70"),
                ("adjustment", "reserved", "1.20"),
                ("adjustment", "reserved", "1.20"),
            ],
        ),
    ]


SENSORS = """
code: sensors
name: Sensors served
currency: USD
interval: month
meters:
  - {code: sensors, event_type: gateway.status, aggregation: latest, property: sensors,
     recurring: true}
charges:
  - {code: sensors, meter: sensors, model: per_unit, unit_price: "1.50"}
"""


def test_a_recurring_latest_carries_the_last_report_on_every_store(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    """The last count a gateway reported, billed each month: January 42 (63.00), February
    without a report carries it (63.00). A count of 44 from 25 February, received after
    February was finalized, reprices it (3.00 more on March's close, whose own report is
    45: 67.50). The store carries the last reading before each period into it."""
    _subscribe_to(store, tenant, SENSORS, "gateway-1")
    day = timedelta(days=1)

    def report(received_at: datetime, *counts: tuple[str, datetime, str]) -> None:
        _send(store, tenant, received_at, "gateway.status", "gateway-1", "sensors", counts)

    report(FEB_1, ("g1", JAN_1 + 9 * day, "40"), ("g2", JAN_1 + 19 * day, "42"))
    bill_run(store, tenant, as_of=MAR_1, now=MAR_1)
    report(MAR_1 + day, ("g3", FEB_1 + 24 * day, "44"), ("g4", MAR_1 + 4 * day, "45"))
    apr_1 = MAR_1 + 31 * day
    bill_run(store, tenant, as_of=apr_1, now=apr_1)
    with store(tenant) as uow:
        found = [(invoice.number, lines(invoice)) for invoice in _invoices(uow)]
    assert found == [
        ("INV-2026-000001", [("usage", "sensors", "63.00")]),
        ("INV-2026-000002", [("usage", "sensors", "63.00")]),
        (
            "INV-2026-000003",
            [("usage", "sensors", "67.50"), ("adjustment", "sensors", "3.00")],
        ),
    ]


def test_a_recurring_sum_is_billed_from_the_total_the_store_measures_on_every_store(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    """The SIMs active at each month's end, 2.00 each: three activations in January
    (6.00), a deactivation in February (4.00), a late activation from 25 January received
    on 2 March (2.00 more for January and for February on March's close, which bills 3:
    6.00). On SQL the first run reads no event into the application: each month's total
    since the first activation is measured in the database (the second re-reads the
    months the late activation changed, to adjust them)."""
    _subscribe_to(store, tenant, SIMS.replace("currency: EUR", "currency: USD"), "gateway")
    day = timedelta(days=1)

    def change(received_at: datetime, *changes: tuple[str, datetime, str]) -> None:
        _send(store, tenant, received_at, "sim.activation", "gateway", "change", changes)

    change(FEB_1, *((f"a{n}", JAN_1 + n * day, "1") for n in (4, 9, 19)))
    change(MAR_1, ("d1", FEB_1 + 13 * day, "-1"))
    apr_1 = MAR_1 + 31 * day
    with _no_events_read(store):
        bill_run(store, tenant, as_of=MAR_1, now=MAR_1)
    change(MAR_1 + day, ("a5", JAN_1 + 24 * day, "1"))
    bill_run(store, tenant, as_of=apr_1, now=apr_1 + day)
    with store(tenant) as uow:
        found = [(invoice.number, lines(invoice)) for invoice in _invoices(uow)]
    assert found == [
        ("INV-2026-000001", [("usage", "active", "6.00")]),
        ("INV-2026-000002", [("usage", "active", "4.00")]),
        (
            "INV-2026-000003",
            [
                ("usage", "active", "6.00"),
                ("adjustment", "active", "2.00"),
                ("adjustment", "active", "2.00"),
            ],
        ),
    ]


@contextmanager
def _no_events_read(store: UnitOfWorkFactory) -> Iterator[None]:
    """On SQL, no event read for pricing: neither a batch's windows nor one window alone."""
    with store("default") as uow:
        sql = isinstance(uow.events, SqlEventStore)
    if not sql:
        yield
        return
    refused = AssertionError("events read")
    with (
        patch.object(sql_events, "load_events", side_effect=refused),
        patch.object(SqlEventStore, "load", side_effect=refused),
    ):
        yield
