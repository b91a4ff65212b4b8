"""A key restricted to one party of its tenant (a data buyer, a grid operator): it sees that
customer's objects alone, every other route is closed to it, and it cannot open the
dashboard. Against a real server, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from iotbill.client import ApiError
from iotbill.entrypoints.api.auth import PARTY_ROUTES
from iotbill.services.billing import bill_run
from tests.api.conftest import Served, Store
from tests.api.test_http_e2e import MONTH, NEXT_MONTH, event, set_up
from tests.api.test_isolation import fill, operations


def two_customers(store: Store, tenant: str, client: Any) -> dict[str, Any]:
    """``acme`` (as the end-to-end story sets it up) and ``grid``, each with a device, a
    subscription to the water plan, usage and one invoice."""
    acme = set_up(client)
    client.create_customer(id="grid", name="Grid Co", currency="USD", timezone="UTC")
    client.create_device(id="g1", customer="grid", start=MONTH.date().isoformat())
    grid = client.create_subscription(customer="grid", plan="water", start=MONTH.date().isoformat())
    client.send_events([event("e1", "4"), event("e2", "6", device="g1")])
    bill_run(store.uow_factory, tenant, as_of=NEXT_MONTH, now=NEXT_MONTH)
    invoices: dict[str, list[dict[str, Any]]] = {"acme": [], "grid": []}
    for invoice in client.list_invoices()["data"]:
        invoices[invoice["customer"]].append(invoice)
    return {"acme": acme, "grid": grid, "invoices": invoices}


def test_a_partys_key_sees_its_own_objects_and_none_of_another_customers(
    store: Store, served: Served, tenant_a: str, client_for: Any
) -> None:
    world = two_customers(store, tenant_a, client_for(store.key(tenant_a, "admin")))
    grid = client_for(store.key(tenant_a, "billing:read", party="grid"))
    mine, theirs = world["invoices"]["grid"][-1], world["invoices"]["acme"][-1]
    assert grid.get_customer("grid")["id"] == "grid"
    assert [i["id"] for i in grid.list_invoices()["data"]] == [
        i["id"] for i in world["invoices"]["grid"]
    ]
    assert grid.get_invoice(mine["id"])["total"] == mine["total"]
    assert grid.get_invoice(mine["number"])["id"] == mine["id"]  # by number too
    assert grid.invoice_pdf(mine["id"]).startswith(b"%PDF")
    assert [s["id"] for s in grid.list_subscriptions()["data"]] == [world["grid"]["id"]]
    assert grid.get_subscription(world["grid"]["id"])["customer"] == "grid"
    usage = grid.customer_usage(
        "grid", **{"from": MONTH.date().isoformat(), "to": NEXT_MONTH.date().isoformat()}
    )
    assert [(row["meter"], row["quantity"]) for row in usage["rows"]] == [("water", "6")]
    for call in (
        lambda: grid.get_customer("acme"),
        lambda: grid.get_invoice(theirs["id"]),
        lambda: grid.get_invoice(theirs["number"]),
        lambda: grid.invoice_html(theirs["id"]),
        lambda: grid.get_subscription(world["acme"]["id"]),
        lambda: grid.upcoming_invoice(world["acme"]["id"]),
        lambda: grid.list_invoices(customer="acme"),
        lambda: grid.list_invoices(subscription=world["acme"]["id"]),
        lambda: grid.list_subscriptions(customer="acme"),
        lambda: grid.customer_balance("acme"),
        lambda: grid.check_entitlement(customer="acme", feature="readings"),
        lambda: grid.customer_usage(
            "acme", **{"from": MONTH.date().isoformat(), "to": NEXT_MONTH.date().isoformat()}
        ),
    ):
        with pytest.raises(ApiError) as refused:
            call()
        assert (refused.value.status, refused.value.code) == (404, "not_found")


def test_every_other_route_is_closed_to_a_partys_key(
    store: Store, served: Served, tenant_a: str, client_for: Any
) -> None:
    two_customers(store, tenant_a, client_for(store.key(tenant_a, "admin")))
    key = store.key(tenant_a, "billing:read", "billing:write", party="grid")
    http = httpx.Client(base_url=served.url, headers={"Authorization": f"Bearer {key}"})
    closed = [(m, p) for m, p in operations(served) if (m, p) not in PARTY_ROUTES]
    assert len(closed) > 40
    for method, path in closed:
        answer = http.request(method, fill(path, _AnyId()), json={})
        assert (answer.status_code, answer.json()["code"]) == (403, "forbidden"), (method, path)
    assert all(  # every route the list opens exists
        pair in operations(served) for pair in PARTY_ROUTES
    )
    http.close()


class _AnyId(dict[str, str]):
    def __missing__(self, name: str) -> str:
        return "x"


def test_a_partys_key_is_refused_by_the_dashboard_and_made_only_with_party_scopes(
    store: Store, served: Served, tenant_a: str, client_for: Any
) -> None:
    admin = client_for(store.key(tenant_a, "admin"))
    two_customers(store, tenant_a, admin)
    signed = httpx.post(
        f"{served.url}/app/sign-in", data={"key": store.key(tenant_a, "billing:read", party="grid")}
    )
    assert signed.status_code == 401 and "set-cookie" not in signed.headers
    with pytest.raises(ApiError) as too_wide:
        admin.create_key(name="grid admin", scopes=["admin"], party="grid")
    assert too_wide.value.status == 422
    assert too_wide.value.problem["errors"][0]["field"] == "scopes"
    with pytest.raises(ApiError) as unknown:
        admin.create_key(name="ghost", scopes=["billing:read"], party="nobody")
    assert unknown.value.status == 404
    made = admin.create_key(name="grid reader", scopes=["billing:read"], party="grid")
    assert made["party"] == "grid"
    assert [k["party"] for k in admin.list_keys()["data"]].count("grid") == 2  # and the first
