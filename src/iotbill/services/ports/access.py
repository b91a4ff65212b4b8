"""The ports of access and notice: API keys, idempotency records, entitlement alerts and
webhooks."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from iotbill.domain.api_keys import ApiKey
from iotbill.domain.entitlement_checks import EntitlementAlert
from iotbill.domain.webhooks import Delivery, WebhookEndpoint, WebhookMessage
from iotbill.services.ports.values import (
    DueDelivery,
    IdempotencyRecord,
    SendResult,
)


class ApiKeyRepository(Protocol):
    """API keys. :meth:`find` looks across every tenant (a key names its tenant);
    the others act on the unit of work's tenant only."""

    def add(self, key: ApiKey) -> None: ...

    def save(self, key: ApiKey) -> None:
        """Store the key's revocation."""
        ...

    def get(self, id: str) -> ApiKey:
        """The tenant's key ``id``; :class:`NotFound` if the tenant has no such key."""
        ...

    def list(self) -> list[ApiKey]:
        """The tenant's keys, revoked ones included, by creation time then id."""
        ...

    def find(self, id: str) -> ApiKey | None:
        """Key ``id`` of whichever tenant holds it, if any."""
        ...


class IdempotencyRepository(Protocol):
    """The tenant's idempotency records, one per key."""

    def claim(
        self, record: IdempotencyRecord, *, expired_before: datetime
    ) -> IdempotencyRecord | None:
        """Hold ``record.key`` for ``record.token``, or give the record that holds it.

        ``None`` when the key was free, held by an attempt whose ``locked_until``
        has passed (``record.created_at`` is then), or recorded before
        ``expired_before`` (forgotten): the key is then held by ``record``.
        Commit at once, so that others see the key held.
        """
        ...

    def complete(self, key: str, token: str, *, status: int, content_type: str, body: str) -> None:
        """Record the answer of the attempt ``token`` holding ``key``."""
        ...

    def release(self, key: str, token: str) -> None:
        """Forget ``key`` if ``token`` still holds it without an answer (the attempt failed)."""
        ...


class EntitlementAlertRepository(Protocol):
    """Alerts of metered entitlements: each recorded once, by its key (subscription,
    feature, period start, percentage); never changed."""

    def add_new(self, alerts: Sequence[EntitlementAlert]) -> builtins.list[EntitlementAlert]:
        """Record those of ``alerts`` whose key is not recorded yet; returns them."""
        ...

    def list(self, customer: str | None = None) -> builtins.list[EntitlementAlert]:
        """The alerts (of ``customer``), by the instant reached, then key."""
        ...


class WebhookSender(Protocol):
    """POSTs a webhook body; never raises for the receiver's failures (they are results)."""

    def send(
        self, url: str, body: bytes, headers: Mapping[str, str], timeout: float
    ) -> SendResult: ...


class WebhookRepository(Protocol):
    """The tenant's webhook endpoints and its outbox: messages and their deliveries."""

    def add_endpoint(self, endpoint: WebhookEndpoint) -> None: ...

    def save_endpoint(self, endpoint: WebhookEndpoint) -> None: ...

    def endpoints(self) -> list[WebhookEndpoint]:
        """Every endpoint, active or not, by id."""
        ...

    def add_message(self, message: WebhookMessage, deliveries: Sequence[Delivery]) -> bool:
        """Store ``message`` and its deliveries; ``False`` (nothing written) if a message
        with its id is stored already."""
        ...

    def claim_due(self, now: datetime, until: datetime, limit: int) -> list[DueDelivery]:
        """Up to ``limit`` pending deliveries to active endpoints whose next attempt is due
        by ``now``, oldest first, each pushed to ``until`` so that no other round claims it
        before it is recorded (on PostgreSQL, rows another transaction is claiming are
        skipped)."""
        ...

    def get_delivery(self, id: str) -> Delivery: ...

    def save_delivery(self, delivery: Delivery) -> None:
        """Store a delivery's state and the attempts it has that are not stored yet."""
        ...

    def deliveries(
        self, *, status: str | None = None, message: str | None = None, limit: int = 100
    ) -> list[Delivery]:
        """Deliveries with their attempts, the latest messages first."""
        ...

    def messages(self, ids: Sequence[str]) -> dict[str, WebhookMessage]:
        """The stored messages among ``ids``."""
        ...
