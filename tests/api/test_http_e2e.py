"""The API as a client meets it: a real server, a real HTTP client, on SQLite and PostgreSQL.

One story per test, with exact figures: a plan uploaded, a customer with a
device subscribed, usage sent in batches (one bad item among good ones,
atomic or not), the bill run, and the invoice finalized, paid and credited
over HTTP.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from iotbill.client import ApiError, IotbillClient
from iotbill.services.billing import bill_run
from tests.api.conftest import Served, Store
from tests.api.server import Server

PLAN = """\
code: water
name: Water
currency: USD
interval: month
fixed_fees:
  - {code: base, name: Monitoring, amount: "31.00"}
meters:
  - {code: water, event_type: pump.flow, aggregation: sum, property: m3}
charges:
  - {code: water, name: Water, meter: water, model: per_unit, unit_price: "0.50"}
"""


_NOW = datetime.now(UTC)
MONTH = _NOW.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
"""The current month: its events are received before its invoice is issued, at its end."""
NEXT_MONTH = (MONTH + timedelta(days=32)).replace(day=1)
AT = (MONTH + timedelta(minutes=30)).isoformat()


def event(id: str, m3: str = "2.5", *, device: str = "p1", at: str = AT) -> dict[str, Any]:
    return {
        "id": id,
        "type": "pump.flow",
        "device": device,
        "timestamp": at,
        "properties": {"m3": m3},
    }


def set_up(client: IotbillClient) -> dict[str, Any]:
    client.upload_plan(PLAN)
    client.create_customer(id="acme", name="Acme", currency="USD", timezone="UTC", tax_rate="10")
    client.create_device(id="p1", customer="acme", start=MONTH.date().isoformat())
    return client.create_subscription(customer="acme", plan="water", start=MONTH.date().isoformat())


def test_a_month_billed_over_http(
    store: Store, served: Served, tenant_a: str, client_for: Any
) -> None:
    client = client_for(store.key(tenant_a, "admin"))
    subscription = set_up(client)
    assert subscription["phases"] == [{"plan": "water", "version": 1, "start": MONTH.isoformat()}]
    sent = client.send_events([event("e1", "2.5"), event("e2", "1.5"), event("e3", "6")])
    assert (sent["stored"], sent["accepted"], sent["rejected"]) == (3, 3, 0)
    live = client.subscription_usage(subscription["id"])
    assert [(row["meter"], row["quantity"]) for row in live["rows"]] == [("water", "10")]
    upcoming = client.upcoming_invoice(subscription["id"])
    water = [line for line in upcoming["lines"] if line["charge"] == "water"]
    assert [(line["quantity"], line["amount"]) for line in water] == [("10", "5.00")]
    ranged = client.customer_usage(
        "acme", **{"from": MONTH.date().isoformat(), "to": NEXT_MONTH.date().isoformat()}
    )
    assert ranged["rows"] == live["rows"]

    bill_run(
        store.uow_factory,
        tenant_a,
        as_of=NEXT_MONTH,
        now=NEXT_MONTH,
    )
    # By period start, then id: both start with the month, and ".../close/..." < ".../opening".
    invoice, opening = client.list_invoices(customer="acme")["data"]
    # The opening invoice bills the month's base fee in advance: 31.00 + 10 % tax = 34.10.
    assert (opening["status"], opening["total"]) == ("finalized", "34.10")
    # The month's close: 10 m3 x 0.50 = 5.00 of water, and next month's base fee 31.00
    # in advance: 36.00; tax 10 % = 3.60; total 39.60.
    assert [(line["charge"], line["amount"]) for line in invoice["lines"]] == [
        ("water", "5.00"),
        ("base", "31.00"),
    ]
    assert (invoice["status"], invoice["subtotal"], invoice["total"]) == (
        "finalized",
        "36.00",
        "39.60",
    )
    assert invoice["id"].startswith("~")  # the period-close id holds '/' and ':'
    assert client.get_invoice(invoice["id"]) == invoice
    assert client.get_invoice(invoice["number"]) == invoice
    note = client.create_credit_note(invoice=invoice["id"], reason="meter fault", amount="5.00")
    # 5.00 + 10 % tax = 5.50 credited; due 39.60 - 5.50 = 34.10
    assert (note["total"], note["invoice"]) == ("5.50", invoice["id"])
    assert client.get_invoice(invoice["id"])["amount_due"] == "34.10"
    paid = client.pay_invoice(invoice["id"], at=(NEXT_MONTH + timedelta(days=2)).date().isoformat())
    assert paid["status"] == "paid"
    assert [n["id"] for n in client.list_credit_notes(invoice=invoice["id"])["data"]] == [
        note["id"]
    ]


def test_a_batch_with_one_bad_item(
    store: Store, served: Served, tenant_a: str, client_for: Any
) -> None:
    client = client_for(store.key(tenant_a, "admin"))
    set_up(client)
    batch = [event("g1"), event("bad", device="nowhere"), event("g2"), {"id": "x", "type": "t"}]

    atomic = pytest.raises(ApiError)
    with atomic as refused:
        client.send_events(batch, atomic=True)
    assert refused.value.status == 422
    assert [e["field"] for e in refused.value.problem["errors"]] == ["[1].device", "[3].device"]
    assert store.count_events(tenant_a) == 0  # atomic: nothing stored

    sent = client.send_events(batch)
    assert [(r["index"], r["status"]) for r in sent["results"]] == [
        (0, "accepted"),
        (1, "rejected"),
        (2, "accepted"),
        (3, "rejected"),
    ]
    assert sent["results"][1]["field"] == "device"
    assert "unknown device 'nowhere'" in sent["results"][1]["reason"]
    assert (sent["stored"], store.count_events(tenant_a)) == (2, 2)

    again = client.send_events([event("g1"), event("g2", "9"), event("g3"), event("g3")])
    assert [r["status"] for r in again["results"]] == [
        "duplicate",
        "conflict",
        "accepted",
        "duplicate",
    ]
    assert (again["stored"], store.count_events(tenant_a)) == (1, 3)


def test_one_event_refused_is_a_422_naming_the_field(
    store: Store, served: Served, tenant_a: str, client_for: Any
) -> None:
    client = client_for(store.key(tenant_a, "admin"))
    set_up(client)
    with pytest.raises(ApiError) as refused:
        client.send_events(event("e1", device="ghost"))
    assert refused.value.status == 422
    assert refused.value.problem["errors"][0]["field"] == "device"
    assert store.count_events(tenant_a) == 0
    assert client.send_events(event("e1"))["results"] == [
        {"index": 0, "id": "e1", "status": "accepted", "field": None, "reason": None}
    ]


def test_bad_requests_are_clear_4xx_and_write_nothing(
    store: Store, served: Served, tenant_a: str, client_for: Any
) -> None:
    key = store.key(tenant_a, "admin")
    set_up(client_for(key))
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    http = httpx.Client(base_url=served.url, headers=headers)
    cases = [
        (b"{not json", {}, 400, "malformed_json"),
        (b'[{"id": "e1"', {}, 400, "malformed_json"),
        (
            b"id=e1",
            {"Content-Type": "application/x-www-form-urlencoded"},
            415,
            "unsupported_media_type",
        ),
        (b"[" + b",".join([b'{"id":"e"}'] * 1001) + b"]", {}, 422, "invalid_input"),
        (b"[]", {}, 422, "invalid_input"),
        (b'"an event"', {}, 422, "invalid_input"),
        (b"x" * (5 * 1024 * 1024), {}, 413, "payload_too_large"),
    ]
    for body, extra, status, code in cases:
        answer = http.post("/v1/events", content=body, headers=extra)
        assert (answer.status_code, answer.json()["code"]) == (status, code), body[:40]
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["request_id"] == answer.headers["x-request-id"]
    customer = http.post(
        "/v1/customers",
        json={"id": "c2", "name": "C", "currency": "USD", "timezone": "UTC", "tax_rate": 19.5},
    )
    assert customer.status_code == 422
    assert customer.json()["errors"][0]["field"] == "tax_rate"
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    ahead = http.post("/v1/events", json=event("e8", at=future))  # beyond the 1 day of skew
    assert (ahead.status_code, ahead.json()["errors"][0]["field"]) == (422, "timestamp")
    assert "allowed for clock skew" in ahead.json()["errors"][0]["message"]
    batch = http.post("/v1/events?atomic=true", json=[event("e7"), event("e8", at=future)])
    assert [e["field"] for e in batch.json()["errors"]] == ["[1].timestamp"]
    naive = http.post("/v1/events", json=event("e9", at=AT[:19]))
    assert naive.status_code == 422 and naive.json()["errors"][0]["field"] == "timestamp"
    assert store.count_events(tenant_a) == 0
    assert [c["id"] for c in client_for(key).list_customers()["data"]] == ["acme"]
    http.close()


def test_idempotency_key_replays_the_first_answer(
    store: Store, served: Served, tenant_a: str, client_for: Any
) -> None:
    key = store.key(tenant_a, "admin")
    client = client_for(key)
    set_up(client)
    first = client.create_subscription(
        customer="acme", plan="water", start=NEXT_MONTH.date().isoformat()
    )
    http = httpx.Client(base_url=served.url, headers={"Authorization": f"Bearer {key}"})
    body = {"customer": "acme", "plan": "water", "start": NEXT_MONTH.date().isoformat()}
    made = http.post("/v1/subscriptions", json=body, headers={"Idempotency-Key": "k-1"})
    again = http.post("/v1/subscriptions", json=body, headers={"Idempotency-Key": "k-1"})
    assert made.status_code == again.status_code == 201
    assert made.json() == again.json()
    assert again.headers["idempotent-replayed"] == "true"
    other = http.post(
        "/v1/subscriptions",
        json={**body, "start": MONTH.date().isoformat()},
        headers={"Idempotency-Key": "k-1"},
    )
    assert (other.status_code, other.json()["code"]) == (409, "idempotency_key_reused")
    ids = [s["id"] for s in client.list_subscriptions()["data"]]
    assert ids == sorted({first["id"], made.json()["id"], ids[0]})
    assert len(ids) == 3  # set_up's, the first one's, and k-1's: never a fourth
    assert [s["id"] for s in client.list_subscriptions(plan="water", limit=2)["data"]] == ids[:2]
    assert client.list_subscriptions(plan="no-such-plan")["data"] == []
    http.close()


def test_an_answer_is_replayed_only_to_the_key_that_got_it(
    store: Store, served: Served, tenant_a: str
) -> None:
    """An admin creates a key with an Idempotency-Key; a reading key of the same tenant that
    sends the same header and body is refused, and never sees the new key's secret."""
    admin = httpx.Client(
        base_url=served.url, headers={"Authorization": f"Bearer {store.key(tenant_a, 'admin')}"}
    )
    reader = httpx.Client(
        base_url=served.url,
        headers={"Authorization": f"Bearer {store.key(tenant_a, 'billing:read')}"},
    )
    body = {"name": "gateway", "scopes": ["events:write"]}
    made = admin.post("/v1/keys", json=body, headers={"Idempotency-Key": "k-secret"})
    assert made.status_code == 201 and "key" in made.json()
    stolen = reader.post("/v1/keys", json=body, headers={"Idempotency-Key": "k-secret"})
    assert stolen.status_code in (403, 409)
    assert made.json()["key"] not in stolen.text
    again = admin.post("/v1/keys", json=body, headers={"Idempotency-Key": "k-secret"})
    assert again.json() == made.json() and again.headers["idempotent-replayed"] == "true"
    admin.close()
    reader.close()


def test_pagination_walks_every_item_once(
    store: Store, served: Served, tenant_a: str, client_for: Any
) -> None:
    client = client_for(store.key(tenant_a, "admin"))
    for number in range(7):
        client.create_customer(id=f"c{number}", name=f"C{number}", currency="EUR", timezone="UTC")
    first = client.list_customers(limit=3)
    assert [c["id"] for c in first["data"]] == ["c0", "c1", "c2"]
    assert [c["id"] for c in client.iterate("list_customers", limit=3)] == [
        f"c{n}" for n in range(7)
    ]
    with pytest.raises(ApiError) as bad:
        client.list_customers(cursor="nonsense!")
    assert (bad.value.status, bad.value.problem["errors"][0]["field"]) == (422, "cursor")
    after_c3 = client.list_customers(limit=4)["next_cursor"]
    assert [c["id"] for c in client.list_customers(cursor=after_c3)["data"]] == ["c4", "c5", "c6"]
    for operation, sort_key in (
        ("list_customers", ["c1", "c2"]),  # a list by id: one id
        ("list_invoices", ["c1"]),  # by period start, then id: two parts
        ("list_invoices", ["2026-01-01T00:00:00", "i1"]),  # an instant without its offset
        ("list_invoices", ["January", "i1"]),
    ):
        forged = base64.urlsafe_b64encode(json.dumps(sort_key).encode()).decode()
        with pytest.raises(ApiError) as bad:
            getattr(client, operation)(cursor=forged)
        assert (bad.value.status, bad.value.problem["errors"][0]["field"]) == (422, "cursor")


def test_keys_are_shown_once_listed_by_prefix_and_revocable(
    store: Store, served: Served, tenant_a: str, client_for: Any
) -> None:
    admin = client_for(store.key(tenant_a, "admin"))
    made = admin.create_key(name="gateway", scopes=["events:write"])
    assert made["key"].startswith(made["prefix"])
    listed = admin.list_keys()["data"]
    assert all("key" not in key for key in listed)
    assert made["id"] in [key["id"] for key in listed]
    gateway = client_for(made["key"])
    gateway.send_events([event("e1", device="nowhere")])  # allowed: 200 with a rejection
    admin.revoke_key(made["id"])
    with pytest.raises(ApiError) as revoked:
        gateway.send_events([event("e1")])
    assert (revoked.value.status, revoked.value.code) == (401, "unauthenticated")


def test_rate_limit_answers_429_with_retry_after(sqlite_store: Store, tmp_path: Any) -> None:
    store = sqlite_store
    key = store.key(store.tenant("a"), "billing:read")
    server = Server(
        store.url,
        tmp_path / "limited.log",
        IOTBILL_API_RATE_BURST="3",
        IOTBILL_API_RATE_PER_SECOND="0.5",
    ).start()
    try:
        http = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"})
        statuses = [http.get("/v1/customers").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = http.get("/v1/customers")
        assert limited.json()["code"] == "rate_limited"
        assert 1 <= int(limited.headers["retry-after"]) <= 2
        http.close()
    finally:
        server.stop()


def test_health_readiness_docs_and_logs(served: Served) -> None:
    server = served.server
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok", "detail": None}
    assert httpx.get(f"{server.url}/readyz").json() == {"status": "ready", "detail": None}
    assert httpx.get(f"{server.url}/openapi.json").json()["info"]["title"] == "iotbill"
    assert httpx.get(f"{server.url}/docs").status_code == 200
    answer = httpx.get(f"{server.url}/v1/customers", headers={"X-Request-Id": "trace-42"})
    assert (answer.status_code, answer.headers["x-request-id"]) == (401, "trace-42")
    assert answer.headers["www-authenticate"].startswith("Bearer")
