"""The business models' side flows and the customer's money over HTTP, on SQLite and
PostgreSQL: coupons, credits and the balance, one-off charges, pause and resume, consumable
orders placed by the reorder job, and work orders with their labour and parts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from iotbill.client import ApiError, IotbillClient
from iotbill.services.orders import run_reorders
from tests.api.conftest import Served, Store
from tests.api.test_http_e2e import MONTH, set_up

PRINTER_PLAN = """\
code: printer
name: Printer with ink and service
currency: USD
interval: month
fixed_fees: [{code: base, name: Printer service, amount: "9.00"}]
meters: [{code: ink_level, event_type: printer.ink, aggregation: latest, property: level}]
consumables:
  - {code: ink, name: Ink cartridge, meter: ink_level, price: "24.90",
     lead_time_days: 3, horizon_days: 30, window_days: 14, refill_rise: 20}
service:
  labour_rate: "90.00"
  labour_increment_minutes: 15
  parts: [{code: roller, name: Feed roller, price: "18.50"}]
"""

NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
SINCE = NOW - timedelta(days=40)


def printer_customer(client: IotbillClient, uow_factory: Any, tenant: str) -> dict[str, Any]:
    """Customer ``bob`` with printer ``pr1`` on the printer plan, its ink read once a day for
    the last ten days, falling 9 points a day to 10 now: the reorder job places one order
    (run-out in about a day, within the 3 days' lead time). Returns the order."""
    client.upload_plan(PRINTER_PLAN)
    client.create_customer(id="bob", name="Bob", currency="USD", timezone="UTC")
    client.create_device(id="pr1", customer="bob", start=SINCE.isoformat())
    client.create_subscription(customer="bob", plan="printer", start=SINCE.isoformat())
    client.send_events(
        [
            {
                "id": f"ink-{days}",
                "type": "printer.ink",
                "device": "pr1",
                "timestamp": (NOW - timedelta(days=days)).isoformat(),
                "properties": {"level": 10 + 9 * days},
            }
            for days in range(10)
        ]
    )
    checks = run_reorders(uow_factory(tenant), as_of=NOW)
    assert [check.order is not None for check in checks] == [True]
    return client.list_orders(customer="bob")["data"][0]


def test_a_consumable_order_moves_on_and_a_cancelled_one_is_not_billed(
    store: Store, tenant_a: str, client_for: Any
) -> None:
    client = client_for(store.key(tenant_a, "admin"))
    order = printer_customer(client, store.uow_factory, tenant_a)
    assert (order["status"], order["price"], order["currency"]) == ("placed", "24.90", "USD")
    assert client.get_order(order["id"]) == order
    charges = client.list_charges(customer="bob")["data"]
    assert [(c["description"], c["amount"], c["invoice"]) for c in charges] == [
        ("Order bob/order/1: Ink cartridge for pr1", "24.90", None)
    ]
    shipped = client.ship_order(order["id"], at=NOW.isoformat())
    assert (shipped["status"], shipped["shipped_at"]) == ("shipped", NOW.isoformat())
    with pytest.raises(ApiError) as shipped_twice:
        client.ship_order(order["id"])
    assert shipped_twice.value.status == 409
    cancelled = client.cancel_order(order["id"])
    assert cancelled["status"] == "cancelled"
    assert client.list_charges(customer="bob")["data"] == []  # withdrawn: never invoiced


def test_a_work_order_from_open_to_resolved_bills_labour_and_parts(
    store: Store, tenant_a: str, client_for: Any
) -> None:
    client = client_for(store.key(tenant_a, "admin"))
    printer_customer(client, store.uow_factory, tenant_a)
    opened_at = NOW - timedelta(hours=5)
    opened = client.open_work_order(device="pr1", summary="Paper jam", at=opened_at.isoformat())
    assert (opened["status"], opened["customer"], opened["device"]) == ("open", "bob", "pr1")
    with pytest.raises(ApiError) as second:
        client.open_work_order(device="pr1", summary="Again")
    assert second.value.status == 409  # one open work order per device
    client.dispatch_work_order(opened["id"], at=(opened_at + timedelta(hours=1)).isoformat())
    client.arrive_work_order(opened["id"], at=(opened_at + timedelta(hours=2)).isoformat())
    resolved = client.resolve_work_order(
        opened["id"],
        at=(opened_at + timedelta(hours=2, minutes=50)).isoformat(),
        parts={"roller": 2},
    )
    assert resolved["status"] == "resolved"
    # 50 minutes on site: 4 started quarter hours, 1 hour at 90.00; two rollers at 18.50.
    assert sorted((c["quantity"], c["unit_price"], c["amount"]) for c in resolved["charges"]) == [
        ("1", "90.00", "90.00"),
        ("2", "18.50", "37.00"),
    ]
    assert client.get_work_order(opened["id"])["status"] == "resolved"
    assert [w["id"] for w in client.list_work_orders(customer="bob")["data"]] == [opened["id"]]
    with pytest.raises(ApiError) as resolved_twice:
        client.resolve_work_order(opened["id"], parts={"roller": 1})
    assert resolved_twice.value.status == 409
    another = client.open_work_order(device="pr1", summary="Another", at=NOW.isoformat())
    client.dispatch_work_order(another["id"], at=NOW.isoformat())
    client.arrive_work_order(another["id"], at=NOW.isoformat())
    with pytest.raises(ApiError) as unknown_part:
        client.resolve_work_order(another["id"], at=NOW.isoformat(), parts={"toner": 1})
    assert unknown_part.value.status == 422
    assert client.get_work_order(another["id"])["status"] == "on_site"  # nothing stored


def test_credits_the_balance_charges_and_coupons(
    store: Store, tenant_a: str, client_for: Any
) -> None:
    client = client_for(store.key(tenant_a, "admin"))
    subscription = set_up(client)
    granted = client.grant_credit(customer="acme", amount="25.00", description="Welcome")
    assert (granted["amount"], granted["remaining"], granted["charge"]) == ("25.00", "25.00", None)
    bought = client.grant_credit(customer="acme", amount="100", purchased=True)
    assert bought["kind"] == "purchased"
    assert (bought["charge"]["description"], bought["charge"]["amount"]) == (
        "Prepaid credit",
        "100.00",
    )
    balance = client.customer_balance("acme")
    assert (balance["balance"], balance["currency"], len(balance["entries"])) == (
        "125.00",
        "USD",
        2,
    )
    assert [c["amount"] for c in client.list_credits(customer="acme")["data"]] == [
        "25.00",
        "100.00",
    ]
    charge = client.add_charge(
        customer="acme", description="Installation", amount="45", quantity="2"
    )
    assert (charge["amount"], charge["kind"]) == ("90.00", "one_off")
    assert len(client.list_charges(customer="acme")["data"]) == 2
    coupon = client.create_coupon(code="SPRING", percent="10", periods=2, max_redemptions=1)
    assert (coupon["kind"], coupon["percent"], coupon["redeemed"]) == ("percentage", "10", 0)
    redeemed = client.redeem_coupon("SPRING", subscription=subscription["id"])
    assert (redeemed["coupon"], redeemed["subscription"]) == ("SPRING", subscription["id"])
    assert client.list_coupons()["data"][0]["redeemed"] == 1
    with pytest.raises(ApiError) as over_limit:
        client.redeem_coupon("SPRING", subscription=subscription["id"])
    assert over_limit.value.status == 409
    with pytest.raises(ApiError) as bad:
        client.grant_credit(customer="acme", amount="-5")
    assert bad.value.status == 422
    assert bad.value.problem["errors"][0]["field"] == "amount"
    assert client.customer_balance("acme")["balance"] == "125.00"  # nothing stored


def test_a_subscription_paused_and_resumed(store: Store, tenant_a: str, client_for: Any) -> None:
    client = client_for(store.key(tenant_a, "admin"))
    subscription = set_up(client)
    pause, resume = MONTH + timedelta(days=1), MONTH + timedelta(days=3)
    paused = client.pause_subscription(subscription["id"], at=pause.isoformat())
    assert paused["pauses"] == [{"start": pause.isoformat(), "end": None}]
    resumed = client.resume_subscription(subscription["id"], at=resume.isoformat())
    assert resumed["pauses"] == [{"start": pause.isoformat(), "end": resume.isoformat()}]
    with pytest.raises(ApiError) as not_paused:
        client.resume_subscription(subscription["id"], at=resume.isoformat())
    assert not_paused.value.status in (409, 422)


def test_another_tenant_reaches_none_of_the_side_flows(
    store: Store, served: Served, tenant_a: str, tenant_b: str, client_for: Any
) -> None:
    a = client_for(store.key(tenant_a, "admin"))
    b = client_for(store.key(tenant_b, "admin"))
    order = printer_customer(a, store.uow_factory, tenant_a)
    work = a.open_work_order(device="pr1", summary="Check")
    for call in (
        lambda: b.get_order(order["id"]),
        lambda: b.cancel_order(order["id"]),
        lambda: b.get_work_order(work["id"]),
        lambda: b.dispatch_work_order(work["id"]),
        lambda: b.open_work_order(device="pr1", summary="x"),
        lambda: b.customer_balance("bob"),
        lambda: b.list_orders(customer="bob"),
        lambda: b.grant_credit(customer="bob", amount="5"),
    ):
        with pytest.raises(ApiError) as refused:
            call()
        assert refused.value.status in (404, 422), refused.value
    assert b.list_orders()["data"] == b.list_work_orders()["data"] == []
    assert b.list_charges()["data"] == b.list_credits()["data"] == []
    assert a.get_order(order["id"])["status"] == "placed"
