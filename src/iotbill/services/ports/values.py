"""The values that cross the ports: tenants, stored plans, event windows and scopes, and what
stores and senders answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Generic, TypeVar

from iotbill.domain.catalog import Meter, Plan
from iotbill.domain.credits import CreditTiming
from iotbill.domain.device_credentials import DeviceCredential
from iotbill.domain.metering.selection import Measurement
from iotbill.domain.periods import Period
from iotbill.domain.webhooks import Delivery, WebhookEndpoint, WebhookMessage

DEFAULT_TENANT = "default"
"""The tenant that a new store starts with (every store keeps this promise, so it is
here, beside the ports), and that commands use unless told otherwise."""


@dataclass(frozen=True, slots=True)
class Tenant:
    """One company that bills its own customers with iotbill."""

    code: str
    name: str
    credits: CreditTiming = "after_tax"
    """When its invoices use customers' credits (:data:`~iotbill.domain.credits.CreditTiming`)."""


K = TypeVar("K")


@dataclass(frozen=True, slots=True)
class Paging(Generic[K]):
    """One page of a list in its order: at most ``limit`` items whose sort key comes after
    ``after`` (``None``: from the first). A store reads only those, however long the list:
    the HTTP API's cursor is the key of the last item of the page before.

    For example, customers ``c1`` to ``c5`` by id with ``Paging("c2", 2)``: ``c3``, ``c4``.
    """

    after: K | None
    limit: int


@dataclass(frozen=True, slots=True)
class StoredPlan:
    """One version of a plan: the document as written, and the plan it describes."""

    plan: Plan
    version: int
    document: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class EventScope:
    """Which stored events a query reads.

    The events whose owner at their timestamp (resolved at ingest) is
    ``customer``; only those of ``devices`` when given (a device's own
    subscription); never those of ``excluded_devices`` (devices billed on their
    own subscriptions).
    """

    customer: str
    devices: frozenset[str] | None = None
    excluded_devices: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class EventWindow:
    """What one table of :meth:`EventStore.load_many` holds: the events of ``scope``
    that ``meters`` read for ``period``, stored before ``received_before`` (all when
    ``None``), exactly as :meth:`EventStore.load` gives them.

    ``measured``, when pricing reads quantities alone, lists them: each a meter over
    a part of ``period`` (:func:`~iotbill.domain.subscription_billing.measured_usage`).
    :meth:`EventStore.load_for_pricing` may then give a table of just those quantities
    (:class:`~iotbill.domain.metering.selection.MeasuredTable`).
    """

    scope: EventScope
    meters: tuple[Meter, ...]
    period: Period
    received_before: datetime | None = None
    measured: tuple[Measurement, ...] | None = None


@dataclass(frozen=True, slots=True)
class GroupQuantity:
    """A meter's quantity over a period for one group (``None`` without ``group_by``)."""

    group: str | None
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class BrokerCredential:
    """A device credential as the broker needs it: who may connect, and to which tenant."""

    tenant: str
    credential: DeviceCredential


@dataclass(frozen=True, slots=True)
class DeviceMessage:
    """One message as the broker delivered it."""

    topic: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class MessageRejection:
    """Why message ``index`` of the batch was not stored, and whom to tell."""

    index: int
    tenant: str | None
    device: str | None
    event_id: str | None
    reason: str


@dataclass
class BatchReport:
    """What :func:`~iotbill.services.device_messages.store_messages` did with a batch."""

    stored: int = 0
    duplicates: int = 0
    rejected: list[MessageRejection] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """The first request sent with an idempotency key, and its answer once it has one.

    ``fingerprint`` identifies the request (method, path and body); ``token``
    names the attempt that holds the key while ``status`` is ``None`` (still
    running), until ``locked_until``. ``body`` is the answer's text.
    """

    key: str
    fingerprint: str
    token: str
    locked_until: datetime
    created_at: datetime
    status: int | None = None
    content_type: str | None = None
    body: str | None = None


@dataclass(frozen=True, slots=True)
class Appended:
    """What an append of prepared events did: how many were new, and the ids of those
    skipped, their id being stored already (the first one stands)."""

    stored: int
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SendResult:
    """What a receiver answered to one POST: its status code, or why there was none."""

    status_code: int | None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class DueDelivery:
    """A delivery claimed for an attempt, with its message and endpoint."""

    delivery: Delivery
    message: WebhookMessage
    endpoint: WebhookEndpoint
