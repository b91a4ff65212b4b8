"""Ports: what the services need from storage, as :class:`typing.Protocol` s.

A :class:`UnitOfWork` is one transaction for one tenant: every repository on it
reads and writes only that tenant's rows (``tenants`` alone is the directory of
all tenants). Leaving the ``with`` block without :meth:`UnitOfWork.commit`
rolls back, so a failed use case writes nothing.

Two adapters implement these ports and pass the same contract tests
(``tests/contract/``): :mod:`iotbill.adapters.storage.memory` (the reference
and the test fake) and :mod:`iotbill.adapters.storage.sql` (SQLite and
PostgreSQL).

Repositories raise :class:`~iotbill.domain.errors.NotFound` for an unknown id
and :class:`~iotbill.domain.errors.Conflict` for an id that is already taken.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from types import TracebackType
from typing import Protocol, Self

from iotbill.domain.analytics import RevenueSum, Standing
from iotbill.domain.api_keys import ApiKey
from iotbill.domain.balance_alerts import BalanceAlert
from iotbill.domain.catalog import Meter, Plan
from iotbill.domain.coupons import Coupon, Redemption
from iotbill.domain.credits import CreditGrant, CreditTiming, LedgerEntry
from iotbill.domain.customers import Customer, Device
from iotbill.domain.device_credentials import DeviceCredential
from iotbill.domain.entitlement_checks import EntitlementAlert
from iotbill.domain.event_table import EventTable
from iotbill.domain.events import UsageEvent
from iotbill.domain.invoices import CreditNote, Invoice, InvoiceStatus, InvoiceSummary
from iotbill.domain.models.asset_sharing import AssetBuyer, Settlement
from iotbill.domain.models.consent import Consent
from iotbill.domain.models.data_exports import DataExport
from iotbill.domain.models.data_products import Cell, DataProduct, Tabulation
from iotbill.domain.models.orders import Order
from iotbill.domain.models.work_orders import WorkOrder
from iotbill.domain.one_off_charges import OneOffCharge
from iotbill.domain.payments import Notice, Payment
from iotbill.domain.periods import Period
from iotbill.domain.subscriptions import PlanKey, Subscription
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
    ``None``), exactly as :meth:`EventStore.load` gives them."""

    scope: EventScope
    meters: tuple[Meter, ...]
    period: Period
    received_before: datetime | None = None


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


class Clock(Protocol):
    """Where services read the time: the system clock, or a test's frozen one."""

    def now(self) -> datetime: ...


class TenantRepository(Protocol):
    def add(self, tenant: Tenant) -> None: ...

    def get(self, code: str) -> Tenant: ...

    def list(self) -> list[Tenant]: ...

    def save(self, tenant: Tenant) -> None:
        """Store a tenant's new settings (its name, when it uses credits); :class:`NotFound`
        for an unknown one."""
        ...


class PlanRepository(Protocol):
    """Plans by code, each with numbered versions; a stored version never changes."""

    def add_version(self, plan: Plan, document: str, created_at: datetime) -> StoredPlan:
        """Store ``plan`` as version 1, or as the next version of its code."""
        ...

    def get(self, code: str, version: int | None = None) -> StoredPlan:
        """One version (the latest when ``version`` is ``None``)."""
        ...

    def versions(self, code: str) -> list[StoredPlan]:
        """Every version of ``code``, oldest first; :class:`NotFound` if there is none."""
        ...

    def latest(self) -> list[StoredPlan]:
        """The latest version of every plan, by code."""
        ...

    def archive(self, code: str, at: datetime) -> None:
        """Archive plan ``code`` from ``at``: it takes no new subscriptions (those on it keep
        billing); :class:`NotFound` for an unknown code, :class:`Conflict` if archived."""
        ...

    def archived(self) -> dict[str, datetime]:
        """When each archived plan was archived, by code."""
        ...


class CustomerRepository(Protocol):
    def add(self, customer: Customer) -> None: ...

    def save(self, customer: Customer) -> None:
        """Replace the stored customer of the same id (a new locale)."""
        ...

    def add_many(self, customers: Sequence[Customer]) -> None:
        """Store new customers at once; :class:`Conflict` if an id is taken (then roll the
        unit of work back)."""
        ...

    def get(self, id: str) -> Customer: ...

    def find(self, ids: Sequence[str]) -> dict[str, Customer]:
        """The customers among ``ids`` that exist (unknown ids are left out)."""
        ...

    def list(self) -> list[Customer]: ...


class DeviceRepository(Protocol):
    """Devices and their ownership history (one row per owner and start)."""

    def add(self, device: Device) -> None: ...

    def add_many(self, devices: Sequence[Device]) -> None:
        """Store new devices at once, with their ownership; :class:`Conflict` if an id is
        taken and :class:`NotFound` for an unknown customer (then roll the unit of work
        back)."""
        ...

    def save(self, device: Device) -> None:
        """Store the device's current ownership history (after a move)."""
        ...

    def get(self, id: str) -> Device: ...

    def find(self, ids: Sequence[str]) -> dict[str, Device]:
        """The devices among ``ids`` that exist (unknown ids are left out)."""
        ...

    def history_length(self) -> int:
        """How many ownerships the tenant's devices have in all. It grows with every
        device added or moved and nothing else changes it: while it stays the same,
        no device has moved."""
        ...

    def hold(self, *, to_move: bool = False) -> None:
        """Hold the tenant's devices until this unit of work ends, so that moving one
        (``to_move``) and storing or billing events take turns: whichever commits
        first, the other sees, as it reads after holding. Storing and billing share
        the hold; a move waits for them, and they for it. A store whose writing
        transactions take turns anyway has nothing to do."""
        ...

    def find_counted(self, ids: Sequence[str]) -> tuple[int, dict[str, Device]]:
        """:meth:`history_length`, then :meth:`find` (a store may read both in one look)."""
        ...

    def hold_counted(self) -> int:
        """:meth:`hold` to store events, and :meth:`history_length` as read once held (a
        store may do both in one look): no device moves while the hold lasts."""
        ...

    def list(self, customer: str | None = None) -> list[Device]:
        """Every device, or those whose history names ``customer``, by id."""
        ...


class DeviceCredentialRepository(Protocol):
    """The MQTT credentials of the tenant's devices: each issue a row, revoked in place."""

    def add(self, credential: DeviceCredential) -> None:
        """Store a new credential; :class:`NotFound` for an unknown device."""
        ...

    def save(self, credential: DeviceCredential) -> None:
        """Store a credential's revocation (found by device and issue time)."""
        ...

    def active(self, device: str) -> DeviceCredential | None:
        """The device's credential that is not revoked, if any."""
        ...

    def list(self, *, active_only: bool = False) -> list[DeviceCredential]:
        """The tenant's credentials (only those not revoked), by device, then issue time."""
        ...


class SubscriptionRepository(Protocol):
    """Subscriptions with their phases and cancellation."""

    def add(self, subscription: Subscription) -> None: ...

    def save(self, subscription: Subscription) -> None:
        """Replace the stored state (phases, cancellation) of an existing subscription."""
        ...

    def get(self, id: str) -> Subscription: ...

    def for_customers(self, customers: Sequence[str]) -> list[Subscription]:
        """Every subscription of the customers ``customers``, by id."""
        ...

    def list(self, customer: str | None = None) -> list[Subscription]: ...

    def owners(self) -> builtins.list[tuple[str, str]]:
        """Every subscription's id and its customer's, by id: what a bill run splits into
        batches, without building the subscriptions."""
        ...

    def plans_in_service(self, at: datetime) -> builtins.list[PlanKey]:
        """The plan version in force at ``at`` (aware) of each subscription in service
        then, by subscription id, as :func:`iotbill.domain.analytics.plans_in_service`
        finds them: what the MRR sums."""
        ...


class InvoiceRepository(Protocol):
    """Invoices with their lines; numbers are unique per tenant."""

    def add(self, invoice: Invoice) -> None: ...

    def hold(self) -> None:
        """Hold the tenant's bill run until this unit of work ends, so that two bill runs
        at once take turns, a batch at a time: the later reads what the earlier wrote,
        and issues nothing twice. A store whose writing transactions take turns anyway
        has nothing to do."""
        ...

    def add_many(self, invoices: Sequence[Invoice]) -> None:
        """Store new invoices, drafts or finalized, with their lines.

        :class:`Conflict` if an id or a number is taken (then roll the unit of
        work back: some of the others may be stored); :class:`NotFound` for an
        unknown customer, before anything is written.
        """
        ...

    def save(self, invoice: Invoice) -> None:
        """Replace a stored invoice by id (a revised draft, or a new status)."""
        ...

    def replace_drafts(self, invoices: Sequence[Invoice]) -> None:
        """Replace stored drafts by id (revised, or finalized), with their lines.

        :class:`NotFound` for an unknown id and :class:`Conflict` for an invoice
        that is no longer a draft (another transaction finalized or voided it),
        checked before anything is written; on PostgreSQL the drafts stay
        locked until the transaction ends.
        """
        ...

    def get(self, id: str) -> Invoice: ...

    def find(self, ids: Sequence[str]) -> dict[str, Invoice]:
        """The invoices among ``ids`` that exist (unknown ids are left out)."""
        ...

    def summaries(self, subscriptions: Sequence[str]) -> list[InvoiceSummary]:
        """The invoices of ``subscriptions`` without their lines, by period start, then id."""
        ...

    def revenue_sums(self) -> list[RevenueSum]:
        """The tenant's net revenue summed as :func:`iotbill.domain.analytics.revenue_sums`
        sums it (a store sums its stored totals and credit notes, building no invoice), in
        no particular order."""
        ...

    def standing(self, at: datetime) -> list[Standing]:
        """The invoices paid, due and overdue at ``at`` (aware) per currency, as
        :func:`iotbill.domain.analytics.invoice_standing` counts and sums them, in its
        order."""
        ...

    def finalized_between(self, start: datetime, end: datetime) -> list[Invoice]:
        """The invoices finalized in ``[start, end)`` (whatever their status now), by number."""
        ...

    def latest_finalization(self, series: str) -> datetime | None:
        """When the last invoice of number series ``series`` (``INV-2026``) was finalized;
        ``None`` if none was."""
        ...

    def get_by_number(self, number: str) -> Invoice: ...

    def list(
        self,
        *,
        customer: str | None = None,
        subscription: str | None = None,
        status: InvoiceStatus | None = None,
    ) -> list[Invoice]:
        """Matching invoices, by period start, then id."""
        ...

    def add_payment(self, payment: Payment) -> None:
        """Record a payment of a stored invoice (store the invoice's new payments too)."""
        ...

    def payments(self, invoice: str) -> builtins.list[Payment]:
        """The payments of the invoice with id ``invoice``, in the order received."""
        ...

    def add_notices(self, notices: Sequence[Notice]) -> None:
        """Record notices of stored invoices; :class:`Conflict` for a kind an invoice has."""
        ...

    def notices(self, invoice: str | None = None) -> builtins.list[Notice]:
        """The notices (of the invoice with id ``invoice``), in the order recorded."""
        ...

    def next_number(self, series: str) -> int:
        """The next number of ``series`` (1, 2, ...): gap-free, since it rolls back with the
        transaction that took it, and serialised between concurrent transactions."""
        ...

    def next_numbers(self, series: str, count: int) -> range:
        """The next ``count`` numbers of ``series`` (``count`` at least 1), taken at once
        and kept as :meth:`next_number` keeps one."""
        ...


class CreditNoteRepository(Protocol):
    def add(self, note: CreditNote) -> None: ...

    def get(self, id: str) -> CreditNote: ...

    def list(self, invoice: str | None = None) -> list[CreditNote]: ...


class CreditRepository(Protocol):
    """Credit grants and the double-entry ledger: rows are added, never changed."""

    def add_grant(self, grant: CreditGrant) -> None:
        """Store a grant; :class:`Conflict` if its id is taken, :class:`NotFound` for an
        unknown customer."""
        ...

    def grants(self, customers: Sequence[str] | None = None) -> list[CreditGrant]:
        """The grants (of ``customers``), by customer, grant time, then id."""
        ...

    def add_entries(self, entries: Sequence[LedgerEntry]) -> None:
        """Record ledger entries; :class:`Conflict` if an id is taken (roll back then)."""
        ...

    def entries(self, customers: Sequence[str] | None = None) -> list[LedgerEntry]:
        """The ledger entries (of ``customers``), by time, then id."""
        ...

    def set_thresholds(self, customer: str, thresholds: Sequence[Decimal]) -> None:
        """Replace the balance-alert thresholds of ``customer``; :class:`NotFound` for an
        unknown customer."""
        ...

    def thresholds(self, customers: Sequence[str]) -> dict[str, tuple[Decimal, ...]]:
        """The thresholds of those of ``customers`` that have some, highest first."""
        ...

    def add_alerts(self, alerts: Sequence[BalanceAlert]) -> None:
        """Record balance alerts; :class:`Conflict` if an id is taken (roll back then)."""
        ...

    def alerts(self, customers: Sequence[str] | None = None) -> list[BalanceAlert]:
        """The balance alerts (of ``customers``), by time, then id."""
        ...


class OneOffChargeRepository(Protocol):
    """Customers' one-off charges: added, then marked once with the invoice that bills them."""

    def add(self, charge: OneOffCharge) -> None:
        """Store a charge; :class:`Conflict` if its id is taken, :class:`NotFound` for an
        unknown customer."""
        ...

    def add_many(self, charges: Sequence[OneOffCharge]) -> None:
        """Store charges at once (the owners' credits of a data export); :class:`Conflict`
        if an id is taken, :class:`NotFound` for an unknown customer (then roll back)."""
        ...

    def list(self, customer: str | None = None) -> list[OneOffCharge]:
        """The charges (of ``customer``), by recording time, then id."""
        ...

    def pending(self, customers: Sequence[str]) -> builtins.list[OneOffCharge]:
        """The charges of ``customers`` that no invoice bills yet, by recording time, then id."""
        ...

    def mark_billed(self, charges: Sequence[OneOffCharge]) -> None:
        """Record the invoice of each of ``charges`` (their ``invoice_id``), each only while
        no invoice bills it; :class:`Conflict` naming those billed or withdrawn since they
        were read (the caller's transaction then rolls back: their invoice bills them)."""
        ...

    def withdraw(self, id: str) -> None:
        """Remove the charge ``id`` before any invoice bills it (a cancelled order's);
        :class:`NotFound` if it is unknown, :class:`Conflict` if an invoice billed it."""
        ...


class OrderRepository(Protocol):
    """Reorders of consumables (razor-blade model): placed, then moved on step by step."""

    def add(self, order: Order) -> None:
        """Store a placed order; :class:`Conflict` if its id is taken."""
        ...

    def save(self, order: Order) -> None:
        """Store an order's new step; :class:`NotFound` if it was never added."""
        ...

    def get(self, id: str) -> Order:
        """The order ``id``; :class:`NotFound` if there is none."""
        ...

    def list(self, customer: str | None = None) -> builtins.list[Order]:
        """The orders (of ``customer``), by placing time, then id."""
        ...


class WorkOrderRepository(Protocol):
    """Work orders (service model): opened, then moved on step by step."""

    def add(self, order: WorkOrder) -> None:
        """Store an opened work order; :class:`Conflict` if its id is taken, :class:`NotFound`
        for an unknown customer."""
        ...

    def save(self, order: WorkOrder) -> None:
        """Store a work order's new step (its status, times and parts, never its SLA mark:
        a bill run may have marked it since ``order`` was read); :class:`NotFound` if it
        was never added."""
        ...

    def mark_credited(self, id: str, *, invoice: str, percent: Decimal) -> bool:
        """Mark the breach of work order ``id`` credited on ``invoice``, earning ``percent``,
        unless an invoice credited it already (then nothing changes); whether it marked.
        Changes nothing else of the work order; :class:`NotFound` if there is none."""
        ...

    def get(self, id: str) -> WorkOrder:
        """The work order ``id``; :class:`NotFound` if there is none."""
        ...

    def list(self, customer: str | None = None) -> builtins.list[WorkOrder]:
        """The work orders (of ``customer``), by opening time, then id."""
        ...

    def for_customers(self, customers: Sequence[str]) -> builtins.list[WorkOrder]:
        """The work orders of any of ``customers`` (a bill run's batch), by opening time,
        then id."""
        ...


class SharingRepository(Protocol):
    """Asset sharing: the buyers registered for devices, and the settlements of their sales;
    rows are added, never changed."""

    def add_buyer(self, buyer: AssetBuyer) -> None:
        """Register a buyer; :class:`Conflict` if the device has one of that name,
        :class:`NotFound` for an unknown device or customer."""
        ...

    def buyers(self, device: str | None = None) -> builtins.list[AssetBuyer]:
        """The buyers (of ``device``), by device, then name."""
        ...

    def add_settlements(self, settlements: Sequence[Settlement]) -> None:
        """Record settlements; :class:`Conflict` if an id is taken (roll back then)."""
        ...

    def settlements(self, customer: str | None = None) -> builtins.list[Settlement]:
        """The settlements (of the owner ``customer``), by period start, number, then id."""
        ...


class DataRepository(Protocol):
    """Devices' consents to sell their data and the data exports delivered
    (data-monetization model), and the cells a product delivers."""

    def consents(self, device: str | None = None) -> builtins.list[Consent]:
        """The consents (of ``device``), by device, then when given."""
        ...

    def save_consent(self, consent: Consent) -> None:
        """Store a consent given, or its withdrawal (found by device and when given);
        :class:`NotFound` for an unknown device."""
        ...

    def add_export(self, export: DataExport, cells: Sequence[Cell] = ()) -> None:
        """Store an export and the ``cells`` it delivered; :class:`Conflict` if its id is
        taken, :class:`NotFound` for an unknown buyer."""
        ...

    def export_cells(self, id: str) -> tuple[Cell, ...]:
        """The cells export ``id`` delivered, in their order (none for an unknown id)."""
        ...

    def get_export(self, id: str) -> DataExport:
        """The export ``id``; :class:`NotFound` if there is none."""
        ...

    def exports(self, buyer: str | None = None) -> builtins.list[DataExport]:
        """The exports (to ``buyer``), by export time, then id."""
        ...

    def tabulate(self, product: DataProduct, window: Period) -> Tabulation:
        """The product's cells over ``window``: the events of the tenant that count, from
        devices while they consented, grouped and suppressed as
        :func:`~iotbill.domain.models.data_products.tabulate` does (an SQL store groups
        them in the database)."""
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


class CouponRepository(Protocol):
    """Coupons and their redemptions: rows are added, never changed."""

    def add(self, coupon: Coupon) -> None:
        """Store a coupon; :class:`Conflict` if its code is taken."""
        ...

    def get(self, code: str) -> Coupon:
        """The coupon ``code``; :class:`NotFound` if there is none."""
        ...

    def list(self) -> list[Coupon]:
        """Every coupon, by code."""
        ...

    def redeem(self, redemption: Redemption) -> None:
        """Store a redemption; :class:`Conflict` if its id is taken, :class:`NotFound` for an
        unknown coupon or subscription."""
        ...

    def redemptions(
        self, *, coupon: str | None = None, subscriptions: Sequence[str] | None = None
    ) -> builtins.list[Redemption]:
        """The redemptions (of ``coupon``, on ``subscriptions``), by instant, then id."""
        ...


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


class PreparedEvents(Protocol):
    """Events made ready to be appended; only the store that prepared them reads them."""

    @property
    def count(self) -> int:
        """How many events."""
        ...


@dataclass(frozen=True, slots=True)
class Appended:
    """What an append of prepared events did: how many were new, and the ids of those
    skipped, their id being stored already (the first one stands)."""

    stored: int
    skipped: tuple[str, ...] = ()


class EventStore(Protocol):
    """The tenant's usage events: append-only, unique by event id.

    An event's content never changes; only its owner can, when its device is
    moved from an instant before it (:meth:`reassign`).

    Quantities are the pure core's (:mod:`iotbill.domain.metering`) exactly;
    an adapter may compute them another way (SQL) only where the contract tests
    show the results equal.
    """

    def append(
        self, events: Sequence[UsageEvent], customers: Sequence[str], received_at: datetime
    ) -> int:
        """Store each event with its owner; returns how many were new.

        An event whose id is already stored is skipped (a duplicate), whatever
        its content: the first one stands.
        """
        ...

    def prepare(
        self, events: Sequence[UsageEvent], customers: Sequence[str], received_at: datetime
    ) -> PreparedEvents:
        """``events`` and their owners made ready for :meth:`append_prepared`, touching
        nothing stored: the work a bulk write does before its transaction, done in
        advance (on another unit of work, in another thread) so that the
        transaction is short."""
        ...

    def append_prepared(self, prepared: PreparedEvents) -> Appended:
        """:meth:`append` of events that :meth:`prepare` made ready (on this store), saying
        which were skipped: what an ingest reads back to tell a duplicate from a conflict."""
        ...

    def aggregate(self, meter: Meter, period: Period, scope: EventScope) -> list[GroupQuantity]:
        """The meter's quantity over ``period`` per group, as ``select`` and the aggregation
        give it: one ``None`` group without ``group_by``, else groups by label.

        :class:`~iotbill.domain.errors.InvalidInput` names every event the meter cannot
        take, as the pure core does.
        """
        ...

    def load(
        self,
        scope: EventScope,
        meters: Sequence[Meter],
        period: Period,
        received_before: datetime | None = None,
    ) -> EventTable:
        """The events that ``meters`` read for ``period``, as a table the pure core prices.

        That is every event of the meters' types in ``period`` and, for a meter that
        carries a reading into the period, at least the last reading before it per
        group, so ``select(table, meter, period)`` gives what the whole history
        would. With ``received_before``, only events stored before that instant
        (what an invoice issued then could see).
        """
        ...

    def load_many(self, windows: Sequence[EventWindow]) -> list[EventTable]:
        """:meth:`load` for each window, in order, read in as few queries as the store can."""
        ...

    def load_for_pricing(self, windows: Sequence[EventWindow]) -> list[EventTable]:
        """:meth:`load_many`, for tables used only while this unit of work is open: a
        store may leave out what pricing seldom reads (events' ids, devices and
        properties) and read it when a table first asks for it."""
        ...

    def count_many(self, windows: Sequence[EventWindow]) -> list[int]:
        """How many events each window holds: the meters' event types in its scope and
        period, stored before its ``received_before``; carried readings are not counted."""
        ...

    def count(self) -> int:
        """How many events the tenant has stored."""
        ...

    def find(self, ids: Sequence[str]) -> dict[str, UsageEvent]:
        """The stored events among ``ids``, whether they count or not (unknown ids left out)."""
        ...

    def replaced(self, ids: Sequence[str]) -> dict[str, str]:
        """Of ``ids``, those that a stored event corrects or voids, each with that event's id."""
        ...

    def earliest_of_device(self, device: str, owner: str, since: datetime) -> datetime | None:
        """When the first event of ``device`` attributed to ``owner`` at or after ``since``
        happened; ``None`` if there is none."""
        ...

    def reassign(self, device: str, owner: str, since: datetime, to: str) -> int:
        """Attribute the events of ``device`` at or after ``since`` that ``owner`` had
        to ``to`` instead (the device moved from ``since``, with those events already
        stored); returns how many. The only change ever made to a stored event."""
        ...

    def running_total(self, meter: Meter, span: Period, scope: EventScope) -> Decimal:
        """The quantity of a ``count`` or ``sum`` meter over ``span``, all groups together:
        what the pure core gives, read without rescanning the span's events where the
        store keeps a roll-up (the SQL stores: daily sums kept up at every append and
        reassignment, see ``sql/rollups``)."""
        ...


@dataclass(frozen=True, slots=True)
class SendResult:
    """What a receiver answered to one POST: its status code, or why there was none."""

    status_code: int | None
    error: str | None = None


class WebhookSender(Protocol):
    """POSTs a webhook body; never raises for the receiver's failures (they are results)."""

    def send(
        self, url: str, body: bytes, headers: Mapping[str, str], timeout: float
    ) -> SendResult: ...


@dataclass(frozen=True, slots=True)
class DueDelivery:
    """A delivery claimed for an attempt, with its message and endpoint."""

    delivery: Delivery
    message: WebhookMessage
    endpoint: WebhookEndpoint


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


class UnitOfWork(Protocol):
    """One transaction on one tenant's data; rolled back unless committed."""

    tenant: str
    tenants: TenantRepository
    plans: PlanRepository
    customers: CustomerRepository
    devices: DeviceRepository
    device_credentials: DeviceCredentialRepository
    subscriptions: SubscriptionRepository
    invoices: InvoiceRepository
    credit_notes: CreditNoteRepository
    credits: CreditRepository
    one_off_charges: OneOffChargeRepository
    orders: OrderRepository
    work_orders: WorkOrderRepository
    data_products: DataRepository
    sharing: SharingRepository
    coupons: CouponRepository
    events: EventStore
    api_keys: ApiKeyRepository
    idempotency: IdempotencyRepository
    webhooks: WebhookRepository
    entitlement_alerts: EntitlementAlertRepository

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    """Opens a unit of work for a tenant code."""

    def __call__(self, tenant: str, *, read_only: bool = False) -> UnitOfWork:
        """A unit of work for ``tenant``.

        ``read_only``: it only reads, and is never committed. A store that takes
        one writer at a time (SQLite) then reads a snapshot without waiting
        for the writer, or holding it back.
        """
        ...
