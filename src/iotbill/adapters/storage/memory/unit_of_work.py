"""The unit of work of the memory store: a snapshot of a tenant's data, published whole on
commit."""

from __future__ import annotations

import copy
import threading
from types import TracebackType
from typing import Self

from iotbill.adapters.storage.memory.access import (
    MemoryApiKeyRepository,
    MemoryEntitlementAlertRepository,
    MemoryIdempotencyRepository,
    MemoryWebhookRepository,
)
from iotbill.adapters.storage.memory.base import StoredEvent, TenantData
from iotbill.adapters.storage.memory.billing import (
    MemoryCouponRepository,
    MemoryCreditNoteRepository,
    MemoryCreditRepository,
    MemoryInvoiceRepository,
    MemoryOneOffChargeRepository,
)
from iotbill.adapters.storage.memory.catalog import (
    MemoryCustomerRepository,
    MemoryDeviceCredentialRepository,
    MemoryDeviceRepository,
    MemoryPlanRepository,
    MemorySubscriptionRepository,
    MemoryTenantRepository,
)
from iotbill.adapters.storage.memory.events import MemoryEventStore, _Reassignment
from iotbill.adapters.storage.memory.models import (
    MemoryDataRepository,
    MemoryOrderRepository,
    MemorySharingRepository,
    MemoryWorkOrderRepository,
    _laid_over,
)
from iotbill.domain.errors import Conflict, NotFound
from iotbill.services.ports import (
    DEFAULT_TENANT,
    ApiKeyRepository,
    CouponRepository,
    CreditNoteRepository,
    CreditRepository,
    CustomerRepository,
    DataRepository,
    DeviceCredentialRepository,
    DeviceRepository,
    EntitlementAlertRepository,
    EventStore,
    IdempotencyRepository,
    InvoiceRepository,
    OneOffChargeRepository,
    OrderRepository,
    PlanRepository,
    SharingRepository,
    SubscriptionRepository,
    Tenant,
    TenantRepository,
    UnitOfWorkFactory,
    WebhookRepository,
    WorkOrderRepository,
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
