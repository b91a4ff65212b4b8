"""/v1/webhooks and /v1/webhook-deliveries: what ``iotbill webhooks`` does, over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from iotbill.services.webhooks import emit
from tests.api.conftest import Served, Store


def test_endpoints_and_deliveries_over_http(served: Served, store: Store, tenant_a: str) -> None:
    key = store.key(tenant_a, "admin")
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=served.url, headers=headers) as http:
        refused = http.post("/v1/webhooks", json={"url": "ftp://x", "events": ["invoice.lost"]})
        assert refused.status_code == 422, refused.text
        assert "is not an http:// or https:// address" in refused.text
        made = http.post(
            "/v1/webhooks", json={"url": "https://hooks.example/in", "events": ["invoice.paid"]}
        )
        assert made.status_code == 201, made.text
        endpoint = made.json()
        assert endpoint["secret"].startswith("whsec_") and endpoint["events"] == ["invoice.paid"]
        listed = http.get("/v1/webhooks").json()["data"]
        assert [e["id"] for e in listed] == [endpoint["id"]] and "secret" not in listed[0]

        with store.uow_factory(tenant_a) as uow:
            id = emit(uow, "invoice.paid", subject="inv-1", data={}, at=datetime.now(UTC))
            uow.commit()
        [delivery] = http.get("/v1/webhook-deliveries").json()["data"]
        assert (delivery["event_id"], delivery["status"], delivery["attempts"]) == (
            id,
            "pending",
            [],
        )
        pending = http.post(f"/v1/webhook-deliveries/{delivery['id']}/resend")
        assert pending.status_code == 422 and "still pending" in pending.text
        assert http.post("/v1/webhook-deliveries/dlv_nope/resend").status_code == 404

        disabled = http.post(f"/v1/webhooks/{endpoint['id']}/disable")
        assert disabled.status_code == 200 and disabled.json()["active"] is False
        reader = store.key(tenant_a, "events:write")
        as_reader = {"Authorization": f"Bearer {reader}"}
        with httpx.Client(base_url=served.url, headers=as_reader) as other:
            assert other.get("/v1/webhooks").status_code == 403  # billing keys only
