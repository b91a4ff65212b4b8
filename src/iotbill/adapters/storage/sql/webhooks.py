"""Webhook endpoints and the outbox in SQL: messages, their deliveries, each attempt."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, select, update

from iotbill.adapters.storage.sql import tables as t
from iotbill.adapters.storage.sql.repository import Repository, chunks, instant, micros
from iotbill.domain.errors import Conflict, NotFound
from iotbill.domain.periods import from_micros, to_micros
from iotbill.domain.webhooks import Attempt, Delivery, WebhookEndpoint, WebhookMessage
from iotbill.services.ports import DueDelivery


class SqlWebhookRepository(Repository):
    def add_endpoint(self, endpoint: WebhookEndpoint) -> None:
        if self._exists(t.webhook_endpoints, id=endpoint.id):
            raise Conflict(f"webhook endpoint {endpoint.id!r} already exists")
        self._execute(insert(t.webhook_endpoints).values(self._endpoint_row(endpoint)))

    def save_endpoint(self, endpoint: WebhookEndpoint) -> None:
        table = t.webhook_endpoints
        changed = self._execute(
            update(table)
            .where(self._mine(table), table.c.id == endpoint.id)
            .values(self._endpoint_row(endpoint))
        )
        if changed.rowcount != 1:
            raise NotFound(f"unknown webhook endpoint {endpoint.id!r}")

    def _endpoint_row(self, endpoint: WebhookEndpoint) -> dict[str, Any]:
        return {
            "tenant_id": self._tenant_id(),
            "id": endpoint.id,
            "url": endpoint.url,
            "events": ",".join(sorted(endpoint.events)),
            "secret": endpoint.secret,
            "created_at": to_micros(endpoint.created_at),
            "disabled_at": micros(endpoint.disabled_at),
        }

    def endpoints(self) -> builtins.list[WebhookEndpoint]:
        table = t.webhook_endpoints
        rows = self._execute(select(table).where(self._mine(table)).order_by(table.c.id))
        return [_endpoint(row) for row in rows]

    def add_message(self, message: WebhookMessage, deliveries: Sequence[Delivery]) -> bool:
        if self._exists(t.webhook_messages, id=message.id):
            return False
        tenant = self._tenant_id()
        self._execute(
            insert(t.webhook_messages).values(
                tenant_id=tenant,
                id=message.id,
                type=message.type,
                occurred_at=to_micros(message.occurred_at),
                body=message.body.decode(),
            )
        )
        if deliveries:
            self._execute(
                insert(t.webhook_deliveries),
                [_delivery_row(tenant, delivery) for delivery in deliveries],
            )
        return True

    def claim_due(self, now: datetime, until: datetime, limit: int) -> builtins.list[DueDelivery]:
        deliveries, endpoints = t.webhook_deliveries, t.webhook_endpoints
        statement = (
            select(deliveries)
            .join(
                endpoints,
                and_(
                    endpoints.c.tenant_id == deliveries.c.tenant_id,
                    endpoints.c.id == deliveries.c.endpoint_id,
                ),
            )
            .where(
                self._mine(deliveries),
                deliveries.c.status == "pending",
                deliveries.c.next_attempt_at <= to_micros(now),
                endpoints.c.disabled_at.is_(None),
            )
            .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
            .limit(limit)
        )
        if self._connection().dialect.name == "postgresql":
            statement = statement.with_for_update(of=deliveries, skip_locked=True)
        rows = builtins.list(self._execute(statement))
        if not rows:
            return []
        claimed = []
        for row in rows:
            changed = self._execute(
                update(deliveries)
                .where(
                    self._mine(deliveries),
                    deliveries.c.id == row.id,
                    deliveries.c.status == "pending",
                    deliveries.c.next_attempt_at <= to_micros(now),
                )
                .values(next_attempt_at=to_micros(until))
            )
            if changed.rowcount == 1:
                claimed.append(row)
        found = self._deliveries(claimed)
        messages = self.messages([row.message_id for row in claimed])
        by_id = {endpoint.id: endpoint for endpoint in self.endpoints()}
        return [
            DueDelivery(
                replace(delivery, next_attempt_at=until),
                messages[delivery.message_id],
                by_id[delivery.endpoint_id],
            )
            for delivery in found
        ]

    def get_delivery(self, id: str) -> Delivery:
        table = t.webhook_deliveries
        rows = builtins.list(
            self._execute(select(table).where(self._mine(table), table.c.id == id))
        )
        if not rows:
            raise NotFound(f"unknown webhook delivery {id!r}")
        return self._deliveries(rows)[0]

    def save_delivery(self, delivery: Delivery) -> None:
        table = t.webhook_deliveries
        tenant = self._tenant_id()
        row = _delivery_row(tenant, delivery)
        changed = self._execute(
            update(table).where(self._mine(table), table.c.id == delivery.id).values(row)
        )
        if changed.rowcount != 1:
            raise NotFound(f"unknown webhook delivery {delivery.id!r}")
        attempts = t.webhook_attempts
        stored = {
            number
            for (number,) in self._execute(
                select(attempts.c.number).where(
                    self._mine(attempts), attempts.c.delivery_id == delivery.id
                )
            )
        }
        new = [attempt for attempt in delivery.attempts if attempt.number not in stored]
        if new:
            self._execute(
                insert(attempts),
                [
                    {
                        "tenant_id": tenant,
                        "delivery_id": delivery.id,
                        "number": attempt.number,
                        "at": to_micros(attempt.at),
                        "status_code": attempt.status_code,
                        "error": attempt.error,
                        "duration_ms": attempt.duration_ms,
                    }
                    for attempt in new
                ],
            )

    def deliveries(
        self, *, status: str | None = None, message: str | None = None, limit: int = 100
    ) -> builtins.list[Delivery]:
        deliveries, messages = t.webhook_deliveries, t.webhook_messages
        statement = (
            select(deliveries)
            .join(
                messages,
                and_(
                    messages.c.tenant_id == deliveries.c.tenant_id,
                    messages.c.id == deliveries.c.message_id,
                ),
            )
            .where(self._mine(deliveries))
            .order_by(messages.c.occurred_at.desc(), deliveries.c.id.desc())
            .limit(limit)
        )
        if status is not None:
            statement = statement.where(deliveries.c.status == status)
        if message is not None:
            statement = statement.where(deliveries.c.message_id == message)
        return self._deliveries(builtins.list(self._execute(statement)))

    def messages(self, ids: Sequence[str]) -> dict[str, WebhookMessage]:
        table = t.webhook_messages
        found: dict[str, WebhookMessage] = {}
        for chunk in chunks(ids):
            rows = self._execute(
                select(table).where(self._mine(table), self._among(table.c.id, chunk))
            )
            for row in rows:
                found[row.id] = WebhookMessage(
                    row.id, row.type, from_micros(row.occurred_at), row.body.encode()
                )
        return found

    def _deliveries(self, rows: Sequence[Any]) -> builtins.list[Delivery]:
        """The deliveries of ``rows``, in their order, with their attempts."""
        attempts = t.webhook_attempts
        by_delivery: dict[str, builtins.list[Attempt]] = {}
        for chunk in chunks(row.id for row in rows):
            found = self._execute(
                select(attempts)
                .where(self._mine(attempts), self._among(attempts.c.delivery_id, chunk))
                .order_by(attempts.c.delivery_id, attempts.c.number)
            )
            for row in found:
                by_delivery.setdefault(row.delivery_id, []).append(
                    Attempt(
                        row.number, from_micros(row.at), row.status_code, row.error, row.duration_ms
                    )
                )
        return [
            Delivery(
                id=row.id,
                message_id=row.message_id,
                endpoint_id=row.endpoint_id,
                status=row.status,
                next_attempt_at=from_micros(row.next_attempt_at),
                deadline=from_micros(row.deadline),
                attempts=tuple(by_delivery.get(row.id, ())),
                delivered_at=instant(row.delivered_at),
            )
            for row in rows
        ]


def _endpoint(row: Any) -> WebhookEndpoint:
    return WebhookEndpoint(
        id=row.id,
        url=row.url,
        events=frozenset(row.events.split(",")),
        secret=row.secret,
        created_at=from_micros(row.created_at),
        disabled_at=instant(row.disabled_at),
    )


def _delivery_row(tenant: int, delivery: Delivery) -> dict[str, Any]:
    last = delivery.attempts[-1] if delivery.attempts else None
    return {
        "tenant_id": tenant,
        "id": delivery.id,
        "message_id": delivery.message_id,
        "endpoint_id": delivery.endpoint_id,
        "status": delivery.status,
        "attempts": len(delivery.attempts),
        "next_attempt_at": to_micros(delivery.next_attempt_at),
        "deadline": to_micros(delivery.deadline),
        "delivered_at": micros(delivery.delivered_at),
        "last_error": None
        if last is None or last.succeeded
        else (last.error or str(last.status_code)),
    }
