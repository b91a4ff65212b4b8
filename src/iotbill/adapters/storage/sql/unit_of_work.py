"""The SQL unit of work: one connection, one transaction, one tenant."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine, select

from iotbill.adapters.storage.sql import tables
from iotbill.adapters.storage.sql.access import SqlApiKeyRepository, SqlIdempotencyRepository
from iotbill.adapters.storage.sql.coupons import SqlCouponRepository
from iotbill.adapters.storage.sql.credentials import SqlDeviceCredentialRepository
from iotbill.adapters.storage.sql.credits import SqlCreditRepository
from iotbill.adapters.storage.sql.engine import READ_ONLY
from iotbill.adapters.storage.sql.entitlements import SqlEntitlementAlertRepository
from iotbill.adapters.storage.sql.events import SqlEventStore
from iotbill.adapters.storage.sql.invoices import SqlCreditNoteRepository, SqlInvoiceRepository
from iotbill.adapters.storage.sql.one_off_charges import SqlOneOffChargeRepository
from iotbill.adapters.storage.sql.orders import SqlOrderRepository
from iotbill.adapters.storage.sql.repositories import (
    SqlCustomerRepository,
    SqlDeviceRepository,
    SqlPlanRepository,
    SqlSubscriptionRepository,
    SqlTenantRepository,
)
from iotbill.adapters.storage.sql.sharing import SqlSharingRepository
from iotbill.adapters.storage.sql.webhooks import SqlWebhookRepository
from iotbill.adapters.storage.sql.work_orders import SqlWorkOrderRepository
from iotbill.domain.errors import NotFound
from iotbill.services.ports import (
    ApiKeyRepository,
    CouponRepository,
    CreditNoteRepository,
    CreditRepository,
    CustomerRepository,
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
    TenantRepository,
    UnitOfWorkFactory,
    WebhookRepository,
    WorkOrderRepository,
)


class SqlUnitOfWork:
    """Opens a connection on entry; the transaction begins with the first statement.

    The tenant is looked up on first use, so a unit of work for a tenant that
    does not exist yet can still add it. ``known_tenants`` (shared by the units
    of work of one factory) remembers each tenant's id once a unit of work that
    looked it up has committed, or has ended having only read: a tenant's id
    never changes, and a request then spends no round trip on it. A rolled-back
    unit of work leaves it alone, since the tenant it found may have been its own.
    """

    def __init__(
        self,
        engine: Engine,
        tenant: str,
        *,
        read_only: bool = False,
        known_tenants: dict[str, int] | None = None,
    ) -> None:
        self.engine = engine
        self.tenant = tenant
        self.read_only = read_only
        self._known_tenants = {} if known_tenants is None else known_tenants
        self._connection_or_none: Connection | None = None
        self._tenant_id_or_none: int | None = self._known_tenants.get(tenant)
        self.tenants: TenantRepository = SqlTenantRepository(self._connection)
        self.plans: PlanRepository = SqlPlanRepository(self._connection, self._tenant_id)
        self.customers: CustomerRepository = SqlCustomerRepository(
            self._connection, self._tenant_id
        )
        self.devices: DeviceRepository = SqlDeviceRepository(self._connection, self._tenant_id)
        self.device_credentials: DeviceCredentialRepository = SqlDeviceCredentialRepository(
            self._connection, self._tenant_id
        )
        self.subscriptions: SubscriptionRepository = SqlSubscriptionRepository(
            self._connection, self._tenant_id
        )
        self.invoices: InvoiceRepository = SqlInvoiceRepository(self._connection, self._tenant_id)
        self.credit_notes: CreditNoteRepository = SqlCreditNoteRepository(
            self._connection, self._tenant_id
        )
        self.credits: CreditRepository = SqlCreditRepository(self._connection, self._tenant_id)
        self.one_off_charges: OneOffChargeRepository = SqlOneOffChargeRepository(
            self._connection, self._tenant_id
        )
        self.orders: OrderRepository = SqlOrderRepository(self._connection, self._tenant_id)
        self.work_orders: WorkOrderRepository = SqlWorkOrderRepository(
            self._connection, self._tenant_id
        )
        self.sharing: SharingRepository = SqlSharingRepository(self._connection, self._tenant_id)
        self.coupons: CouponRepository = SqlCouponRepository(self._connection, self._tenant_id)
        self.events: EventStore = SqlEventStore(self._connection, self._tenant_id)
        self.api_keys: ApiKeyRepository = SqlApiKeyRepository(self._connection, self._tenant_id)
        self.idempotency: IdempotencyRepository = SqlIdempotencyRepository(
            self._connection, self._tenant_id
        )
        self.webhooks: WebhookRepository = SqlWebhookRepository(self._connection, self._tenant_id)
        self.entitlement_alerts: EntitlementAlertRepository = SqlEntitlementAlertRepository(
            self._connection, self._tenant_id
        )

    def __enter__(self) -> Self:
        connection = self.engine.connect()
        if self.read_only:
            connection.execution_options(**{READ_ONLY: True, "postgresql_readonly": True})
        self._connection_or_none = connection
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        connection = self._connection()
        try:
            connection.rollback()
        finally:
            connection.close()
            self._connection_or_none = None
        if self.read_only and error is None:
            self._remember_tenant()

    def commit(self) -> None:
        if self.read_only:
            raise RuntimeError("a read-only unit of work is never committed")
        self._connection().commit()
        self._remember_tenant()

    def _remember_tenant(self) -> None:
        if self._tenant_id_or_none is not None:
            self._known_tenants[self.tenant] = self._tenant_id_or_none

    def rollback(self) -> None:
        self._connection().rollback()

    def _connection(self) -> Connection:
        if self._connection_or_none is None:
            raise RuntimeError("use the unit of work in a with block")
        return self._connection_or_none

    def _tenant_id(self) -> int:
        if self._tenant_id_or_none is None:
            found = select(tables.tenants.c.id).where(tables.tenants.c.code == self.tenant)
            tenant_id = self._connection().execute(found).scalar()
            if tenant_id is None:
                raise NotFound(
                    f"unknown tenant {self.tenant!r} (iotbill tenants add {self.tenant} creates it)"
                )
            self._tenant_id_or_none = int(tenant_id)
        return self._tenant_id_or_none


def sql_unit_of_work_factory(engine: Engine) -> UnitOfWorkFactory:
    """Units of work on ``engine``, one per call, for the tenant named."""

    known_tenants: dict[str, int] = {}

    def open_unit_of_work(tenant: str, *, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, tenant, read_only=read_only, known_tenants=known_tenants)

    return open_unit_of_work
