"""A Python client of the iotbill HTTP API, checked against its OpenAPI document.

Every call names its operation in :data:`OPERATIONS` (method and path
template); a test compares that table with the served ``/openapi.json`` both
ways, so the client covers every route and calls none that does not exist.

>>> client = IotbillClient("http://127.0.0.1:8000", "iotbill_k3y1d0000000_...")  # doctest: +SKIP
>>> client.send_events([{"id": "e1", "type": "pump.flow", "device": "p1",
...     "timestamp": "2026-01-09T12:00:00Z", "properties": {"m3": "2.5"}}])  # doctest: +SKIP
{'atomic': False, 'stored': 1, 'accepted': 1, ...}

A ``POST`` gets an ``Idempotency-Key`` (a new random one unless given) and is
retried with the same key after a connection error, a 409 saying the first
attempt still runs, a 429 or a 503, up to ``retries`` times, waiting as the
server's ``Retry-After`` says (else doubling from ``backoff`` seconds, at most
:data:`MAX_WAIT`). So a
request is carried out once even when the server dies in the middle of it.
Errors are :class:`ApiError` with the RFC 7807 problem.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

import httpx

OPERATIONS: dict[str, tuple[str, str]] = {
    "health": ("GET", "/healthz"),
    "ready": ("GET", "/readyz"),
    "send_events": ("POST", "/v1/events"),
    "create_customer": ("POST", "/v1/customers"),
    "list_customers": ("GET", "/v1/customers"),
    "get_customer": ("GET", "/v1/customers/{customer_id}"),
    "create_device": ("POST", "/v1/devices"),
    "list_devices": ("GET", "/v1/devices"),
    "get_device": ("GET", "/v1/devices/{device_id}"),
    "move_device": ("POST", "/v1/devices/{device_id}/moves"),
    "upload_plan": ("POST", "/v1/plans"),
    "list_plans": ("GET", "/v1/plans"),
    "get_plan": ("GET", "/v1/plans/{code}"),
    "list_plan_versions": ("GET", "/v1/plans/{code}/versions"),
    "get_plan_version": ("GET", "/v1/plans/{code}/versions/{version}"),
    "create_subscription": ("POST", "/v1/subscriptions"),
    "list_subscriptions": ("GET", "/v1/subscriptions"),
    "get_subscription": ("GET", "/v1/subscriptions/{subscription_id}"),
    "change_subscription": ("POST", "/v1/subscriptions/{subscription_id}/change"),
    "cancel_subscription": ("POST", "/v1/subscriptions/{subscription_id}/cancel"),
    "pause_subscription": ("POST", "/v1/subscriptions/{subscription_id}/pause"),
    "resume_subscription": ("POST", "/v1/subscriptions/{subscription_id}/resume"),
    "subscription_usage": ("GET", "/v1/subscriptions/{subscription_id}/usage"),
    "upcoming_invoice": ("GET", "/v1/subscriptions/{subscription_id}/upcoming"),
    "customer_usage": ("GET", "/v1/customers/{customer_id}/usage"),
    "list_invoices": ("GET", "/v1/invoices"),
    "get_invoice": ("GET", "/v1/invoices/{invoice_id}"),
    "finalize_invoice": ("POST", "/v1/invoices/{invoice_id}/finalize"),
    "pay_invoice": ("POST", "/v1/invoices/{invoice_id}/pay"),
    "void_invoice": ("POST", "/v1/invoices/{invoice_id}/void"),
    "create_credit_note": ("POST", "/v1/credit-notes"),
    "list_credit_notes": ("GET", "/v1/credit-notes"),
    "get_credit_note": ("GET", "/v1/credit-notes/{credit_note_id}"),
    "invoice_pdf": ("GET", "/v1/invoices/{invoice_id}.pdf"),
    "invoice_html": ("GET", "/v1/invoices/{invoice_id}.html"),
    "credit_note_pdf": ("GET", "/v1/credit-notes/{credit_note_id}.pdf"),
    "credit_note_html": ("GET", "/v1/credit-notes/{credit_note_id}.html"),
    "analytics_overview": ("GET", "/v1/analytics/overview"),
    "check_entitlement": ("GET", "/v1/entitlements/check"),
    "create_coupon": ("POST", "/v1/coupons"),
    "list_coupons": ("GET", "/v1/coupons"),
    "redeem_coupon": ("POST", "/v1/coupons/{code}/redemptions"),
    "grant_credit": ("POST", "/v1/credits"),
    "list_credits": ("GET", "/v1/credits"),
    "customer_balance": ("GET", "/v1/customers/{customer_id}/balance"),
    "add_charge": ("POST", "/v1/charges"),
    "list_charges": ("GET", "/v1/charges"),
    "list_orders": ("GET", "/v1/orders"),
    "get_order": ("GET", "/v1/orders/{order_id}"),
    "ship_order": ("POST", "/v1/orders/{order_id}/ship"),
    "deliver_order": ("POST", "/v1/orders/{order_id}/deliver"),
    "cancel_order": ("POST", "/v1/orders/{order_id}/cancel"),
    "open_work_order": ("POST", "/v1/work-orders"),
    "list_work_orders": ("GET", "/v1/work-orders"),
    "get_work_order": ("GET", "/v1/work-orders/{work_order_id}"),
    "dispatch_work_order": ("POST", "/v1/work-orders/{work_order_id}/dispatch"),
    "arrive_work_order": ("POST", "/v1/work-orders/{work_order_id}/arrive"),
    "resolve_work_order": ("POST", "/v1/work-orders/{work_order_id}/resolve"),
    "give_consent": ("POST", "/v1/devices/{device_id}/consent"),
    "withdraw_consent": ("POST", "/v1/devices/{device_id}/consent/withdraw"),
    "list_consents": ("GET", "/v1/consents"),
    "export_data": ("POST", "/v1/data-exports"),
    "list_data_exports": ("GET", "/v1/data-exports"),
    "data_export_file": ("GET", "/v1/data-exports/{export_id}/file"),
    "add_buyer": ("POST", "/v1/sharing/buyers"),
    "list_buyers": ("GET", "/v1/sharing/buyers"),
    "payout_statement": ("GET", "/v1/payouts/statement"),
    "create_key": ("POST", "/v1/keys"),
    "list_keys": ("GET", "/v1/keys"),
    "revoke_key": ("POST", "/v1/keys/{key_id}/revoke"),
    "create_webhook": ("POST", "/v1/webhooks"),
    "list_webhooks": ("GET", "/v1/webhooks"),
    "disable_webhook": ("POST", "/v1/webhooks/{endpoint_id}/disable"),
    "list_webhook_deliveries": ("GET", "/v1/webhook-deliveries"),
    "resend_webhook_delivery": ("POST", "/v1/webhook-deliveries/{delivery_id}/resend"),
}
_RETRIED_STATUSES = {429, 503}
MAX_WAIT = 5.0
"""The longest wait between two attempts, in seconds."""


class ApiError(Exception):
    """An error answer: its status and RFC 7807 problem (``code``, ``detail``, ``errors``)."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(f"{status} {problem.get('code', '')}: {problem.get('detail', '')}")
        self.status = status
        self.problem = problem

    @property
    def code(self) -> str:
        return str(self.problem.get("code", ""))


class IotbillClient:
    """Calls the API at ``base_url`` with the API key ``key``."""

    def __init__(
        self,
        base_url: str,
        key: str | None,
        *,
        timeout: float = 30.0,
        retries: int = 5,
        backoff: float = 0.2,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._http = httpx.Client(
            base_url=base_url, headers=headers, timeout=timeout, transport=transport
        )
        self.retries = retries
        self.backoff = backoff

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> IotbillClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- the operations -------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        return self._call("health")

    def ready(self) -> dict[str, Any]:
        return self._call("ready")

    def send_events(
        self,
        events: list[dict[str, Any]] | dict[str, Any],
        *,
        atomic: bool = False,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Send one event (a dict) or a batch (a list of up to 1,000)."""
        params = {"atomic": "true"} if atomic else None
        return self._call(
            "send_events", json=events, params=params, idempotency_key=idempotency_key
        )

    def create_customer(self, **fields: Any) -> dict[str, Any]:
        return self._call("create_customer", json=fields)

    def list_customers(self, **query: Any) -> dict[str, Any]:
        return self._call("list_customers", params=query)

    def get_customer(self, customer_id: str) -> dict[str, Any]:
        return self._call("get_customer", customer_id=customer_id)

    def create_device(self, **fields: Any) -> dict[str, Any]:
        return self._call("create_device", json=fields)

    def list_devices(self, **query: Any) -> dict[str, Any]:
        return self._call("list_devices", params=query)

    def get_device(self, device_id: str) -> dict[str, Any]:
        return self._call("get_device", device_id=device_id)

    def move_device(self, device_id: str, **fields: Any) -> dict[str, Any]:
        return self._call("move_device", json=fields, device_id=device_id)

    def upload_plan(self, document: str) -> dict[str, Any]:
        return self._call("upload_plan", json={"document": document})

    def list_plans(self, **query: Any) -> dict[str, Any]:
        return self._call("list_plans", params=query)

    def get_plan(self, code: str) -> dict[str, Any]:
        return self._call("get_plan", code=code)

    def list_plan_versions(self, code: str, **query: Any) -> dict[str, Any]:
        return self._call("list_plan_versions", params=query, code=code)

    def get_plan_version(self, code: str, version: int) -> dict[str, Any]:
        return self._call("get_plan_version", code=code, version=str(version))

    def create_subscription(self, **fields: Any) -> dict[str, Any]:
        return self._call("create_subscription", json=fields)

    def list_subscriptions(self, **query: Any) -> dict[str, Any]:
        return self._call("list_subscriptions", params=query)

    def get_subscription(self, subscription_id: str) -> dict[str, Any]:
        return self._call("get_subscription", subscription_id=subscription_id)

    def change_subscription(self, subscription_id: str, **fields: Any) -> dict[str, Any]:
        return self._call("change_subscription", json=fields, subscription_id=subscription_id)

    def cancel_subscription(self, subscription_id: str, **fields: Any) -> dict[str, Any]:
        return self._call("cancel_subscription", json=fields, subscription_id=subscription_id)

    def pause_subscription(self, subscription_id: str, **fields: Any) -> dict[str, Any]:
        return self._call("pause_subscription", json=fields, subscription_id=subscription_id)

    def resume_subscription(self, subscription_id: str, **fields: Any) -> dict[str, Any]:
        return self._call("resume_subscription", json=fields, subscription_id=subscription_id)

    def subscription_usage(self, subscription_id: str, **query: Any) -> dict[str, Any]:
        """Usage so far in the open period (``by="day"`` buckets it)."""
        return self._call("subscription_usage", params=query, subscription_id=subscription_id)

    def upcoming_invoice(self, subscription_id: str) -> dict[str, Any]:
        """The invoice the open period would close into, were it to close now."""
        return self._call("upcoming_invoice", subscription_id=subscription_id)

    def customer_usage(self, customer_id: str, **query: Any) -> dict[str, Any]:
        """Usage over ``from``/``to`` (pass them as ``**{"from": ..., "to": ...}``)."""
        return self._call("customer_usage", params=query, customer_id=customer_id)

    def list_invoices(self, **query: Any) -> dict[str, Any]:
        return self._call("list_invoices", params=query)

    def get_invoice(self, invoice_id: str) -> dict[str, Any]:
        return self._call("get_invoice", invoice_id=invoice_id)

    def finalize_invoice(self, invoice_id: str) -> dict[str, Any]:
        return self._call("finalize_invoice", invoice_id=invoice_id)

    def pay_invoice(self, invoice_id: str, **fields: Any) -> dict[str, Any]:
        return self._call("pay_invoice", json=fields, invoice_id=invoice_id)

    def void_invoice(self, invoice_id: str) -> dict[str, Any]:
        return self._call("void_invoice", invoice_id=invoice_id)

    def create_credit_note(self, **fields: Any) -> dict[str, Any]:
        return self._call("create_credit_note", json=fields)

    def list_credit_notes(self, **query: Any) -> dict[str, Any]:
        return self._call("list_credit_notes", params=query)

    def get_credit_note(self, credit_note_id: str) -> dict[str, Any]:
        return self._call("get_credit_note", credit_note_id=credit_note_id)

    def invoice_pdf(self, invoice_id: str) -> bytes:
        """The invoice as PDF (its id's URL form or its number)."""
        return self._send("invoice_pdf", invoice_id=invoice_id).content

    def invoice_html(self, invoice_id: str) -> str:
        return self._send("invoice_html", invoice_id=invoice_id).text

    def credit_note_pdf(self, credit_note_id: str) -> bytes:
        return self._send("credit_note_pdf", credit_note_id=credit_note_id).content

    def credit_note_html(self, credit_note_id: str) -> str:
        return self._send("credit_note_html", credit_note_id=credit_note_id).text

    def analytics_overview(self, **query: Any) -> dict[str, Any]:
        return self._call("analytics_overview", params=query)

    def check_entitlement(self, *, customer: str, feature: str, **query: Any) -> dict[str, Any]:
        return self._call(
            "check_entitlement", params={"customer": customer, "feature": feature, **query}
        )

    def create_coupon(self, **fields: Any) -> dict[str, Any]:
        return self._call("create_coupon", json=fields)

    def list_coupons(self, **query: Any) -> dict[str, Any]:
        return self._call("list_coupons", params=query)

    def redeem_coupon(self, code: str, **fields: Any) -> dict[str, Any]:
        return self._call("redeem_coupon", json=fields, code=code)

    def grant_credit(self, **fields: Any) -> dict[str, Any]:
        return self._call("grant_credit", json=fields)

    def list_credits(self, **query: Any) -> dict[str, Any]:
        return self._call("list_credits", params=query)

    def customer_balance(self, customer_id: str) -> dict[str, Any]:
        return self._call("customer_balance", customer_id=customer_id)

    def add_charge(self, **fields: Any) -> dict[str, Any]:
        return self._call("add_charge", json=fields)

    def list_charges(self, **query: Any) -> dict[str, Any]:
        return self._call("list_charges", params=query)

    def list_orders(self, **query: Any) -> dict[str, Any]:
        return self._call("list_orders", params=query)

    def get_order(self, order_id: str) -> dict[str, Any]:
        return self._call("get_order", order_id=order_id)

    def ship_order(self, order_id: str, **fields: Any) -> dict[str, Any]:
        return self._call("ship_order", json=fields, order_id=order_id)

    def deliver_order(self, order_id: str, **fields: Any) -> dict[str, Any]:
        return self._call("deliver_order", json=fields, order_id=order_id)

    def cancel_order(self, order_id: str, **fields: Any) -> dict[str, Any]:
        return self._call("cancel_order", json=fields, order_id=order_id)

    def open_work_order(self, **fields: Any) -> dict[str, Any]:
        return self._call("open_work_order", json=fields)

    def list_work_orders(self, **query: Any) -> dict[str, Any]:
        return self._call("list_work_orders", params=query)

    def get_work_order(self, work_order_id: str) -> dict[str, Any]:
        return self._call("get_work_order", work_order_id=work_order_id)

    def dispatch_work_order(self, work_order_id: str, **fields: Any) -> dict[str, Any]:
        return self._call("dispatch_work_order", json=fields, work_order_id=work_order_id)

    def arrive_work_order(self, work_order_id: str, **fields: Any) -> dict[str, Any]:
        return self._call("arrive_work_order", json=fields, work_order_id=work_order_id)

    def resolve_work_order(self, work_order_id: str, **fields: Any) -> dict[str, Any]:
        return self._call("resolve_work_order", json=fields, work_order_id=work_order_id)

    def give_consent(self, device_id: str, **fields: Any) -> dict[str, Any]:
        return self._call("give_consent", json=fields, device_id=device_id)

    def withdraw_consent(self, device_id: str, **fields: Any) -> dict[str, Any]:
        return self._call("withdraw_consent", json=fields, device_id=device_id)

    def list_consents(self, **query: Any) -> dict[str, Any]:
        return self._call("list_consents", params=query)

    def export_data(self, **fields: Any) -> dict[str, Any]:
        """Deliver a data product (``product``, ``from``, ``to``, ``format``; ``buyer`` unless
        the key acts for it); :meth:`data_export_file` fetches the cells."""
        return self._call("export_data", json=fields)

    def list_data_exports(self, **query: Any) -> dict[str, Any]:
        return self._call("list_data_exports", params=query)

    def data_export_file(self, export_id: str) -> bytes:
        return self._send("data_export_file", export_id=export_id).content

    def add_buyer(self, **fields: Any) -> dict[str, Any]:
        return self._call("add_buyer", json=fields)

    def list_buyers(self, **query: Any) -> dict[str, Any]:
        return self._call("list_buyers", params=query)

    def payout_statement(self, *, customer: str, period: str, **query: Any) -> dict[str, Any]:
        return self._call(
            "payout_statement", params={"customer": customer, "period": period, **query}
        )

    def create_key(
        self, *, name: str, scopes: list[str], party: str | None = None
    ) -> dict[str, Any]:
        """A new key; with ``party``, one acting for that customer alone."""
        body: dict[str, Any] = {"name": name, "scopes": scopes}
        if party is not None:
            body["party"] = party
        return self._call("create_key", json=body)

    def list_keys(self, **query: Any) -> dict[str, Any]:
        return self._call("list_keys", params=query)

    def revoke_key(self, key_id: str) -> dict[str, Any]:
        return self._call("revoke_key", key_id=key_id)

    def create_webhook(self, *, url: str, events: list[str]) -> dict[str, Any]:
        return self._call("create_webhook", json={"url": url, "events": events})

    def list_webhooks(self, **query: Any) -> dict[str, Any]:
        return self._call("list_webhooks", params=query)

    def disable_webhook(self, endpoint_id: str) -> dict[str, Any]:
        return self._call("disable_webhook", endpoint_id=endpoint_id)

    def list_webhook_deliveries(self, **query: Any) -> dict[str, Any]:
        return self._call("list_webhook_deliveries", params=query)

    def resend_webhook_delivery(self, delivery_id: str) -> dict[str, Any]:
        return self._call("resend_webhook_delivery", delivery_id=delivery_id)

    def iterate(self, operation: str, **query: Any) -> Iterator[dict[str, Any]]:
        """Every item of a list operation (``list_customers``...), page after page."""
        cursor = None
        while True:
            page = self._call(operation, params={**query, "cursor": cursor})
            yield from page["data"]
            cursor = page["next_cursor"]
            if cursor is None:
                return

    # -- the machinery --------------------------------------------------------------

    def _call(
        self,
        operation: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        **path: str,
    ) -> dict[str, Any]:
        result: dict[str, Any] = self._send(
            operation, json=json, params=params, idempotency_key=idempotency_key, **path
        ).json()
        return result

    def _send(
        self,
        operation: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        **path: str,
    ) -> httpx.Response:
        method, template = OPERATIONS[operation]
        url = template.format(**{name: quote(value, safe="") for name, value in path.items()})
        query = {name: value for name, value in (params or {}).items() if value is not None}
        headers = {}
        if method == "POST":
            headers["Idempotency-Key"] = idempotency_key or uuid.uuid4().hex
        wait = self.backoff
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = self._http.request(method, url, json=json, params=query, headers=headers)
            except httpx.TransportError:
                if last:
                    raise
                time.sleep(wait)
                wait = min(wait * 2, MAX_WAIT)
                continue
            retry = response.status_code in _RETRIED_STATUSES or (
                response.status_code == 409
                and response.headers.get("content-type", "").startswith("application/problem")
                and response.json().get("code") == "idempotency_key_in_use"
            )
            if retry and not last:
                time.sleep(min(float(response.headers.get("retry-after", wait)), MAX_WAIT))
                wait = min(wait * 2, MAX_WAIT)
                continue
            if response.status_code >= 400:
                problem = (
                    response.json()
                    if response.headers.get("content-type", "").startswith(
                        ("application/problem+json", "application/json")
                    )
                    else {"detail": response.text}
                )
                raise ApiError(response.status_code, problem)
            return response
        raise AssertionError("unreachable: the last attempt returns or raises")
