"""The unit of work: one transaction on one tenant's data, with every repository on it; and
the clock."""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from iotbill.services.ports.access import (
    ApiKeyRepository,
    EntitlementAlertRepository,
    IdempotencyRepository,
    WebhookRepository,
)
from iotbill.services.ports.billing import (
    CouponRepository,
    CreditNoteRepository,
    CreditRepository,
    InvoiceRepository,
    OneOffChargeRepository,
)
from iotbill.services.ports.catalog import (
    CustomerRepository,
    DeviceCredentialRepository,
    DeviceRepository,
    PlanRepository,
    SubscriptionRepository,
    TenantRepository,
)
from iotbill.services.ports.events import (
    EventStore,
)
from iotbill.services.ports.models import (
    DataRepository,
    OrderRepository,
    SharingRepository,
    WorkOrderRepository,
)


class Clock(Protocol):
    """Where services read the time: the system clock, or a test's frozen one."""

    def now(self) -> datetime: ...


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
