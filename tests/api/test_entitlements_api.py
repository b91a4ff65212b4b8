"""``GET /v1/entitlements/check``: the command line's answer over HTTP, per tenant."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from iotbill.adapters.clock import FrozenClock
from iotbill.adapters.plan_files import parse_plan_text
from iotbill.adapters.storage.memory import MemoryStore
from iotbill.domain.customers import Customer, Device
from iotbill.domain.events import SourcedEvent, UsageEvent
from iotbill.domain.subscriptions import subscribe
from iotbill.entrypoints.api import create_app
from iotbill.services.api_keys import create_key
from iotbill.services.ingest import ingest
from iotbill.services.ports import DEFAULT_TENANT, Tenant

FREE = Path(__file__).parents[2] / "examples" / "models" / "freemium.yaml"
JAN_1 = datetime(2026, 1, 1, tzinfo=UTC)


def get(app: object, path: str, key: str, **query: str) -> httpx.Response:
    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            return await client.get(path, params=query, headers={"Authorization": f"Bearer {key}"})

    return asyncio.run(call())


def test_a_check_answers_as_the_command_line_and_only_for_the_tenants_own() -> None:
    store = MemoryStore().unit_of_work_factory()
    clock = FrozenClock(datetime(2026, 1, 20, tzinfo=UTC))
    text = FREE.read_text()
    plan = parse_plan_text(text, "freemium.yaml")
    with store(DEFAULT_TENANT) as uow:
        uow.tenants.add(Tenant("other", "Other Co."))
        acme = Customer.create(id="acme", name="Acme", currency_code="USD", timezone="UTC")
        uow.customers.add(acme)
        uow.devices.add(Device.create("m1", "acme", JAN_1))
        uow.plans.add_version(plan, text, JAN_1)
        uow.subscriptions.add(
            subscribe(id="s1", customer=acme, plan=plan, plan_version=1, start=JAN_1)
        )
        uow.commit()
    readings = [
        SourcedEvent(UsageEvent(f"r{n}", "reading", "m1", JAN_1 + n * timedelta(minutes=10)), n + 1)
        for n in range(1000)
    ]
    assert ingest(store, DEFAULT_TENANT, readings, clock=clock).accepted == 1000
    keys = {
        tenant: create_key(store(tenant), name="k", scopes=["billing:read"], clock=clock).text
        for tenant in (DEFAULT_TENANT, "other")
    }
    app = create_app(uow_factory=store, clock=clock)

    answer = get(
        app,
        "/v1/entitlements/check",
        keys[DEFAULT_TENANT],
        customer="acme",
        feature="readings",
        as_of="2026-01-08",
    )
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert (found["has_access"], found["used"], found["limit"], found["remaining"]) == (
        False,
        "1000",
        "1000",
        "0",
    )
    assert found["period"] == {
        "start": "2026-01-01T00:00:00+00:00",
        "end": "2026-02-01T00:00:00+00:00",
    }
    earlier = get(
        app,
        "/v1/entitlements/check",
        keys[DEFAULT_TENANT],
        customer="acme",
        feature="readings",
        as_of="2026-01-02T00:00:00Z",
    )
    # 1 January: a reading every 10 minutes, 144 of them, and the one at midnight of the 2nd.
    assert (earlier.json()["has_access"], earlier.json()["used"]) == (True, "145")
    other = get(app, "/v1/entitlements/check", keys["other"], customer="acme", feature="readings")
    assert (other.status_code, other.json()["code"]) == (404, "not_found")
    wrong = get(
        app,
        "/v1/entitlements/check",
        keys[DEFAULT_TENANT],
        customer="acme",
        feature="readings",
        as_of="soon",
    )
    assert wrong.status_code in (400, 422) and "as_of" in wrong.text
