"""Isolation: another tenant's key finds nothing of tenant A, a key without the scope is
refused, and no key opens nothing, on every route (read from the served OpenAPI document,
so a new route is covered the day it is added).
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from iotbill.services.billing import bill_run
from tests.api.conftest import Served, Store
from tests.api.test_data_api import set_up as data_story
from tests.api.test_http_e2e import AT, MONTH, NEXT_MONTH, event, set_up
from tests.api.test_side_flows_api import printer_customer

SCOPES = ("events:write", "billing:read", "billing:write", "admin")
WITHOUT = {
    "events:write": ["billing:write"],
    "billing:read": ["events:write"],  # billing:write includes billing:read
    "billing:write": ["events:write", "billing:read"],
    "admin": ["events:write", "billing:write"],
}
"""For each scope, a key holding every other scope that does not include it."""


def required_scope(method: str, path: str) -> str:
    """The scope each route needs, as docs/api.md states it."""
    if path.startswith("/v1/keys"):
        return "admin"
    if path == "/v1/events":
        return "events:write"
    return "billing:read" if method == "GET" else "billing:write"


def operations(served: Served) -> list[tuple[str, str]]:
    document = httpx.get(f"{served.url}/openapi.json").json()
    return [
        (method.upper(), path)
        for path, item in document["paths"].items()
        if path.startswith("/v1/")
        for method in item
    ]


class TenantA:
    """Tenant A's world: every kind of object, each reachable by id."""

    def __init__(self, store: Store, tenant: str, http: httpx.Client, client: Any) -> None:
        subscription = set_up(client)
        hook = client.create_webhook(url="https://hooks.example/a", events=["invoice.finalized"])
        client.send_events([event("e1", "4"), event("e2", "6")])
        bill_run(store.uow_factory, tenant, as_of=NEXT_MONTH, now=NEXT_MONTH)
        invoice = client.list_invoices()["data"][0]
        note = client.create_credit_note(invoice=invoice["id"], reason="goodwill", amount="1.00")
        keys = client.list_keys()["data"]
        client.create_coupon(code="water", percent="5")
        client.grant_credit(customer="acme", amount="5.00")
        order = printer_customer(client, store.uow_factory, tenant)
        work_order = client.open_work_order(device="pr1", summary="Paper jam")
        data_story(client)
        export = client.export_data(
            product="energy-hourly",
            buyer="gridco",
            **{"from": "2026-01-10T00:00:00Z", "to": "2026-01-11T00:00:00Z"},
        )
        self.ids = {
            "customer_id": "acme",
            "code": "water",
            "version": "1",
            "subscription_id": subscription["id"],
            "invoice_id": invoice["id"],
            "credit_note_id": note["id"],
            "key_id": keys[0]["id"],
            "endpoint_id": hook["id"],
            "delivery_id": client.list_webhook_deliveries()["data"][0]["id"],
            "order_id": order["id"],
            "work_order_id": work_order["id"],
            "export_id": export["id"],
            "device_id": "m-ann",
        }
        self.invoice_number = invoice["number"]
        self.events = store.count_events(tenant)


BODIES: dict[str, dict[str, Any]] = {
    "/v1/devices/{device_id}/moves": {"customer": "acme", "at": MONTH.date().isoformat()},
    "/v1/subscriptions/{subscription_id}/change": {"plan": "water", "timing": "immediate"},
    "/v1/subscriptions/{subscription_id}/cancel": {"timing": "immediate"},
    "/v1/invoices/{invoice_id}/pay": {},
    "/v1/coupons/{code}/redemptions": {"subscription": "sub-000001"},
}
QUERIES: dict[str, dict[str, str]] = {
    "/v1/customers/{customer_id}/usage": {
        "from": MONTH.date().isoformat(),
        "to": NEXT_MONTH.date().isoformat(),
    }
}


def fill(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda match: ids[match.group(1)], path)


def test_another_tenants_key_gets_404_for_every_object_of_a(
    store: Store, served: Served, tenant_a: str, tenant_b: str, client_for: Any
) -> None:
    a_key = store.key(tenant_a, "admin")
    # A first PDF loads its fonts: on a busy machine that can take longer than httpx's 5 s.
    a_http = httpx.Client(
        base_url=served.url, headers={"Authorization": f"Bearer {a_key}"}, timeout=60
    )
    world = TenantA(store, tenant_a, a_http, client_for(a_key))
    b_http = httpx.Client(
        base_url=served.url,
        headers={"Authorization": f"Bearer {store.key(tenant_b, 'admin')}"},
        timeout=60,
    )
    by_id = [(m, p) for m, p in operations(served) if "{" in p]
    assert len(by_id) == 39  # every route that names an object in its path
    for method, path in by_id:
        url = fill(path, world.ids)
        answer = b_http.request(method, url, json=BODIES.get(path), params=QUERIES.get(path))
        assert (answer.status_code, answer.json()["code"]) == (404, "not_found"), (method, url)
        # ...and A itself reaches each of them (else the 404 would prove nothing).
        if method == "GET":
            mine = a_http.get(url, params=QUERIES.get(path))
            assert mine.status_code == 200, (url, mine.text)

    # By filter: naming A's customer, subscription or invoice in a query is 404 too.
    for path, query in [
        ("/v1/devices", {"customer": "acme"}),
        ("/v1/subscriptions", {"customer": "acme"}),
        ("/v1/invoices", {"customer": "acme"}),
        ("/v1/invoices", {"subscription": world.ids["subscription_id"]}),
        ("/v1/credit-notes", {"invoice": world.ids["invoice_id"]}),
        ("/v1/entitlements/check", {"customer": "acme", "feature": "readings"}),
        ("/v1/invoices/" + world.invoice_number, {}),  # by number
        ("/v1/subscriptions/sub-000001", {}),  # a guessed id: A's first subscription
    ]:
        answer = b_http.get(path, params=query)
        assert answer.status_code == 404, (path, query)
        assert a_http.get(path, params=query).status_code == 200, (path, query)

    # By list: B's lists hold nothing of A's.
    for path in [
        "/v1/customers",
        "/v1/devices",
        "/v1/plans",
        "/v1/subscriptions",
        "/v1/invoices",
        "/v1/credit-notes",
        "/v1/coupons",
        "/v1/credits",
        "/v1/charges",
        "/v1/orders",
        "/v1/work-orders",
        "/v1/consents",
        "/v1/data-exports",
    ]:
        assert b_http.get(path).json()["data"] == [], path
        assert a_http.get(path).json()["data"] != [], path
    assert all(k["id"] != world.ids["key_id"] for k in b_http.get("/v1/keys").json()["data"])

    # Writes naming A's objects in a body: answered as for a name that never existed.
    ghost = b_http.post(
        "/v1/devices", json={"id": "d", "customer": "nobody", "start": "2026-01-01"}
    )
    naming_a = b_http.post(
        "/v1/devices", json={"id": "d", "customer": "acme", "start": "2026-01-01"}
    )
    assert naming_a.status_code == ghost.status_code == 422
    assert naming_a.json()["errors"] == [
        {**error, "message": error["message"].replace("nobody", "acme")}
        for error in ghost.json()["errors"]
    ]
    note = b_http.post("/v1/credit-notes", json={"invoice": world.ids["invoice_id"], "reason": "x"})
    assert note.status_code == 404
    sent = b_http.post("/v1/events", json=[event("e3", "5", at=AT)])
    assert sent.json()["results"][0]["status"] == "rejected"
    assert store.count_events(tenant_a) == world.events
    assert store.count_events(tenant_b) == 0
    a_http.close()
    b_http.close()


@pytest.mark.parametrize("scope", SCOPES)
def test_a_key_without_the_scope_gets_403_on_each_route_needing_it(
    scope: str, store: Store, served: Served, tenant_a: str
) -> None:
    others = WITHOUT[scope]
    http = httpx.Client(
        base_url=served.url,
        headers={"Authorization": f"Bearer {store.key(tenant_a, *others)}"},
    )
    needing = [(m, p) for m, p in operations(served) if required_scope(m, p) == scope]
    assert needing, scope
    for method, path in needing:
        answer = http.request(method, fill(path, _ANY_IDS), json={})
        assert (answer.status_code, answer.json()["code"]) == (403, "forbidden"), (method, path)
        assert scope in answer.json()["detail"]
    http.close()


_ANY_IDS = {
    "customer_id": "c",
    "device_id": "d",
    "code": "p",
    "version": "1",
    "subscription_id": "s",
    "invoice_id": "i",
    "credit_note_id": "n",
    "key_id": "k",
    "endpoint_id": "w",
    "delivery_id": "v",
    "order_id": "o",
    "work_order_id": "w",
    "export_id": "x",
}


def test_no_key_or_a_wrong_one_gets_401_on_every_route(served: Served) -> None:
    for method, path in operations(served):
        for headers in ({}, {"Authorization": "Bearer iotbill_000000000000_wrongwrongwrongwrong"}):
            answer = httpx.request(
                method, served.url + fill(path, _ANY_IDS), json={}, headers=headers
            )
            assert (answer.status_code, answer.json()["code"]) == (401, "unauthenticated"), (
                method,
                path,
            )
            assert answer.headers["content-type"] == "application/problem+json"


def dashboard_session(served: Served, key: str) -> httpx.Client:
    """A browser signed in to the dashboard with ``key`` (a session cookie, no bearer key)."""
    browser = httpx.Client(base_url=served.url, timeout=60)
    assert browser.post("/app/sign-in", data={"key": key}).status_code == 303
    return browser


def test_another_tenants_dashboard_session_gets_404_on_a_customer_pages_and_pdfs(
    store: Store, served: Served, tenant_a: str, tenant_b: str, client_for: Any
) -> None:
    a_key = store.key(tenant_a, "admin")
    a_http = httpx.Client(base_url=served.url, headers={"Authorization": f"Bearer {a_key}"})
    world = TenantA(store, tenant_a, a_http, client_for(a_key))
    a_http.close()
    a_browser = dashboard_session(served, store.key(tenant_a, "billing:read"))
    b_browser = dashboard_session(served, store.key(tenant_b, "billing:read"))
    invoice = world.ids["invoice_id"]
    for path in [
        "/app/customers/acme",
        f"/app/invoices/{invoice}.pdf",
        f"/app/invoices/{invoice}.html",
        f"/app/invoices/{world.invoice_number}.pdf",  # by number
    ]:
        assert b_browser.get(path).status_code == 404, path
        assert a_browser.get(path).status_code == 200, path  # else the 404 would prove nothing
    # A's customer named in the usage form reads as a customer that never existed.
    period = {"from": MONTH.date().isoformat(), "to": NEXT_MONTH.date().isoformat()}
    naming_a = b_browser.get("/app/usage", params={"customer": "acme", **period})
    ghost = b_browser.get("/app/usage", params={"customer": "nobody", **period})
    assert naming_a.status_code == ghost.status_code == 422
    assert naming_a.text == ghost.text.replace("nobody", "acme")
    assert a_browser.get("/app/usage", params={"customer": "acme", **period}).status_code == 200
    # B's lists and overview hold nothing of A's.
    assert "acme" not in b_browser.get("/app/customers").text
    assert "/app/customers/acme" in a_browser.get("/app/customers").text
    assert "data-currency" not in b_browser.get("/app").text
    assert 'data-currency="USD"' in a_browser.get("/app").text
    a_browser.close()
    b_browser.close()
