"""Who may call and what they were told, in memory: API keys, idempotency records, webhooks
and entitlement alerts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from iotbill.adapters.storage.memory.base import _add, _get, _Repository
from iotbill.domain.api_keys import ApiKey
from iotbill.domain.entitlement_checks import EntitlementAlert
from iotbill.domain.errors import Conflict
from iotbill.domain.webhooks import Delivery, WebhookEndpoint, WebhookMessage
from iotbill.services.ports import (
    DueDelivery,
    IdempotencyRecord,
)


class MemoryApiKeyRepository(_Repository):
    def add(self, key: ApiKey) -> None:
        if self.find(key.id) is not None:
            raise Conflict(f"API key {key.id!r} already exists")
        self._data().api_keys[key.id] = key

    def save(self, key: ApiKey) -> None:
        _get(self._data().api_keys, key.id, "API key")
        self._data().api_keys[key.id] = key

    def get(self, id: str) -> ApiKey:
        return _get(self._data().api_keys, id, "API key")

    def list(self) -> list[ApiKey]:
        return sorted(self._data().api_keys.values(), key=lambda key: (key.created_at, key.id))

    def find(self, id: str) -> ApiKey | None:
        own = self._unit._data
        if own is not None and id in own.api_keys:
            return own.api_keys[id]
        for data in self._unit.store.data.values():
            if id in data.api_keys:
                return data.api_keys[id]
        return None


class MemoryIdempotencyRepository(_Repository):
    def claim(
        self, record: IdempotencyRecord, *, expired_before: datetime
    ) -> IdempotencyRecord | None:
        records = self._data().idempotency
        held = records.get(record.key)
        if (
            held is None
            or held.created_at < expired_before
            or (held.status is None and held.locked_until < record.created_at)
        ):
            records[record.key] = record
            return None
        return held

    def complete(self, key: str, token: str, *, status: int, content_type: str, body: str) -> None:
        records = self._data().idempotency
        held = records.get(key)
        if held is not None and held.token == token:
            records[key] = replace(held, status=status, content_type=content_type, body=body)

    def release(self, key: str, token: str) -> None:
        records = self._data().idempotency
        held = records.get(key)
        if held is not None and held.token == token and held.status is None:
            del records[key]


class MemoryWebhookRepository(_Repository):
    def add_endpoint(self, endpoint: WebhookEndpoint) -> None:
        _add(self._data().webhook_endpoints, endpoint.id, endpoint, "webhook endpoint")

    def save_endpoint(self, endpoint: WebhookEndpoint) -> None:
        _get(self._data().webhook_endpoints, endpoint.id, "webhook endpoint")
        self._data().webhook_endpoints[endpoint.id] = endpoint

    def endpoints(self) -> list[WebhookEndpoint]:
        found = self._data().webhook_endpoints
        return [found[id] for id in sorted(found)]

    def add_message(self, message: WebhookMessage, deliveries: Sequence[Delivery]) -> bool:
        data = self._data()
        if message.id in data.webhook_messages:
            return False
        for delivery in deliveries:
            _get(data.webhook_endpoints, delivery.endpoint_id, "webhook endpoint")
        data.webhook_messages[message.id] = message
        for delivery in deliveries:
            data.webhook_deliveries[delivery.id] = delivery
        return True

    def claim_due(self, now: datetime, until: datetime, limit: int) -> list[DueDelivery]:
        data = self._data()
        due = sorted(
            (
                delivery
                for delivery in data.webhook_deliveries.values()
                if delivery.status == "pending"
                and delivery.next_attempt_at <= now
                and data.webhook_endpoints[delivery.endpoint_id].active
            ),
            key=lambda delivery: (delivery.next_attempt_at, delivery.id),
        )[:limit]
        claimed = []
        for delivery in due:
            held = replace(delivery, next_attempt_at=until)
            data.webhook_deliveries[delivery.id] = held
            claimed.append(
                DueDelivery(
                    held,
                    data.webhook_messages[delivery.message_id],
                    data.webhook_endpoints[delivery.endpoint_id],
                )
            )
        return claimed

    def get_delivery(self, id: str) -> Delivery:
        return _get(self._data().webhook_deliveries, id, "webhook delivery")

    def save_delivery(self, delivery: Delivery) -> None:
        self.get_delivery(delivery.id)
        self._data().webhook_deliveries[delivery.id] = delivery

    def deliveries(
        self, *, status: str | None = None, message: str | None = None, limit: int = 100
    ) -> list[Delivery]:
        data = self._data()
        chosen = [
            delivery
            for delivery in data.webhook_deliveries.values()
            if (status is None or delivery.status == status)
            and (message is None or delivery.message_id == message)
        ]
        chosen.sort(
            key=lambda d: (data.webhook_messages[d.message_id].occurred_at, d.id), reverse=True
        )
        return chosen[:limit]

    def messages(self, ids: Sequence[str]) -> dict[str, WebhookMessage]:
        found = self._data().webhook_messages
        return {id: found[id] for id in set(ids) if id in found}


class MemoryEntitlementAlertRepository(_Repository):
    def add_new(self, alerts: Sequence[EntitlementAlert]) -> list[EntitlementAlert]:
        recorded = self._data().entitlement_alerts
        new = []
        for alert in alerts:
            if alert.key not in recorded:
                recorded[alert.key] = alert
                new.append(alert)
        return new

    def list(self, customer: str | None = None) -> list[EntitlementAlert]:
        chosen = [
            alert
            for alert in self._data().entitlement_alerts.values()
            if customer is None or alert.customer_id == customer
        ]
        return sorted(chosen, key=lambda alert: (alert.reached_at, alert.key))
