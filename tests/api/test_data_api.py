"""Data monetization and asset sharing over HTTP, on SQLite and PostgreSQL: consent, an
export delivered to a buyer's key (its own products alone), its file fetched again without
being billed twice, and the routes refusing what the command line refuses."""

from __future__ import annotations

import csv
import io
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
