"""Data monetization and asset sharing over HTTP, on SQLite and PostgreSQL: consent, an
export delivered to a buyer's key (its own products alone), its file fetched again without
being billed twice, and the routes refusing what the command line refuses."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest

from iotbill.client import ApiError
from tests.api.conftest import Store
from tests.e2e.test_data_products_cli import BUYER_PLAN, OTHER_PLAN, OWNERS_PLAN, READINGS


def set_up(client: Any) -> None:
    """The command line's data story, through the API: three owners with meters, two buyers
    each holding one product, the readings of 10 January."""
    for plan in (OWNERS_PLAN, BUYER_PLAN, OTHER_PLAN):
        client.upload_plan(plan)
    for owner in ("ann", "bob", "cat"):
        client.create_customer(id=f"owner-{owner}", name=owner, currency="USD", timezone="UTC")
        client.create_device(id=f"m-{owner}", customer=f"owner-{owner}", start="2026-01-01")
        client.create_subscription(
            customer=f"owner-{owner}", plan="energy-monitor", start="2026-01-01"
        )
    for buyer, plan in (("gridco", "grid-data"), ("insureco", "insurer-data")):
        client.create_customer(id=buyer, name=buyer, currency="USD", timezone="UTC")
        client.create_subscription(customer=buyer, plan=plan, start="2026-01-01")
    sent = client.send_events(
        [
            {
                "id": f"r{number}",
                "type": "energy.reading",
                "device": device,
                "timestamp": f"2026-01-10T{time}:00Z",
                "properties": {"kwh": float(kwh), "region": region},  # 0.5 steps: exact
            }
            for number, (device, time, region, kwh) in enumerate(READINGS)
        ]
    )
    assert sent["stored"] == len(READINGS), sent
    client.give_consent("m-ann", at="2026-01-01")
    client.give_consent("m-bob", at="2026-01-01")
    client.withdraw_consent("m-bob", at="2026-01-10T01:30:00Z")
    client.give_consent("m-cat", at="2026-01-10T01:00:00Z")


def test_a_buyers_key_exports_its_product_and_fetches_the_file_again_billed_once(
    store: Store, tenant_a: str, client_for: Any
) -> None:
    admin = client_for(store.key(tenant_a, "admin"))
    set_up(admin)
    consents = admin.list_consents(device="m-bob")["data"]
    assert consents == [
        {
            "device": "m-bob",
            "given_at": "2026-01-01T00:00:00+00:00",
            "withdrawn_at": "2026-01-10T01:30:00+00:00",
        }
    ]
    gridco = client_for(store.key(tenant_a, "billing:read", "billing:write", party="gridco"))
    made = gridco.export_data(
        product="energy-hourly", **{"from": "2026-01-10T00:00:00Z", "to": "2026-01-11T00:00:00Z"}
    )
    assert (made["buyer"], made["records"], made["suppressed"], made["revenue"]) == (
        "gridco",
        2,
        1,
        "0.50",
    )
    assert "owners" not in made  # who contributed is not the buyer's to know
    rows = list(csv.DictReader(io.StringIO(gridco.data_export_file(made["id"]).decode())))
    assert [(r["group"], r["bucket"], r["value"], r["owners"]) for r in rows] == [
        ("north", "2026-01-10T00:00:00+00:00", "4", "2"),
        ("north", "2026-01-10T01:00:00+00:00", "3", "3"),
    ]
    gridco.data_export_file(made["id"])  # again: the same cells, billed never again
    charges = admin.list_charges(customer="gridco")["data"]
    assert [(c["quantity"], c["unit_price"], c["amount"]) for c in charges] == [
        ("2", "0.25", "0.50")
    ]
    assert [e["id"] for e in gridco.list_data_exports()["data"]] == [made["id"]]
    # The full tenant's key sees how the revenue was shared: 40 % of 50 cents by events.
    again = admin.export_data(
        product="energy-hourly",
        buyer="gridco",
        id=made["id"],
        **{"from": "2026-01-10T00:00:00Z", "to": "2026-01-11T00:00:00Z"},
    )
    assert again["repeated"] is True


def test_a_buyer_sees_only_its_own_products_and_exports(
    store: Store, tenant_a: str, client_for: Any
) -> None:
    admin = client_for(store.key(tenant_a, "admin"))
    set_up(admin)
    made = admin.export_data(
        product="energy-daily",
        buyer="insureco",
        **{"from": "2026-01-10T00:00:00Z", "to": "2026-01-11T00:00:00Z"},
    )
    gridco = client_for(store.key(tenant_a, "billing:read", "billing:write", party="gridco"))
    window = {"from": "2026-01-10T00:00:00Z", "to": "2026-01-11T00:00:00Z"}
    with pytest.raises(ApiError) as not_held:
        gridco.export_data(product="energy-daily", **window)
    assert not_held.value.status == 422
    assert not_held.value.problem["errors"][0]["field"] == "product"
    with pytest.raises(ApiError) as off_the_hour:  # overlapping windows would beat k
        gridco.export_data(
            product="energy-hourly",
            **{"from": "2026-01-10T00:30:00Z", "to": "2026-01-10T02:00:00Z"},
        )
    assert off_the_hour.value.status == 422
    assert [e["field"] for e in off_the_hour.value.problem["errors"]] == ["from"]
    for call in (
        lambda: gridco.export_data(product="energy-daily", buyer="insureco", **window),
        lambda: gridco.data_export_file(made["id"]),
        lambda: gridco.list_data_exports(buyer="insureco"),
    ):
        with pytest.raises(ApiError) as refused:
            call()
        assert refused.value.status == 404
    assert gridco.list_data_exports()["data"] == []
    with pytest.raises(ApiError) as closed:
        gridco.list_consents()
    assert closed.value.status == 403
    assert len(admin.list_charges(customer="gridco")["data"]) == 0  # nothing billed


def test_consent_withdrawn_before_it_was_given_is_refused_and_stores_nothing(
    store: Store, tenant_a: str, client_for: Any
) -> None:
    admin = client_for(store.key(tenant_a, "admin"))
    set_up(admin)
    with pytest.raises(ApiError) as early:
        admin.withdraw_consent("m-cat", at="2026-01-05")
    assert early.value.status in (409, 422)
    assert admin.list_consents(device="m-cat")["data"][0]["withdrawn_at"] is None
    with pytest.raises(ApiError) as unknown:
        admin.give_consent("m-nobody")
    assert unknown.value.status == 404


def test_a_shared_batterys_buyers_and_its_owners_payout_statement(
    store: Store, tenant_a: str, client_for: Any
) -> None:
    """The command line's asset-sharing story over HTTP: a battery of ``acme`` sells to the
    grid operator (invoiced) and the spot market (paid directly); acme's own key reads its
    statement, the grid operator's key does not."""
    from iotbill.services.billing import bill_run
    from tests.e2e.test_sharing_cli import BUYER_PLAN, TEMPLATE

    admin = client_for(store.key(tenant_a, "admin"))
    admin.upload_plan(TEMPLATE.read_text())
    admin.upload_plan(BUYER_PLAN)
    for id, money in (("acme", "EUR"), ("grid-op", "EUR"), ("us-grid", "USD")):
        admin.create_customer(id=id, name=id, currency=money, timezone="UTC")
    admin.create_device(id="b1", customer="acme", start="2026-01-01")
    admin.create_subscription(customer="acme", plan="battery-sharing", start="2026-01-01")
    admin.create_subscription(customer="grid-op", plan="capacity-buyer", start="2026-01-01")
    grid = admin.add_buyer(device="b1", buyer="grid", customer="grid-op", at="2026-01-01")
    assert (grid["customer"], grid["paid_directly"]) == ("grid-op", False)
    admin.add_buyer(device="b1", buyer="spot", paid_directly=True, at="2026-01-01")
    assert [b["buyer"] for b in admin.list_buyers(device="b1")["data"]] == ["grid", "spot"]
    for refused, status, field in (
        (dict(buyer="us", customer="us-grid"), 422, "customer"),  # billed in USD, not EUR
        (dict(buyer="both", customer="grid-op", paid_directly=True), 422, "customer"),
        (dict(buyer="grid", customer="grid-op"), 409, None),  # the name is taken
    ):
        with pytest.raises(ApiError) as bad:
            admin.add_buyer(device="b1", at="2026-01-01", **refused)
        assert bad.value.status == status, refused
        if field is not None:
            assert bad.value.problem["errors"][0]["field"] == field
    assert len(admin.list_buyers()["data"]) == 2  # nothing stored
    admin.send_events(
        [
            {
                "id": id,
                "type": "capacity.sold",
                "device": "b1",
                "timestamp": at,
                "properties": {"kwh": kwh, "price": price, "buyer": buyer},
            }
            for id, at, kwh, price, buyer in (
                ("s1", "2026-01-05T12:00:00Z", "12.5", "0.21", "grid"),
                ("s2", "2026-01-20T12:00:00Z", "40.125", "0.185", "grid"),
                ("s3", "2026-01-21T12:00:00Z", "3", "0.095", "spot"),
            )
        ]
    )
    february = datetime(2026, 2, 1, tzinfo=UTC)
    bill_run(store.uow_factory, tenant_a, as_of=february, now=february)
    owner = client_for(store.key(tenant_a, "billing:read", party="acme"))
    statement = owner.payout_statement(customer="acme", period="2026-01")
    # 7.42 + 2.63 + 0.29 = 10.34 sold; 30 % = 3.102 -> 3.10 credited; 7.24 to the operator.
    assert [
        (a["device"], a["revenue"], a["credit"], a["operator"]) for a in statement["assets"]
    ] == [("b1", "10.34", "3.10", "7.24")]
    with pytest.raises(ApiError) as never_owned:
        admin.payout_statement(customer="grid-op", period="2026-01", asset="b1")
    assert never_owned.value.problem["errors"][0]["field"] == "asset"
    operator = client_for(store.key(tenant_a, "billing:read", party="grid-op"))
    with pytest.raises(ApiError) as theirs:
        operator.payout_statement(customer="acme", period="2026-01")
    assert theirs.value.status == 404
    # The operator books grid-op's purchases against asset_sales, naming acme's battery: the
    # tenant's key sees those entries, grid-op's own key only its credits (none here).
    assert admin.customer_balance("grid-op")["entries"] != []
    assert operator.customer_balance("grid-op")["entries"] == []
