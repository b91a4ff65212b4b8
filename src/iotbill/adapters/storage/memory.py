"""The ports in Python objects: the reference implementation and the test fake.

It keeps the same promises as the SQL store and passes the same contract tests
(``tests/contract/``): a unit of work sees its own writes, and commit publishes
them all at once (rollback drops them). Meters are computed by the pure core
over the whole history, which is what the SQL push-down must equal. One
process, one writer at a time: commits are serialised by a lock, but two units
of work that change the same row do not detect each other. Work orders are the
exception: a commit lays the work orders it wrote over those committed meanwhile,
its steps and only the SLA marks no one took first, as the SQL store's disjoint
updates do, so a step never undoes a bill run's mark nor a mark a step.
"""

from __future__ import annotations

import builtins
import copy
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, Self, TypeVar

from iotbill.domain.analytics import (
    InvoiceFigures,
    RevenueSum,
    Standing,
    invoice_standing,
    plans_in_service,
    revenue_sums,
)
from iotbill.domain.api_keys import ApiKey
from iotbill.domain.balance_alerts import BalanceAlert
from iotbill.domain.catalog import Meter, Plan
from iotbill.domain.coupons import Coupon, Redemption
from iotbill.domain.credits import CreditGrant, LedgerEntry
from iotbill.domain.customers import Customer, Device
from iotbill.domain.device_credentials import DeviceCredential
from iotbill.domain.entitlement_checks import EntitlementAlert
from iotbill.domain.errors import Conflict, NotFound
from iotbill.domain.event_table import STORED, EventTable
from iotbill.domain.events import UsageEvent, counting
from iotbill.domain.invoices import CreditNote, Invoice, InvoiceStatus, InvoiceSummary
from iotbill.domain.metering.selection import select
from iotbill.domain.models.asset_sharing import AssetBuyer, Settlement
from iotbill.domain.models.consent import Consent
from iotbill.domain.models.data_exports import DataExport
from iotbill.domain.models.data_products import Cell, DataProduct, Reading, Tabulation, tabulate
from iotbill.domain.models.orders import Order
from iotbill.domain.models.work_orders import WorkOrder
from iotbill.domain.one_off_charges import OneOffCharge
from iotbill.domain.payments import Notice, Payment, notice_order
from iotbill.domain.periods import Period, require_aware
from iotbill.domain.quantities import QuantityError, to_scaled
from iotbill.domain.subscriptions import PlanKey, Subscription
from iotbill.domain.webhooks import Delivery, WebhookEndpoint, WebhookMessage
from iotbill.services.ports import (
    DEFAULT_TENANT,
    ApiKeyRepository,
    Appended,
    CouponRepository,
    CreditNoteRepository,
    CreditRepository,
    CustomerRepository,
    DataRepository,
    DeviceCredentialRepository,
    DeviceRepository,
    DueDelivery,
    EntitlementAlertRepository,
    EventScope,
    EventStore,
    EventWindow,
    GroupQuantity,
    IdempotencyRecord,
    IdempotencyRepository,
    InvoiceRepository,
    OneOffChargeRepository,
    OrderRepository,
    PlanRepository,
    PreparedEvents,
    SharingRepository,
    StoredPlan,
    SubscriptionRepository,
    Tenant,
    TenantRepository,
    UnitOfWorkFactory,
    WebhookRepository,
    WorkOrderRepository,
)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class StoredEvent:
    event: UsageEvent
    customer: str
    received_at: datetime
    seq: int


@dataclass
class TenantData:
    plans: dict[str, list[StoredPlan]] = field(default_factory=dict)
    plan_archives: dict[str, datetime] = field(default_factory=dict)
    customers: dict[str, Customer] = field(default_factory=dict)
    devices: dict[str, Device] = field(default_factory=dict)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    invoices: dict[str, Invoice] = field(default_factory=dict)
    credit_notes: dict[str, CreditNote] = field(default_factory=dict)
    payments: list[Payment] = field(default_factory=list)
    grants: dict[str, CreditGrant] = field(default_factory=dict)
    ledger: dict[str, LedgerEntry] = field(default_factory=dict)
    one_off_charges: dict[str, OneOffCharge] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    work_orders: dict[str, WorkOrder] = field(default_factory=dict)
    consents: dict[tuple[str, datetime], Consent] = field(default_factory=dict)
    data_exports: dict[str, DataExport] = field(default_factory=dict)
    data_export_cells: dict[str, tuple[Cell, ...]] = field(default_factory=dict)
    asset_buyers: dict[tuple[str, str], AssetBuyer] = field(default_factory=dict)
    settlements: dict[str, Settlement] = field(default_factory=dict)
    thresholds: dict[str, tuple[Decimal, ...]] = field(default_factory=dict)
    alerts: dict[str, BalanceAlert] = field(default_factory=dict)
    coupons: dict[str, Coupon] = field(default_factory=dict)
    redemptions: dict[str, Redemption] = field(default_factory=dict)
    notices: dict[tuple[str, str], Notice] = field(default_factory=dict)
    sequences: dict[str, int] = field(default_factory=dict)
    events: list[StoredEvent] = field(default_factory=list)
    event_ids: set[str] = field(default_factory=set)
    api_keys: dict[str, ApiKey] = field(default_factory=dict)
    idempotency: dict[str, IdempotencyRecord] = field(default_factory=dict)
    device_credentials: dict[tuple[str, datetime], DeviceCredential] = field(default_factory=dict)
    webhook_endpoints: dict[str, WebhookEndpoint] = field(default_factory=dict)
    webhook_messages: dict[str, WebhookMessage] = field(default_factory=dict)
    webhook_deliveries: dict[str, Delivery] = field(default_factory=dict)
    entitlement_alerts: dict[tuple[str, str, datetime, Decimal], EntitlementAlert] = field(
        default_factory=dict
    )


class MemoryStore:
    """Every tenant's data; starts with the default tenant, as a migrated database does."""

    def __init__(self) -> None:
        self.tenants: dict[str, Tenant] = {DEFAULT_TENANT: Tenant(DEFAULT_TENANT, "Default tenant")}
        self.data: dict[str, TenantData] = {DEFAULT_TENANT: TenantData()}
        self.lock = threading.Lock()

    def unit_of_work_factory(self) -> UnitOfWorkFactory:
        def open_unit_of_work(tenant: str, *, read_only: bool = False) -> MemoryUnitOfWork:
            return MemoryUnitOfWork(self, tenant, read_only=read_only)

        return open_unit_of_work


class MemoryUnitOfWork:
    """Works on a snapshot of the store, so readers and writers never wait for each other."""

    def __init__(self, store: MemoryStore, tenant: str, *, read_only: bool = False) -> None:
        self.store = store
        self.tenant = tenant
        self.read_only = read_only
        self._begin()

    def _begin(self) -> None:
        self._tenants = dict(self.store.tenants)
        committed = self.store.data.get(self.tenant)
        self._data: TenantData | None = None
        if committed is not None:
            # Values are frozen, so copying the containers isolates this unit of work;
            # the committed event list is shared and only ever appended to on commit.
            self._data = copy.copy(committed)
            for name in (
                "customers",
                "devices",
                "subscriptions",
                "invoices",
                "credit_notes",
                "one_off_charges",
                "orders",
                "work_orders",
                "consents",
                "data_exports",
                "data_export_cells",
                "asset_buyers",
                "settlements",
                "coupons",
                "redemptions",
                "thresholds",
                "alerts",
                "api_keys",
                "idempotency",
                "device_credentials",
                "webhook_endpoints",
                "webhook_messages",
                "webhook_deliveries",
                "entitlement_alerts",
            ):
                setattr(self._data, name, dict(getattr(committed, name)))
            self._data.plans = {code: list(found) for code, found in committed.plans.items()}
            self._data.sequences = dict(committed.sequences)
            self._data.payments = list(committed.payments)
            self._data.notices = dict(committed.notices)
            self._data.grants = dict(committed.grants)
            self._data.ledger = dict(committed.ledger)
            self._data.event_ids = set(committed.event_ids)
        self._pending: list[StoredEvent] = []
        self._reassignments: list[_Reassignment] = []
        self.work_orders_stepped: set[str] = set()
        self.work_orders_marked: set[str] = set()
        self.tenants: TenantRepository = MemoryTenantRepository(self)
        self.plans: PlanRepository = MemoryPlanRepository(self)
        self.customers: CustomerRepository = MemoryCustomerRepository(self)
        self.devices: DeviceRepository = MemoryDeviceRepository(self)
        self.device_credentials: DeviceCredentialRepository = MemoryDeviceCredentialRepository(self)
        self.subscriptions: SubscriptionRepository = MemorySubscriptionRepository(self)
        self.invoices: InvoiceRepository = MemoryInvoiceRepository(self)
        self.credit_notes: CreditNoteRepository = MemoryCreditNoteRepository(self)
        self.credits: CreditRepository = MemoryCreditRepository(self)
        self.one_off_charges: OneOffChargeRepository = MemoryOneOffChargeRepository(self)
        self.orders: OrderRepository = MemoryOrderRepository(self)
        self.work_orders: WorkOrderRepository = MemoryWorkOrderRepository(self)
        self.data_products: DataRepository = MemoryDataRepository(self)
        self.sharing: SharingRepository = MemorySharingRepository(self)
        self.coupons: CouponRepository = MemoryCouponRepository(self)
        self.events: EventStore = MemoryEventStore(self)
        self.api_keys: ApiKeyRepository = MemoryApiKeyRepository(self)
        self.idempotency: IdempotencyRepository = MemoryIdempotencyRepository(self)
        self.webhooks: WebhookRepository = MemoryWebhookRepository(self)
        self.entitlement_alerts: EntitlementAlertRepository = MemoryEntitlementAlertRepository(self)

    def data(self) -> TenantData:
        if self._data is None:
            if self.tenant not in self._tenants:
                raise NotFound(
                    f"unknown tenant {self.tenant!r} (iotbill tenants add {self.tenant} creates it)"
                )
            self._data = TenantData()
        return self._data

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.rollback()

    def commit(self) -> None:
        if self.read_only:
            raise RuntimeError("a read-only unit of work is never committed")
        with self.store.lock:
            committed_orders = self.store.data.get(self.tenant, TenantData()).work_orders
            for id in sorted(self.work_orders_marked):
                theirs = committed_orders.get(id)
                if theirs is not None and theirs.sla_invoice_id is not None:
                    raise Conflict(f"work order {id} was credited by another bill run meanwhile")
            self.store.tenants.update(self._tenants)
            for code in self._tenants:
                self.store.data.setdefault(code, TenantData())
            if self._data is not None:
                committed = self.store.data[self.tenant]
                events = committed.events
                for stored in self._pending:
                    if stored.event.id not in committed.event_ids:
                        events.append(stored)
                        committed.event_ids.add(stored.event.id)
                for reassignment in self._reassignments:  # on what others committed meanwhile
                    events = reassignment.apply(events)
                self._data.events = events
                self._data.event_ids = committed.event_ids
                self._data.work_orders = _laid_over(
                    committed.work_orders,
                    self._data.work_orders,
                    self.work_orders_stepped,
                    self.work_orders_marked,
                )
                self.store.data[self.tenant] = self._data
        self._begin()

    def rollback(self) -> None:
        self._begin()


class _Repository:
    def __init__(self, unit: MemoryUnitOfWork) -> None:
        self._unit = unit

    def _data(self) -> TenantData:
        return self._unit.data()


def _get(found: dict[str, T], id: str, what: str) -> T:
    if id not in found:
        raise NotFound(f"unknown {what} {id!r}")
    return found[id]


def _add(found: dict[str, T], id: str, value: T, what: str) -> None:
    if id in found:
        raise Conflict(f"{what} {id!r} already exists")
    found[id] = value


class MemoryTenantRepository(_Repository):
    def add(self, tenant: Tenant) -> None:
        _add(self._unit._tenants, tenant.code, tenant, "tenant")

    def get(self, code: str) -> Tenant:
        if code not in self._unit._tenants:
            raise NotFound(f"unknown tenant {code!r} (iotbill tenants add {code} creates it)")
        return self._unit._tenants[code]

    def list(self) -> list[Tenant]:
        return [self._unit._tenants[code] for code in sorted(self._unit._tenants)]

    def save(self, tenant: Tenant) -> None:
        self.get(tenant.code)
        self._unit._tenants[tenant.code] = tenant


class MemoryPlanRepository(_Repository):
    def add_version(self, plan: Plan, document: str, created_at: datetime) -> StoredPlan:
        versions = self._data().plans.setdefault(plan.code, [])
        if versions and versions[-1].plan == plan:
            return versions[-1]
        stored = StoredPlan(plan, len(versions) + 1, document, created_at)
        versions.append(stored)
        return stored

    def get(self, code: str, version: int | None = None) -> StoredPlan:
        versions = self.versions(code)
        if version is None:
            return versions[-1]
        if not 1 <= version <= len(versions):
            raise NotFound(
                f"plan {code!r} has no version {version} (latest: {versions[-1].version})"
            )
        return versions[version - 1]

    def versions(self, code: str) -> list[StoredPlan]:
        versions = self._data().plans.get(code)
        if not versions:
            raise NotFound(f"unknown plan {code!r}")
        return list(versions)

    def latest(self) -> list[StoredPlan]:
        plans = self._data().plans
        return [plans[code][-1] for code in sorted(plans) if plans[code]]

    def archive(self, code: str, at: datetime) -> None:
        self.versions(code)
        archives = self._data().plan_archives
        if code in archives:
            raise Conflict(f"plan {code!r} is archived already, since {archives[code].isoformat()}")
        archives[code] = at

    def archived(self) -> dict[str, datetime]:
        return dict(self._data().plan_archives)


class MemoryCustomerRepository(_Repository):
    def add(self, customer: Customer) -> None:
        _add(self._data().customers, customer.id, customer, "customer")

    def save(self, customer: Customer) -> None:
        customers = self._data().customers
        _get(customers, customer.id, "customer")
        customers[customer.id] = customer

    def add_many(self, customers: Sequence[Customer]) -> None:
        for customer in customers:
            self.add(customer)

    def get(self, id: str) -> Customer:
        return _get(self._data().customers, id, "customer")

    def find(self, ids: Sequence[str]) -> dict[str, Customer]:
        customers = self._data().customers
        return {id: customers[id] for id in set(ids) if id in customers}

    def list(self) -> list[Customer]:
        customers = self._data().customers
        return [customers[id] for id in sorted(customers)]


class MemoryDeviceRepository(_Repository):
    def add(self, device: Device) -> None:
        self._require_owners(device)
        _add(self._data().devices, device.id, device, "device")

    def add_many(self, devices: Sequence[Device]) -> None:
        for device in devices:
            self.add(device)

    def save(self, device: Device) -> None:
        _get(self._data().devices, device.id, "device")
        self._require_owners(device)
        self._data().devices[device.id] = device

    def _require_owners(self, device: Device) -> None:
        for entry in device.ownership:
            _get(self._data().customers, entry.customer_id, "customer")

    def get(self, id: str) -> Device:
        return _get(self._data().devices, id, "device")

    def find(self, ids: Sequence[str]) -> dict[str, Device]:
        devices = self._data().devices
        return {id: devices[id] for id in set(ids) if id in devices}

    def history_length(self) -> int:
        return sum(len(device.ownership) for device in self._data().devices.values())

    def hold(self, *, to_move: bool = False) -> None:
        """Nothing to hold: one process, and units of work that change the same row do
        not detect each other here (see the module's docstring)."""

    def find_counted(self, ids: Sequence[str]) -> tuple[int, dict[str, Device]]:
        return self.history_length(), self.find(ids)

    def hold_counted(self) -> int:
        return self.history_length()

    def list(self, customer: str | None = None) -> list[Device]:
        devices = self._data().devices
        return [
            devices[id]
            for id in sorted(devices)
            if customer is None or any(o.customer_id == customer for o in devices[id].ownership)
        ]


class MemoryDeviceCredentialRepository(_Repository):
    def add(self, credential: DeviceCredential) -> None:
        _get(self._data().devices, credential.device_id, "device")
        key = (credential.device_id, credential.issued_at)
        found = self._data().device_credentials
        if key in found:
            raise Conflict(f"device {credential.device_id!r} has a credential issued at that time")
        found[key] = credential

    def save(self, credential: DeviceCredential) -> None:
        key = (credential.device_id, credential.issued_at)
        found = self._data().device_credentials
        if key not in found:
            raise NotFound(f"unknown credential of device {credential.device_id!r}")
        found[key] = credential

    def active(self, device: str) -> DeviceCredential | None:
        return next((c for c in self.list(active_only=True) if c.device_id == device), None)

    def list(self, *, active_only: bool = False) -> list[DeviceCredential]:
        found = self._data().device_credentials
        return [found[key] for key in sorted(found) if not active_only or found[key].active]


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


class MemorySubscriptionRepository(_Repository):
    def add(self, subscription: Subscription) -> None:
        self._require_references(subscription)
        _add(self._data().subscriptions, subscription.id, subscription, "subscription")

    def save(self, subscription: Subscription) -> None:
        _get(self._data().subscriptions, subscription.id, "subscription")
        self._require_references(subscription)
        self._data().subscriptions[subscription.id] = subscription

    def _require_references(self, subscription: Subscription) -> None:
        _get(self._data().customers, subscription.customer_id, "customer")
        plans = MemoryPlanRepository(self._unit)
        for phase in subscription.phases:
            if not any(s.version == phase.plan_version for s in plans.versions(phase.plan_code)):
                raise NotFound(f"unknown plan version {phase.plan_code} {phase.plan_version}")

    def get(self, id: str) -> Subscription:
        return _get(self._data().subscriptions, id, "subscription")

    def for_customers(self, customers: Sequence[str]) -> list[Subscription]:
        found, chosen = self._data().subscriptions, set(customers)
        return [found[id] for id in sorted(found) if found[id].customer_id in chosen]

    def list(self, customer: str | None = None) -> list[Subscription]:
        found = self._data().subscriptions
        return [
            found[id]
            for id in sorted(found)
            if customer is None or found[id].customer_id == customer
        ]

    def owners(self) -> builtins.list[tuple[str, str]]:
        found = self._data().subscriptions
        return [(id, found[id].customer_id) for id in sorted(found)]

    def plans_in_service(self, at: datetime) -> builtins.list[PlanKey]:
        return plans_in_service(self.list(), require_aware(at, "at"))


class MemoryInvoiceRepository(_Repository):
    def hold(self) -> None:
        """Nothing to hold: one process (see :meth:`MemoryDeviceRepository.hold`)."""

    def add(self, invoice: Invoice) -> None:
        _get(self._data().customers, invoice.customer_id, "customer")
        _add(self._data().invoices, invoice.id, invoice, "invoice")

    def add_many(self, invoices: Sequence[Invoice]) -> None:
        data = self._data()
        for invoice in invoices:
            _get(data.customers, invoice.customer_id, "customer")
        ids = set(data.invoices)
        numbers = {invoice.number for invoice in data.invoices.values()}
        for invoice in invoices:
            if invoice.id in ids:
                raise Conflict(f"invoice {invoice.id!r} already exists")
            if invoice.number is not None and invoice.number in numbers:
                raise Conflict(f"invoice number {invoice.number!r} is already taken")
            ids.add(invoice.id)
            numbers.add(invoice.number)
        data.invoices.update((invoice.id, invoice) for invoice in invoices)

    def save(self, invoice: Invoice) -> None:
        stored = _get(self._data().invoices, invoice.id, "invoice")
        if stored.status != "draft":  # a finalized invoice's lines never change
            invoice = replace(invoice, lines=stored.lines)
        self._data().invoices[invoice.id] = invoice

    def replace_drafts(self, invoices: Sequence[Invoice]) -> None:
        stored = self._data().invoices
        for invoice in invoices:
            found = _get(stored, invoice.id, "invoice")
            if found.status != "draft":
                raise Conflict(f"invoice {found.number or found.id} is {found.status}, not a draft")
        stored.update((invoice.id, invoice) for invoice in invoices)

    def get(self, id: str) -> Invoice:
        return _get(self._data().invoices, id, "invoice")

    def find(self, ids: Sequence[str]) -> dict[str, Invoice]:
        invoices = self._data().invoices
        return {id: invoices[id] for id in set(ids) if id in invoices}

    def summaries(self, subscriptions: Sequence[str]) -> list[InvoiceSummary]:
        chosen = set(subscriptions)
        found = [
            invoice.summary()
            for invoice in self._data().invoices.values()
            if invoice.subscription_id in chosen
        ]
        return sorted(found, key=lambda summary: (summary.period.start, summary.id))

    def revenue_sums(self) -> list[RevenueSum]:
        data = self._data()
        notes: dict[str, builtins.list[CreditNote]] = {}
        for note in data.credit_notes.values():
            notes.setdefault(note.invoice_id, []).append(note)
        return revenue_sums(
            (InvoiceFigures.of(invoice) for invoice in data.invoices.values()),
            notes,
            {customer.id: customer.timezone for customer in data.customers.values()},
            data.subscriptions,
        )

    def standing(self, at: datetime) -> builtins.list[Standing]:
        figures = (InvoiceFigures.of(invoice) for invoice in self._data().invoices.values())
        return invoice_standing(figures, require_aware(at, "at"))

    def get_by_number(self, number: str) -> Invoice:
        for invoice in self._data().invoices.values():
            if invoice.number == number:
                return invoice
        raise NotFound(f"no invoice is numbered {number!r}")

    def list(
        self,
        *,
        customer: str | None = None,
        subscription: str | None = None,
        status: InvoiceStatus | None = None,
    ) -> list[Invoice]:
        chosen = [
            invoice
            for invoice in self._data().invoices.values()
            if (customer is None or invoice.customer_id == customer)
            and (subscription is None or invoice.subscription_id == subscription)
            and (status is None or invoice.status == status)
        ]
        return sorted(chosen, key=lambda invoice: (invoice.period.start, invoice.id))

    def add_payment(self, payment: Payment) -> None:
        _get(self._data().invoices, payment.invoice_id, "invoice")
        self._data().payments.append(payment)

    def payments(self, invoice: str) -> builtins.list[Payment]:
        return [payment for payment in self._data().payments if payment.invoice_id == invoice]

    def add_notices(self, notices: Sequence[Notice]) -> None:
        stored = self._data().notices
        for notice in notices:
            _get(self._data().invoices, notice.invoice_id, "invoice")
            key = (notice.invoice_id, notice.kind)
            if key in stored:
                raise Conflict(f"invoice {notice.invoice_id!r} has a {notice.kind} notice already")
            stored[key] = notice

    def notices(self, invoice: str | None = None) -> builtins.list[Notice]:
        chosen = [
            notice
            for notice in self._data().notices.values()
            if invoice is None or notice.invoice_id == invoice
        ]
        return sorted(chosen, key=notice_order)

    def finalized_between(self, start: datetime, end: datetime) -> builtins.list[Invoice]:
        chosen = [
            invoice
            for invoice in self._data().invoices.values()
            if invoice.finalized_at is not None and start <= invoice.finalized_at < end
        ]
        return sorted(chosen, key=lambda invoice: invoice.number or "")

    def latest_finalization(self, series: str) -> datetime | None:
        return max(
            (
                invoice.finalized_at
                for invoice in self._data().invoices.values()
                if invoice.finalized_at is not None
                and (invoice.number or "").startswith(f"{series}-")
            ),
            default=None,
        )

    def next_number(self, series: str) -> int:
        return self.next_numbers(series, 1)[0]

    def next_numbers(self, series: str, count: int) -> range:
        if count < 1:
            raise ValueError(f"count must be at least 1, not {count}")
        sequences = self._data().sequences
        first = sequences.get(series, 0) + 1
        sequences[series] = first + count - 1
        return range(first, first + count)


class MemoryCreditRepository(_Repository):
    def add_grant(self, grant: CreditGrant) -> None:
        _get(self._data().customers, grant.customer_id, "customer")
        _add(self._data().grants, grant.id, grant, "credit grant")

    def grants(self, customers: Sequence[str] | None = None) -> list[CreditGrant]:
        chosen = None if customers is None else set(customers)
        found = [
            grant
            for grant in self._data().grants.values()
            if chosen is None or grant.customer_id in chosen
        ]
        return sorted(found, key=lambda grant: (grant.customer_id, grant.granted_at, grant.id))

    def add_entries(self, entries: Sequence[LedgerEntry]) -> None:
        ledger = self._data().ledger
        taken = [entry.id for entry in entries if entry.id in ledger]
        if taken or len({entry.id for entry in entries}) < len(entries):
            raise Conflict("a ledger entry of these is recorded already")
        ledger.update((entry.id, entry) for entry in entries)

    def entries(self, customers: Sequence[str] | None = None) -> list[LedgerEntry]:
        chosen = None if customers is None else set(customers)
        found = [
            entry
            for entry in self._data().ledger.values()
            if chosen is None or entry.customer_id in chosen
        ]
        return sorted(found, key=lambda entry: (entry.at, entry.id))

    def set_thresholds(self, customer: str, thresholds: Sequence[Decimal]) -> None:
        _get(self._data().customers, customer, "customer")
        if thresholds:
            self._data().thresholds[customer] = tuple(sorted(thresholds, reverse=True))
        else:
            self._data().thresholds.pop(customer, None)

    def thresholds(self, customers: Sequence[str]) -> dict[str, tuple[Decimal, ...]]:
        kept = self._data().thresholds
        return {customer: kept[customer] for customer in customers if customer in kept}

    def add_alerts(self, alerts: Sequence[BalanceAlert]) -> None:
        recorded = self._data().alerts
        if any(alert.id in recorded for alert in alerts) or len({a.id for a in alerts}) < len(
            alerts
        ):
            raise Conflict("a balance alert of these is recorded already")
        recorded.update((alert.id, alert) for alert in alerts)

    def alerts(self, customers: Sequence[str] | None = None) -> list[BalanceAlert]:
        chosen = None if customers is None else set(customers)
        found = [
            alert
            for alert in self._data().alerts.values()
            if chosen is None or alert.customer_id in chosen
        ]
        return sorted(found, key=lambda alert: (alert.at, alert.id))


class MemoryOneOffChargeRepository(_Repository):
    def add(self, charge: OneOffCharge) -> None:
        _get(self._data().customers, charge.customer_id, "customer")
        _add(self._data().one_off_charges, charge.id, charge, "one-off charge")

    def add_many(self, charges: Sequence[OneOffCharge]) -> None:
        for charge in charges:
            self.add(charge)

    def list(self, customer: str | None = None) -> list[OneOffCharge]:
        found = [
            charge
            for charge in self._data().one_off_charges.values()
            if customer is None or charge.customer_id == customer
        ]
        return sorted(found, key=lambda charge: (charge.recorded_at, charge.id))

    def pending(self, customers: Sequence[str]) -> builtins.list[OneOffCharge]:
        chosen = set(customers)
        found = [
            charge
            for charge in self._data().one_off_charges.values()
            if charge.customer_id in chosen and charge.invoice_id is None
        ]
        return sorted(found, key=lambda charge: (charge.recorded_at, charge.id))

    def mark_billed(self, charges: Sequence[OneOffCharge]) -> None:
        stored = self._data().one_off_charges
        lost = [c.id for c in charges if c.id not in stored or stored[c.id].invoice_id is not None]
        if lost:
            raise Conflict(f"one-off charges billed or withdrawn meanwhile: {', '.join(lost)}")
        for charge in charges:
            stored[charge.id] = charge

    def withdraw(self, id: str) -> None:
        stored = self._data().one_off_charges
        if _get(stored, id, "one-off charge").invoice_id is not None:
            raise Conflict(f"one-off charge {id!r} is billed already")
        del stored[id]


class MemoryOrderRepository(_Repository):
    def add(self, order: Order) -> None:
        _get(self._data().customers, order.customer_id, "customer")
        _add(self._data().orders, order.id, order, "order")

    def save(self, order: Order) -> None:
        _get(self._data().orders, order.id, "order")
        self._data().orders[order.id] = order

    def get(self, id: str) -> Order:
        return _get(self._data().orders, id, "order")

    def list(self, customer: str | None = None) -> builtins.list[Order]:
        found = [
            order
            for order in self._data().orders.values()
            if customer is None or order.customer_id == customer
        ]
        return sorted(found, key=lambda order: (order.placed_at, order.id))


class MemoryWorkOrderRepository(_Repository):
    def add(self, order: WorkOrder) -> None:
        _get(self._data().customers, order.customer_id, "customer")
        _add(self._data().work_orders, order.id, order, "work order")
        self._unit.work_orders_stepped.add(order.id)

    def save(self, order: WorkOrder) -> None:
        stored = _get(self._data().work_orders, order.id, "work order")
        self._data().work_orders[order.id] = replace(
            order, sla_percent=stored.sla_percent, sla_invoice_id=stored.sla_invoice_id
        )
        self._unit.work_orders_stepped.add(order.id)

    def mark_credited(self, id: str, *, invoice: str, percent: Decimal) -> bool:
        stored = _get(self._data().work_orders, id, "work order")
        if stored.sla_invoice_id is not None:
            return False
        self._data().work_orders[id] = stored.credited(invoice, percent)
        self._unit.work_orders_marked.add(id)
        return True

    def get(self, id: str) -> WorkOrder:
        return _get(self._data().work_orders, id, "work order")

    def list(self, customer: str | None = None) -> builtins.list[WorkOrder]:
        found = [
            order
            for order in self._data().work_orders.values()
            if customer is None or order.customer_id == customer
        ]
        return sorted(found, key=lambda order: (order.opened_at, order.id))

    def for_customers(self, customers: Sequence[str]) -> builtins.list[WorkOrder]:
        chosen = set(customers)
        found = [o for o in self._data().work_orders.values() if o.customer_id in chosen]
        return sorted(found, key=lambda order: (order.opened_at, order.id))


class MemorySharingRepository(_Repository):
    def add_buyer(self, buyer: AssetBuyer) -> None:
        _get(self._data().devices, buyer.device_id, "device")
        if buyer.customer_id is not None:
            _get(self._data().customers, buyer.customer_id, "customer")
        key = (buyer.device_id, buyer.code)
        if key in self._data().asset_buyers:
            raise Conflict(f"device {buyer.device_id!r} has a buyer {buyer.code!r} already")
        self._data().asset_buyers[key] = buyer

    def buyers(self, device: str | None = None) -> builtins.list[AssetBuyer]:
        found = self._data().asset_buyers
        return [found[key] for key in sorted(found) if device is None or key[0] == device]

    def add_settlements(self, settlements: Sequence[Settlement]) -> None:
        stored = self._data().settlements
        for settlement in settlements:
            _get(self._data().customers, settlement.customer_id, "customer")
            _add(stored, settlement.id, settlement, "settlement")

    def settlements(self, customer: str | None = None) -> builtins.list[Settlement]:
        found = [
            settlement
            for settlement in self._data().settlements.values()
            if customer is None or settlement.customer_id == customer
        ]
        return sorted(found, key=lambda s: (s.period.start, s.number, s.id))


class MemoryDataRepository(_Repository):
    def consents(self, device: str | None = None) -> builtins.list[Consent]:
        found = [
            consent
            for consent in self._data().consents.values()
            if device is None or consent.device_id == device
        ]
        return sorted(found, key=lambda consent: (consent.device_id, consent.given_at))

    def save_consent(self, consent: Consent) -> None:
        _get(self._data().devices, consent.device_id, "device")
        self._data().consents[(consent.device_id, consent.given_at)] = consent

    def add_export(self, export: DataExport, cells: Sequence[Cell] = ()) -> None:
        _get(self._data().customers, export.buyer_id, "customer")
        _add(self._data().data_exports, export.id, export, "data export")
        self._data().data_export_cells[export.id] = tuple(cells)

    def export_cells(self, id: str) -> tuple[Cell, ...]:
        return self._data().data_export_cells.get(id, ())

    def get_export(self, id: str) -> DataExport:
        return _get(self._data().data_exports, id, "data export")

    def exports(self, buyer: str | None = None) -> builtins.list[DataExport]:
        found = [
            export
            for export in self._data().data_exports.values()
            if buyer is None or export.buyer_id == buyer
        ]
        return sorted(found, key=lambda export: (export.exported_at, export.id))

    def tabulate(self, product: DataProduct, window: Period) -> Tabulation:
        stored = [*self._data().events, *self._unit._pending]
        events = [item.event for item in stored]
        positions = counting(events)
        counted = stored if positions is None else [stored[index] for index in positions]
        readings: list[Reading] = []
        for item in counted:
            event = item.event
            if event.type != product.event_type:
                continue
            group = event.properties.get(product.group_by)
            value = _product_value(product, event.properties)
            if isinstance(group, str) and value is not None:
                readings.append(Reading(item.customer, event.device, event.timestamp, group, value))
        return tabulate(product, readings, self.consents(), window)


def _product_value(product: DataProduct, properties: dict[str, Any]) -> Decimal | None:
    """What an event puts in a cell: 1 (a count), or its property as exact as SQL holds it
    (``None`` when it has none)."""
    if product.property is None:
        return Decimal(1)
    value = properties.get(product.property)
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    try:
        return Decimal(to_scaled(value)).scaleb(-9)
    except QuantityError:
        return None


class MemoryCouponRepository(_Repository):
    def add(self, coupon: Coupon) -> None:
        _add(self._data().coupons, coupon.code, coupon, "coupon")

    def get(self, code: str) -> Coupon:
        return _get(self._data().coupons, code, "coupon")

    def list(self) -> list[Coupon]:
        return sorted(self._data().coupons.values(), key=lambda coupon: coupon.code)

    def redeem(self, redemption: Redemption) -> None:
        _get(self._data().coupons, redemption.coupon, "coupon")
        _get(self._data().subscriptions, redemption.subscription_id, "subscription")
        _add(self._data().redemptions, redemption.id, redemption, "redemption")

    def redemptions(
        self, *, coupon: str | None = None, subscriptions: Sequence[str] | None = None
    ) -> builtins.list[Redemption]:
        chosen = None if subscriptions is None else set(subscriptions)
        found = [
            redemption
            for redemption in self._data().redemptions.values()
            if (coupon is None or redemption.coupon == coupon)
            and (chosen is None or redemption.subscription_id in chosen)
        ]
        return sorted(found, key=lambda redemption: (redemption.redeemed_at, redemption.id))


class MemoryCreditNoteRepository(_Repository):
    def add(self, note: CreditNote) -> None:
        _get(self._data().invoices, note.invoice_id, "invoice")
        _add(self._data().credit_notes, note.id, note, "credit note")

    def get(self, id: str) -> CreditNote:
        return _get(self._data().credit_notes, id, "credit note")

    def list(self, invoice: str | None = None) -> list[CreditNote]:
        chosen = [
            note
            for note in self._data().credit_notes.values()
            if invoice is None or note.invoice_id == invoice
        ]
        return sorted(chosen, key=lambda note: (note.issued_at, note.id))


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


def _laid_over(
    committed: dict[str, WorkOrder],
    mine: dict[str, WorkOrder],
    stepped: set[str],
    marked: set[str],
) -> dict[str, WorkOrder]:
    """The work orders ``committed`` by others, with those of ``mine`` over them: the steps
    of the ``stepped`` ones (added or saved) and the SLA marks of the ``marked`` ones (none
    of which another unit of work marked first: :meth:`MemoryUnitOfWork.commit` checks)."""
    laid = dict(committed)
    for id in stepped:
        theirs = committed.get(id)
        ours = mine[id]
        laid[id] = (
            ours
            if theirs is None
            else replace(ours, sla_percent=theirs.sla_percent, sla_invoice_id=theirs.sla_invoice_id)
        )
    for id in marked:
        ours = mine[id]
        laid[id] = replace(
            laid[id], sla_percent=ours.sla_percent, sla_invoice_id=ours.sla_invoice_id
        )
    return laid


@dataclass(frozen=True, slots=True)
class _Reassignment:
    """Events of ``device`` at or after ``since`` pass from ``owner`` to ``to``."""

    device: str
    owner: str
    since: datetime
    to: str

    def applies_to(self, stored: StoredEvent) -> bool:
        return (
            stored.event.device == self.device
            and stored.customer == self.owner
            and stored.event.timestamp >= self.since
        )

    def apply(self, events: list[StoredEvent]) -> list[StoredEvent]:
        return [
            replace(stored, customer=self.to) if self.applies_to(stored) else stored
            for stored in events
        ]


@dataclass(frozen=True, slots=True)
class _PreparedEvents:
    events: Sequence[UsageEvent]
    customers: Sequence[str]
    received_at: datetime

    @property
    def count(self) -> int:
        return len(self.events)


class MemoryEventStore(_Repository):
    def prepare(
        self, events: Sequence[UsageEvent], customers: Sequence[str], received_at: datetime
    ) -> PreparedEvents:
        return _PreparedEvents(events, customers, received_at)

    def append_prepared(self, prepared: PreparedEvents) -> Appended:
        if not isinstance(prepared, _PreparedEvents):
            raise TypeError("events prepared by another kind of store")
        seen = self._data().event_ids
        skipped = tuple(event.id for event in prepared.events if event.id in seen)
        stored = self.append(prepared.events, prepared.customers, prepared.received_at)
        return Appended(stored, skipped)

    def append(
        self, events: Sequence[UsageEvent], customers: Sequence[str], received_at: datetime
    ) -> int:
        data = self._data()
        pending = self._unit._pending
        seen = data.event_ids
        added = 0
        for event, customer in zip(events, customers, strict=True):
            if event.id not in seen:
                seen.add(event.id)
                seq = len(data.events) + len(pending) + 1
                pending.append(StoredEvent(event, customer, received_at, seq))
                added += 1
        return added

    def count(self) -> int:
        return len(self._data().events) + len(self._unit._pending)

    def find(self, ids: Sequence[str]) -> dict[str, UsageEvent]:
        wanted = set(ids)
        return {s.event.id: s.event for s in self._stored() if s.event.id in wanted}

    def replaced(self, ids: Sequence[str]) -> dict[str, str]:
        wanted = set(ids)
        return {
            s.event.replaces: s.event.id
            for s in self._stored()
            if s.event.replaces is not None and s.event.replaces in wanted
        }

    def earliest_of_device(self, device: str, owner: str, since: datetime) -> datetime | None:
        reassignment = _Reassignment(device, owner, since, owner)
        found = [s.event.timestamp for s in self._stored() if reassignment.applies_to(s)]
        return min(found, default=None)

    def reassign(self, device: str, owner: str, since: datetime, to: str) -> int:
        reassignment = _Reassignment(device, owner, since, to)
        data, unit = self._data(), self._unit
        moved = sum(map(reassignment.applies_to, self._stored()))
        if moved:
            data.events = reassignment.apply(data.events)  # a copy: others share the list
            unit._pending = reassignment.apply(unit._pending)
            unit._reassignments.append(reassignment)
        return moved

    def _stored(self) -> list[StoredEvent]:
        return [*self._data().events, *self._unit._pending]

    def aggregate(self, meter: Meter, period: Period, scope: EventScope) -> list[GroupQuantity]:
        table = self.load(scope, [meter], period)
        aggregator = meter.aggregator()
        return [
            GroupQuantity(usage.group, aggregator.aggregate(usage.window))
            for usage in select(table, meter, period)
        ]

    def running_total(self, meter: Meter, span: Period, scope: EventScope) -> Decimal:
        """The pure core's quantity: the reference that the SQL roll-up is tested against."""
        if meter.aggregation not in ("count", "sum"):
            raise ValueError(f"meter {meter.code!r} aggregates by {meter.aggregation}, not summed")
        return sum((group.quantity for group in self.aggregate(meter, span, scope)), Decimal(0))

    def load(
        self,
        scope: EventScope,
        meters: Sequence[Meter],
        period: Period,
        received_before: datetime | None = None,
    ) -> EventTable:
        chosen = self._chosen(EventWindow(scope, tuple(meters), period, received_before))
        return EventTable.build(
            [stored.event for stored in chosen], [stored.seq for stored in chosen], STORED
        )

    def load_many(self, windows: Sequence[EventWindow]) -> list[EventTable]:
        return [
            self.load(window.scope, window.meters, window.period, window.received_before)
            for window in windows
        ]

    def load_for_pricing(self, windows: Sequence[EventWindow]) -> list[EventTable]:
        return self.load_many(windows)

    def count_many(self, windows: Sequence[EventWindow]) -> list[int]:
        return [
            sum(1 for stored in self._chosen(window) if stored.event.timestamp in window.period)
            for window in windows
        ]

    def _chosen(self, window: EventWindow) -> list[StoredEvent]:
        """The window's events up to the end of its period (the whole history before it)."""
        scope, received_before = window.scope, window.received_before
        types = {meter.event_type for meter in window.meters}
        return [
            stored
            for stored in self._stored()
            if stored.customer == scope.customer
            and stored.event.type in types
            and stored.event.timestamp < window.period.end
            and (scope.devices is None or stored.event.device in scope.devices)
            and stored.event.device not in scope.excluded_devices
            and (received_before is None or stored.received_at < received_before)
        ]
