"""Webhooks: endpoints that hear what happened, signed messages, and when to try again.

A tenant registers **endpoints** (an URL and the event types it wants). When
something happens (an invoice finalized, a payment received, ...), a
**message** is written to the outbox in the same transaction as the change,
with one **delivery** per endpoint that wants its type; a worker then POSTs
the message to each endpoint until it answers 2xx, or until the delivery's
deadline passes.

**Ids.** A message's id is derived from what happened
(:func:`message_id`: its type and the id of what changed), so a change that
is made again (a retried transaction) writes no second message, and a
receiver sees one id, however many times it is delivered.

**Signature.** Each POST carries ``Iotbill-Timestamp`` (Unix seconds) and
``Iotbill-Signature: v1=HEX``, ``HEX`` being the HMAC-SHA256, keyed with the
endpoint's secret, of the timestamp, a dot, and the body's bytes
(:func:`signature`). A receiver recomputes it, compares in constant time and
refuses a timestamp more than five minutes old (a replayed request).

>>> signature("whsec_test", 1767225600, b'{"id":"evt_1"}')
'v1=45b40331de0325606dc5400202ade162460fbe48daf9401adfdcd0d7b4f35470'

**Retries.** After the ``n``-th failed attempt the next waits
``min(cap, base × 2^(n-1))``, half of it fixed and half random
(:func:`retry_delay`: "equal jitter", so receivers that failed together do
not all come back at once, and no wait is shorter than half its step). With
``base`` 10 s and ``cap`` 1 h the waits are 5-10 s, 10-20 s, 20-40 s, ...,
then 30-60 min. A delivery whose next attempt would fall after its deadline
fails for good (``failed``); it can be sent again by hand.

>>> from datetime import timedelta
>>> policy = RetryPolicy(base=timedelta(seconds=10), cap=timedelta(hours=1))
>>> [retry_delay(policy, n, 0.5).total_seconds() for n in (1, 2, 3, 10, 11)]
[7.5, 15.0, 30.0, 2700.0, 2700.0]
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import urlsplit

from iotbill.domain.errors import InvalidInput, ProblemCollector
from iotbill.domain.periods import require_aware

EVENT_TYPES: tuple[str, ...] = (
    "invoice.finalized",
    "invoice.paid",
    "invoice.voided",
    "invoice.overdue",
    "invoice.reminder",
    "payment.received",
    "credit_note.created",
    "credits.balance_threshold_crossed",
    "entitlement.threshold_crossed",
    "order.placed",
    "work_order.opened",
)
"""Every event type an endpoint may ask for (each emitted once its flow exists)."""

DeliveryStatus = Literal["pending", "delivered", "failed"]
_NAMESPACE = uuid.UUID("0f6d3c52-8f0e-4c55-9b7a-7d1f3c1e2a90")


def message_id(type: str, subject: str) -> str:
    """The id of the message saying that ``type`` happened to ``subject`` (an id): the same
    for the same change, so a retried change writes no second message.

    >>> message_id("invoice.finalized", "inv-1") == message_id("invoice.finalized", "inv-1")
    True
    >>> message_id("invoice.finalized", "inv-1")[:4]
    'evt_'
    """
    return "evt_" + uuid.uuid5(_NAMESPACE, f"{type}\n{subject}").hex


def delivery_id(message: str, endpoint: str) -> str:
    """The id of the delivery of ``message`` to ``endpoint`` (80 bits: unique enough within
    a tenant, short enough to type)."""
    return "dlv_" + uuid.uuid5(_NAMESPACE, f"{message}\n{endpoint}").hex[:20]


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``v1=`` and the hex HMAC-SHA256 of ``{timestamp}.{body}`` keyed with ``secret``."""
    signed = str(timestamp).encode() + b"." + body
    return "v1=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long to wait between attempts, and how long to try in all."""

    base: timedelta = timedelta(seconds=10)
    cap: timedelta = timedelta(hours=1)
    deadline: timedelta = timedelta(days=3)
    timeout: timedelta = timedelta(seconds=10)
    """How long one attempt waits for the receiver's answer."""


def retry_delay(policy: RetryPolicy, failed_attempts: int, random: float) -> timedelta:
    """The wait after ``failed_attempts`` failures; ``random`` is uniform in ``[0, 1)``."""
    if failed_attempts < 1:
        raise ValueError("failed_attempts must be at least 1")
    step = (
        policy.cap
        if failed_attempts > 40
        else min(policy.cap, policy.base * 2 ** (failed_attempts - 1))
    )
    return step / 2 + step / 2 * random


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    """Where a tenant hears about ``events``; ``secret`` signs what is sent there."""

    id: str
    url: str
    events: frozenset[str]
    secret: str
    created_at: datetime
    disabled_at: datetime | None = None

    def __post_init__(self) -> None:
        problems = ProblemCollector()
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            problems.add("url", f"{self.url!r} is not an http:// or https:// address")
        if not self.events:
            problems.add("events", "name at least one event type")
        for unknown in sorted(self.events - set(EVENT_TYPES)):
            problems.add(
                "events", f"unknown event type {unknown!r} (known: {', '.join(EVENT_TYPES)})"
            )
        problems.raise_if_any()
        require_aware(self.created_at, "created_at")

    @property
    def active(self) -> bool:
        return self.disabled_at is None

    def wants(self, type: str) -> bool:
        return self.active and type in self.events


@dataclass(frozen=True, slots=True)
class WebhookMessage:
    """One thing that happened, as its receivers get it: ``body`` is the JSON POSTed."""

    id: str
    type: str
    occurred_at: datetime
    body: bytes


@dataclass(frozen=True, slots=True)
class Attempt:
    """One POST of a delivery: the receiver's status code, or why there was none."""

    number: int
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True, slots=True)
class Delivery:
    """A message on its way to one endpoint."""

    id: str
    message_id: str
    endpoint_id: str
    status: DeliveryStatus
    next_attempt_at: datetime
    deadline: datetime
    attempts: tuple[Attempt, ...] = field(default=())
    delivered_at: datetime | None = None

    def after(self, attempt: Attempt, policy: RetryPolicy, random: float) -> Delivery:
        """This delivery once ``attempt`` is made: delivered, or waiting for the next try,
        or failed when that would be past the deadline."""
        attempts = (*self.attempts, attempt)
        if attempt.succeeded:
            return replace(self, status="delivered", attempts=attempts, delivered_at=attempt.at)
        failures = sum(not a.succeeded for a in attempts)
        upcoming = attempt.at + retry_delay(policy, failures, random)
        status: DeliveryStatus = "failed" if upcoming > self.deadline else "pending"
        return replace(self, status=status, attempts=attempts, next_attempt_at=upcoming)

    def resent(self, at: datetime, policy: RetryPolicy) -> Delivery:
        """Sent again from ``at``, with a new deadline: the attempts so far stay."""
        if self.status == "pending":
            raise InvalidInput.at("delivery", f"{self.id} is still pending: it is being sent")
        return replace(
            self,
            status="pending",
            next_attempt_at=at,
            deadline=at + policy.deadline,
            delivered_at=None,
        )
