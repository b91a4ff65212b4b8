"""``GET /v1/invoices/{id}.pdf|.html`` and the credit notes': the CLI's documents, per tenant."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from iotbill.adapters.clock import FrozenClock
from iotbill.adapters.storage.sql.engine import create_engine_for, upgrade
from iotbill.adapters.storage.sql.unit_of_work import sql_unit_of_work_factory
from iotbill.demo.scenario import BILLED_AT, TENANT, run_demo
from iotbill.entrypoints.api import create_app
from iotbill.entrypoints.api.ids import url_id
from iotbill.services.api_keys import create_key
from iotbill.services.invoices import create_credit_note
from iotbill.services.ports import Tenant, UnitOfWorkFactory
from tests.pdf_text import pdf_text


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Client, dict[str, str]]]:
    engine = create_engine_for(f"sqlite:///{tmp_path_factory.mktemp('docs') / 'api.db'}")
    upgrade(engine)
    store: UnitOfWorkFactory = sql_unit_of_work_factory(engine)
    run_demo(store)
    with store("other") as uow:
        uow.tenants.add(Tenant("other", "Other Co."))
        uow.commit()
    create_credit_note(
        store(TENANT.code), "INV-2026-000002", reason="Meter fault on pump-002",
        amount="100", description=None, at=BILLED_AT,
    )  # fmt: skip
    clock = FrozenClock(BILLED_AT)
    keys = {
        tenant: create_key(store(tenant), name="k", scopes=["admin"], clock=clock).text
        for tenant in (TENANT.code, "other")
    }
    yield Client(create_app(uow_factory=store, clock=clock)), keys
    engine.dispose()


class Client:
    """The app called in this process, one request at a time."""

    def __init__(self, app: object) -> None:
        self.transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]

    def get(self, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
        async def call() -> httpx.Response:
            async with httpx.AsyncClient(transport=self.transport, base_url="http://app") as c:
                return await c.get(path, headers=headers)

        return asyncio.run(call())


def auth(keys: dict[str, str], tenant: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {keys[tenant]}"}


def test_an_invoice_pdf_is_the_cli_document_and_the_same_bytes_twice(
    api: tuple[Client, dict[str, str]],
) -> None:
    client, keys = api
    first = client.get("/v1/invoices/INV-2026-000005.pdf", headers=auth(keys, "demo"))
    assert first.status_code == 200, first.text
    assert first.headers["content-type"] == "application/pdf"
    assert first.headers["content-disposition"] == 'inline; filename="INV-2026-000005.pdf"'
    text = pdf_text(first.content)
    assert "Total ￥12,518" in text
    again = client.get("/v1/invoices/INV-2026-000005.pdf", headers=auth(keys, "demo"))
    assert again.content == first.content
    invoice = client.get("/v1/invoices/INV-2026-000005", headers=auth(keys, "demo")).json()
    by_id = client.get(f"/v1/invoices/{invoice['id']}.pdf", headers=auth(keys, "demo"))
    assert by_id.content == first.content


def test_html_and_credit_notes(api: tuple[Client, dict[str, str]]) -> None:
    client, keys = api
    page = client.get("/v1/invoices/INV-2026-000002.html", headers=auth(keys, "demo"))
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Credit note CN-2026-000001" in page.text
    note = client.get("/v1/credit-notes/CN-2026-000001.pdf", headers=auth(keys, "demo"))
    assert note.status_code == 200
    assert "Total credited $108.25" in pdf_text(note.content)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/invoices/INV-2026-000001.pdf",
        "/v1/invoices/INV-2026-000001.html",
        "/v1/credit-notes/CN-2026-000001.pdf",
        "/v1/credit-notes/CN-2026-000001.html",
        f"/v1/invoices/{url_id('sub-000001/close/2026-01-01T06:00:00+00:00')}.pdf",
    ],
)
def test_another_tenant_gets_404_and_no_key_401(
    api: tuple[Client, dict[str, str]], path: str
) -> None:
    client, keys = api
    refused = client.get(path, headers=auth(keys, "other"))
    assert refused.status_code == 404, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert client.get(path).status_code == 401


def test_the_overview_figures(api: tuple[Client, dict[str, str]]) -> None:
    client, keys = api
    seen = client.get("/v1/analytics/overview?at=2026-02-01T12:00:00Z", headers=auth(keys, "demo"))
    assert seen.status_code == 200, seen.text
    body = seen.json()
    # MRR: the demo's monthly fixed fees; revenue: January before tax, less the 100.00 credit.
    assert body["mrr"] == [
        {"currency": "EUR", "amount": "49.00"},
        {"currency": "JPY", "amount": "500"},
        {"currency": "USD", "amount": "31.00"},
    ]
    assert {"model": "outcome_based", "currency": "USD", "amount": "1560.84"} in body[
        "revenue_by_model"
    ]
    other = client.get("/v1/analytics/overview", headers=auth(keys, "other")).json()
    assert other["mrr"] == [] and other["invoices"] == []
    bad = client.get("/v1/analytics/overview?at=yesterday", headers=auth(keys, "demo"))
    assert bad.status_code in (400, 422)
