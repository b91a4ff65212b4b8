"""What is stored of asset sharing (buyers per device, settlements of sales), alike on
memory, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from iotbill.domain.errors import Conflict, NotFound
from iotbill.domain.models.asset_sharing import AssetBuyer, Settlement, SoldLine, settlement_id
from iotbill.domain.money import currency
from iotbill.domain.periods import Period
from iotbill.services.ports import UnitOfWorkFactory
from tests.contract.conftest import add_devices, device

MARCH = Period(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
APRIL = Period(MARCH.end, datetime(2026, 5, 1, tzinfo=UTC))
AT = datetime(2026, 2, 1, 0, 0, 0, 7, tzinfo=UTC)


def settlement(period: Period, number: int, customer: str = "c2") -> Settlement:
    return Settlement(
        id=settlement_id(f"{customer}-sub", period, number),
        subscription_id=f"{customer}-sub",
        customer_id=customer,
        period=period,
        number=number,
        settled_at=period.end.replace(hour=3, microsecond=11),
        billed_at=period.end,
        currency=currency("EUR"),
        share=Decimal("33.333"),
        unit="kWh",
        lines=(
            SoldLine("b1", "grid", "c1", Decimal("0.185"), Decimal("40.125"), Decimal("7.42")),
            SoldLine("b1", "spot", None, Decimal("0"), Decimal("0.000000001"), Decimal("0.00")),
        )
        if number == 1
        else (),
        event_ids=("e-2", "e-1") if number == 1 else (),
    )


def test_buyers_are_stored_per_device_and_name(store: UnitOfWorkFactory, tenant: str) -> None:
    add_devices(store, tenant, device("b1", "c2"), device("b2", "c2"))
    grid = AssetBuyer("b2", "grid", "c1", AT)
    spot = AssetBuyer("b1", "spot", None, AT)
    other = AssetBuyer("b1", "grid", "c1", AT)
    with store(tenant) as uow:
        for buyer in (grid, spot, other):
            uow.sharing.add_buyer(buyer)
        uow.commit()
    with store(tenant) as uow:
        assert uow.sharing.buyers() == [other, spot, grid]
        assert uow.sharing.buyers("b2") == [grid]
        assert uow.sharing.buyers("nope") == []
        with pytest.raises(Conflict, match="device 'b1' has a buyer 'spot' already"):
            uow.sharing.add_buyer(AssetBuyer("b1", "spot", "c1", AT))
    with store(tenant) as uow, pytest.raises(NotFound):
        uow.sharing.add_buyer(AssetBuyer("ghost", "grid", "c1", AT))
    with store(tenant) as uow, pytest.raises(NotFound):
        uow.sharing.add_buyer(AssetBuyer("b1", "other", "nobody", AT))
    with store(tenant) as uow:
        assert len(uow.sharing.buyers()) == 3


def test_settlements_are_stored_exactly_and_listed_in_order(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    late, april, first = settlement(MARCH, 2), settlement(APRIL, 1), settlement(MARCH, 1)
    mine = settlement(MARCH, 1, customer="c1")
    with store(tenant) as uow:
        uow.sharing.add_settlements([april, late])
        uow.sharing.add_settlements([first, mine])
        uow.sharing.add_settlements([])
        uow.commit()
    with store(tenant) as uow:
        assert uow.sharing.settlements() == [mine, first, late, april]
        assert uow.sharing.settlements("c2") == [first, late, april]
        stored = uow.sharing.settlements("c2")[0]
        assert stored.lines[1].quantity == Decimal("0.000000001")
        assert stored.settled_at.microsecond == 11
        assert stored.event_ids == ("e-2", "e-1")
        with pytest.raises(Conflict):
            uow.sharing.add_settlements([settlement(APRIL, 2), settlement(APRIL, 1)])
    with store(tenant) as uow, pytest.raises(NotFound):
        uow.sharing.add_settlements([settlement(APRIL, 3, customer="nobody")])
    with store(tenant) as uow:
        assert len(uow.sharing.settlements()) == 4


def test_a_credit_line_charge_is_stored_negative(store: UnitOfWorkFactory, tenant: str) -> None:
    from iotbill.domain.one_off_charges import OneOffCharge

    credit = OneOffCharge.credit(
        id="s/b1/credit",
        customer_id="c2",
        description="30 % share of 10.34 EUR sold from b1",
        amount=Decimal("3.10"),
        currency=currency("EUR"),
        recorded_at=MARCH.end,
    )
    with store(tenant) as uow:
        uow.one_off_charges.add(credit)
        uow.commit()
    with store(tenant) as uow:
        (stored,) = uow.one_off_charges.pending(["c2"])
        assert stored == credit
        assert (stored.kind, stored.line().amount) == ("credit", Decimal("-3.10"))


SHARING_PLAN = """\
code: battery-sharing
currency: EUR
interval: month
fixed_fees: [{code: monitoring, amount: "4.90", timing: advance}]
sharing: {event_type: capacity.sold, quantity: kwh, price: price, buyer: buyer, share: "30"}
"""


def test_the_settlement_job_settles_each_sale_once_and_a_late_one_next(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    from iotbill.adapters.plan_files import parse_plan_text
    from iotbill.domain.credits import balances
    from iotbill.domain.customers import Customer
    from iotbill.domain.events import UsageEvent
    from iotbill.domain.subscriptions import subscribe
    from iotbill.services.sharing import register_buyer, settle_sales

    jan_1 = datetime(2026, 1, 1, tzinfo=UTC)
    with store(tenant) as uow:
        plan = parse_plan_text(SHARING_PLAN, "plan.yaml")
        uow.plans.add_version(plan, SHARING_PLAN, jan_1)
        uow.customers.add(
            Customer.create(id="c3", name="Grid", currency_code="EUR", timezone="UTC")
        )
        uow.devices.add(device("b1", "c2"))
        owner = uow.customers.get("c2")  # EUR, Berlin
        uow.subscriptions.add(
            subscribe(id="s1", customer=owner, plan=plan, plan_version=1, start=jan_1)
        )
        uow.commit()
    register_buyer(store(tenant), device="b1", buyer="grid", customer="c3", at=jan_1)
    register_buyer(store(tenant), device="b1", buyer="spot", customer=None, at=jan_1)

    def sell(id: str, day: int, kwh: str, price: str, buyer: str, received: datetime) -> None:
        properties = {"kwh": Decimal(kwh), "price": Decimal(price), "buyer": buyer}
        event = UsageEvent(
            id, "capacity.sold", "b1", datetime(2026, 1, day, tzinfo=UTC), properties
        )
        with store(tenant) as uow:
            uow.events.append([event], ["c2"], received)
            uow.commit()

    sell("e1", 5, "12.5", "0.21", "grid", datetime(2026, 1, 5, tzinfo=UTC))
    sell("e2", 9, "3", "0.095", "spot", datetime(2026, 1, 9, tzinfo=UTC))
    feb_1 = datetime(2026, 2, 1, 6, tzinfo=UTC)  # January ended in Berlin at 23:00 UTC
    first = settle_sales(store(tenant), as_of=feb_1, now=feb_1)
    assert settle_sales(store(tenant), as_of=feb_1, now=feb_1).settled == []  # again: nothing
    sell("e3", 20, "5", "0.21", "grid", datetime(2026, 2, 15, tzinfo=UTC))  # late
    sell("e3", 20, "5", "0.21", "grid", datetime(2026, 2, 16, tzinfo=UTC))  # replayed
    mar_1 = datetime(2026, 3, 1, 6, tzinfo=UTC)
    late = settle_sales(store(tenant), as_of=mar_1, now=mar_1)
    assert [(s.number, [str(x.amount) for x in s.lines], s.event_ids) for s in first.settled] == [
        (1, ["2.63", "0.29"], ("e1", "e2"))
    ]
    assert [
        (s.period.start.month, s.number, [str(x.amount) for x in s.lines]) for s in late.settled
    ] == [
        (1, 2, ["1.05"]),  # January, from the start of the subscription
        (1, 1, []),  # February, from 31 January at 23:00 UTC (Berlin): nothing sold
    ]
    with store(tenant) as uow:
        charges = uow.one_off_charges.list()
        entries = uow.credits.entries()
        stored = uow.sharing.settlements("c2")
    # 2.63 + 0.29 = 2.92, 30 % = 0.876 -> 0.88; late 1.05, 30 % = 0.315 -> 0.32.
    assert sorted((c.customer_id, c.kind, str(c.line().amount)) for c in charges) == [
        ("c2", "credit", "-0.32"),
        ("c2", "credit", "-0.88"),
        ("c3", "one_off", "1.05"),
        ("c3", "one_off", "2.63"),
    ]
    assert stored == [*first.settled, *late.settled]
    totals = balances(entries)
    assert totals["asset_sales"] == 0 and totals["operator_revenue"] == Decimal("2.77")
    assert totals["customer:c2:receivable"] == Decimal("1.20")

    fixed = UsageEvent(
        "e4",
        "capacity.sold",
        "b1",
        datetime(2026, 1, 5, tzinfo=UTC),
        {"kwh": Decimal("13"), "price": Decimal("0.21"), "buyer": "grid"},
        corrects="e1",
    )
    with store(tenant) as uow:
        uow.events.append([fixed], ["c2"], datetime(2026, 3, 2, tzinfo=UTC))
        uow.commit()
    apr_1 = datetime(2026, 4, 1, 6, tzinfo=UTC)
    held = settle_sales(store(tenant), as_of=apr_1, now=apr_1)
    # Berlin's months start at 23:00 UTC the day before: March's period, nothing sold.
    assert [(s.period.start.month, s.number, s.lines) for s in held.settled] == [(2, 1, ())]
    assert [(u.period.start.month, u.reason.split(":")[0]) for u in held.unsettled] == [
        (1, "event 'e1' (settled by 's1/sales/2026-01-01T00")  # from the start
    ]
    assert "was corrected or voided by 'e4' since" in held.unsettled[0].reason
