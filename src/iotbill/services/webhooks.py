"""Webhooks: endpoints, the outbox, and the delivery worker's rounds.

**Emitting** is one call, :func:`emit`, made by a service inside the unit of
work of the change it reports, before that unit of work commits::

    with uow:
        ...  # the change
        emit(uow, "invoice.paid", subject=invoice.id, data=invoice_data(invoice), at=at)
        uow.commit()

It writes the message and one delivery per active endpoint that wants its
type, in that same transaction: a change committed always has its message,
a change rolled back never does (the outbox pattern). The message id comes
from the type and the subject (:func:`~iotbill.domain.webhooks.message_id`),
so the same change reported again writes nothing new. With no endpoint
wanting the type, nothing is written.

**Delivering** is :class:`Dispatcher`'s: each round it claims the deliveries
that are due (pushing their next attempt past the attempt's timeout, so no
other worker takes them meanwhile), POSTs each on a pool of threads and
records the attempt and what follows (delivered, the next try, or failed past
the deadline). A receiver that never answers holds one thread until its
timeout, never the others. Delivery is at least once: a worker killed after a
POST and before recording it sends that message again, with the same id,
once the claim runs out.

Emitted now: ``invoice.finalized`` (by the bill run and ``invoices
finalize``), ``invoice.paid`` and ``payment.received`` (``invoices pay``),
``invoice.voided`` and ``credit_note.created``; ``entitlement.threshold_crossed`` (by
ingest, :func:`~iotbill.services.entitlements.record_alerts`).
"""

from __future__ import annotations

import json
import random
import secrets
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar, overload

from iotbill.domain.errors import InvalidInput, NotFound
from iotbill.domain.invoices import CreditNote, Invoice
from iotbill.domain.periods import require_aware
from iotbill.domain.webhooks import (
    EVENT_TYPES,
    Attempt,
    Delivery,
    RetryPolicy,
    WebhookEndpoint,
    WebhookMessage,
    delivery_id,
    message_id,
    signature,
)
from iotbill.services.ports import (
    DEFAULT_TENANT,
    Clock,
    DueDelivery,
    SendResult,
    UnitOfWork,
    UnitOfWorkFactory,
    WebhookSender,
)

SecretSource = Callable[[], str]
POLICY = RetryPolicy()
"""The default: retries from 10 s, doubling up to 1 h, for three days."""


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def add_endpoint(
    uow: UnitOfWork,
    url: str,
    events: Sequence[str],
    *,
    at: datetime,
    secret_source: SecretSource = new_secret,
) -> WebhookEndpoint:
    """Register ``url`` for ``events`` (``*``: all); the result holds its signing secret."""
    wanted = frozenset(EVENT_TYPES) if list(events) == ["*"] else frozenset(events)
    with uow:
        taken = {endpoint.id for endpoint in uow.webhooks.endpoints()}
        number = len(taken) + 1
        while f"we_{number:06}" in taken:
            number += 1
        endpoint = WebhookEndpoint(
            id=f"we_{number:06}",
            url=url,
            events=wanted,
            secret=secret_source(),
            created_at=require_aware(at, "at"),
        )
        uow.webhooks.add_endpoint(endpoint)
        uow.commit()
    return endpoint


def list_endpoints(uow: UnitOfWork) -> list[WebhookEndpoint]:
    with uow:
        return uow.webhooks.endpoints()


def disable_endpoint(uow: UnitOfWork, id: str, *, at: datetime) -> WebhookEndpoint:
    """Stop sending to endpoint ``id``: nothing new is queued for it, pending deliveries fail."""
    with uow:
        endpoint = _endpoint(uow, id)
        if not endpoint.active:
            return endpoint
        disabled = WebhookEndpoint(
            endpoint.id, endpoint.url, endpoint.events, endpoint.secret, endpoint.created_at, at
        )
        uow.webhooks.save_endpoint(disabled)
        uow.commit()
    return disabled


def _endpoint(uow: UnitOfWork, id: str) -> WebhookEndpoint:
    for endpoint in uow.webhooks.endpoints():
        if endpoint.id == id:
            return endpoint
    raise NotFound(f"unknown webhook endpoint {id!r}")


def emit(
    uow: UnitOfWork,
    type: str,
    *,
    subject: str,
    data: dict[str, Any],
    at: datetime,
    policy: RetryPolicy | None = None,
) -> str | None:
    """Queue the message that ``type`` happened to ``subject`` (the id of what changed), in
    ``uow``'s transaction. Its id, or ``None`` when no active endpoint wants ``type``."""
    [id] = emit_many(uow, type, [(subject, data, at)], policy=policy)
    return id


Happened = tuple[str, dict[str, Any], datetime]
"""What :func:`emit_many` queues a message of: ``(subject, data, at)``."""
T = TypeVar("T")


class Described(Sequence[Happened], Generic[T]):
    """``items`` as :func:`emit_many` takes them, each described by ``describe`` only when
    read: where no endpoint wants the messages none is (describing a bill run's 20,000
    invoices for no one took a fiftieth of the run)."""

    def __init__(self, items: Sequence[T], describe: Callable[[T], Happened]) -> None:
        self._items = items
        self._describe = describe

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, index: int) -> Happened: ...

    @overload
    def __getitem__(self, index: slice) -> list[Happened]: ...

    def __getitem__(self, index: int | slice) -> Happened | list[Happened]:
        if isinstance(index, slice):
            return [self._describe(item) for item in self._items[index]]
        return self._describe(self._items[index])


def emit_many(
    uow: UnitOfWork,
    type: str,
    happened: Sequence[Happened],
    *,
    policy: RetryPolicy | None = None,
) -> list[str | None]:
    """:func:`emit` for each ``(subject, data, at)``, reading the endpoints once."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {type!r}")
    if not happened:
        return []
    deadline = (policy or POLICY).deadline
    endpoints = [endpoint for endpoint in uow.webhooks.endpoints() if endpoint.wants(type)]
    if not endpoints:
        return [None] * len(happened)
    ids: list[str | None] = []
    for subject, data, at in happened:
        at = require_aware(at, "at")
        id = message_id(type, subject)
        body = {"id": id, "type": type, "created_at": at.isoformat(), "tenant": uow.tenant,
                "data": data}  # fmt: skip
        message = WebhookMessage(id, type, at, json.dumps(body, sort_keys=True).encode())
        deliveries = [
            Delivery(delivery_id(id, endpoint.id), id, endpoint.id, "pending", at, at + deadline)
            for endpoint in endpoints
        ]
        uow.webhooks.add_message(message, deliveries)
        ids.append(id)
    return ids


def invoice_data(invoice: Invoice) -> dict[str, Any]:
    """What a message about ``invoice`` says of it."""
    return {
        "invoice": {
            "id": invoice.id,
            "number": invoice.number,
            "status": invoice.status,
            "customer": invoice.customer_id,
            "subscription": invoice.subscription_id,
            "currency": invoice.currency.code,
            "period": {
                "start": invoice.period.start.isoformat(),
                "end": invoice.period.end.isoformat(),
            },
            "total": str(invoice.total),
            "amount_due": str(invoice.amount_due),
        }
    }


def credit_note_data(note: CreditNote, invoice: Invoice) -> dict[str, Any]:
    """What a message about credit note ``note`` (of ``invoice``) says of it."""
    return {"credit_note": {**note.as_json(), "invoice_number": invoice.number}}


@dataclass(frozen=True, slots=True)
class DeliveryView:
    """A delivery as the commands list it: with its message's type and its endpoint's URL."""

    delivery: Delivery
    type: str
    url: str


def list_deliveries(
    uow: UnitOfWork, *, status: str | None = None, message: str | None = None, limit: int = 100
) -> list[DeliveryView]:
    """Deliveries with their attempts, the latest messages first."""
    if status is not None and status not in ("pending", "delivered", "failed"):
        raise InvalidInput.at("status", f"must be pending, delivered or failed, not {status!r}")
    with uow:
        found = uow.webhooks.deliveries(status=status, message=message, limit=limit)
        messages = uow.webhooks.messages([d.message_id for d in found])
        urls = {endpoint.id: endpoint.url for endpoint in uow.webhooks.endpoints()}
    return [DeliveryView(d, messages[d.message_id].type, urls[d.endpoint_id]) for d in found]


def resend(uow: UnitOfWork, id: str, *, at: datetime, policy: RetryPolicy = POLICY) -> Delivery:
    """Send delivery ``id`` again (failed, or delivered), from ``at``, with a new deadline."""
    with uow:
        again = uow.webhooks.get_delivery(id).resent(require_aware(at, "at"), policy)
        uow.webhooks.save_delivery(again)
        uow.commit()
    return again


def headers(message: WebhookMessage, secret: str, timestamp: int, attempt: int) -> dict[str, str]:
    """What a POST of ``message`` carries besides its body."""
    return {
        "Content-Type": "application/json",
        "User-Agent": "iotbill-webhooks/1",
        "Iotbill-Event-Id": message.id,
        "Iotbill-Event-Type": message.type,
        "Iotbill-Delivery-Attempt": str(attempt),
        "Iotbill-Timestamp": str(timestamp),
        "Iotbill-Signature": signature(secret, timestamp, message.body),
    }


class Dispatcher:
    """Delivers due messages, ``concurrency`` POSTs at a time, every tenant's.

    :meth:`dispatch` claims what is due, as many as there are free threads, and
    returns at once; the POSTs run on the pool and each records its attempt.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        sender: WebhookSender,
        *,
        policy: RetryPolicy = POLICY,
        concurrency: int = 8,
        rng: random.Random | None = None,
    ) -> None:
        if concurrency < 1:
            raise InvalidInput.at("concurrency", f"must be at least 1, not {concurrency}")
        self._uow_factory = uow_factory
        self._clock = clock
        self._sender = sender
        self._policy = policy
        self._concurrency = concurrency
        self._rng = rng or random.Random()
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="webhook")
        self._in_flight: set[Future[None]] = set()
        self.attempts = self.delivered = self.failed = 0

    def dispatch(self) -> int:
        """Start the attempts that are due (as many as there are free threads); how many."""
        self._in_flight = {future for future in self._in_flight if not future.done()}
        free = self._concurrency - len(self._in_flight)
        started = 0
        if free <= 0:
            return 0
        for tenant in self._tenants():
            now = self._clock.now()
            hold = now + self._policy.timeout + timedelta(seconds=30)
            with self._uow_factory(tenant) as uow:
                due = uow.webhooks.claim_due(now, hold, free - started)
                uow.commit()
            for found in due:
                self._in_flight.add(self._pool.submit(self._attempt, tenant, found))
            started += len(due)
            if started >= free:
                break
        return started

    def drain(self) -> None:
        """Wait for the attempts in flight."""
        for future in list(self._in_flight):
            future.result()
        self._in_flight.clear()

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def _tenants(self) -> list[str]:
        with self._uow_factory(DEFAULT_TENANT, read_only=True) as uow:
            return [tenant.code for tenant in uow.tenants.list()]

    def _attempt(self, tenant: str, due: DueDelivery) -> None:
        number = len(due.delivery.attempts) + 1
        started = self._clock.now()
        began = time.monotonic()
        result = self._sender.send(
            due.endpoint.url,
            due.message.body,
            headers(due.message, due.endpoint.secret, int(started.timestamp()), number),
            self._policy.timeout.total_seconds(),
        )
        attempt = Attempt(
            number,
            started,
            result.status_code,
            _error(result),
            int((time.monotonic() - began) * 1000),
        )
        with self._uow_factory(tenant) as uow:
            current = uow.webhooks.get_delivery(due.delivery.id)
            if current.status != "pending" or len(current.attempts) != number - 1:
                return  # sent again by hand meanwhile: that round records its own attempt
            updated = current.after(attempt, self._policy, self._rng.random())
            uow.webhooks.save_delivery(updated)
            uow.commit()
        self.attempts += 1
        self.delivered += updated.status == "delivered"
        self.failed += updated.status == "failed"


def _error(result: SendResult) -> str | None:
    if result.error is not None:
        return result.error
    code = result.status_code
    return None if code is not None and 200 <= code < 300 else f"HTTP {code}"


def endpoint_json(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """An endpoint as the command line and the API show it (never its secret)."""
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "events": sorted(endpoint.events),
        "created_at": endpoint.created_at.isoformat(),
        "active": endpoint.active,
    }


def delivery_json(view: DeliveryView) -> dict[str, Any]:
    """A delivery with its attempts, as the command line and the API show it."""
    delivery = view.delivery
    return {
        "id": delivery.id,
        "event_id": delivery.message_id,
        "type": view.type,
        "endpoint": delivery.endpoint_id,
        "url": view.url,
        "status": delivery.status,
        "next_attempt_at": delivery.next_attempt_at.isoformat(),
        "deadline": delivery.deadline.isoformat(),
        "delivered_at": None
        if delivery.delivered_at is None
        else delivery.delivered_at.isoformat(),
        "attempts": [
            {
                "number": a.number,
                "at": a.at.isoformat(),
                "status_code": a.status_code,
                "error": a.error,
                "duration_ms": a.duration_ms,
            }
            for a in delivery.attempts
        ],
    }
