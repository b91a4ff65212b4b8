"""The SQL unit of work: one connection, one transaction, one tenant."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import DBAPIError, OperationalError

from iotbill.adapters.storage.sql import tables
from iotbill.adapters.storage.sql.access import SqlApiKeyRepository, SqlIdempotencyRepository
from iotbill.adapters.storage.sql.coupons import SqlCouponRepository
from iotbill.adapters.storage.sql.credentials import SqlDeviceCredentialRepository
from iotbill.adapters.storage.sql.credits import SqlCreditRepository
from iotbill.adapters.storage.sql.customers import SqlCustomerRepository
from iotbill.adapters.storage.sql.data_products import SqlDataRepository
from iotbill.adapters.storage.sql.devices import SqlDeviceRepository
from iotbill.adapters.storage.sql.engine import READ_ONLY
from iotbill.adapters.storage.sql.entitlements import SqlEntitlementAlertRepository
from iotbill.adapters.storage.sql.events import SqlEventStore
from iotbill.adapters.storage.sql.invoices import SqlCreditNoteRepository, SqlInvoiceRepository
from iotbill.adapters.storage.sql.one_off_charges import SqlOneOffChargeRepository
from iotbill.adapters.storage.sql.orders import SqlOrderRepository
from iotbill.adapters.storage.sql.plans import SqlPlanRepository, SqlTenantRepository
from iotbill.adapters.storage.sql.sharing import SqlSharingRepository
from iotbill.adapters.storage.sql.subscriptions import SqlSubscriptionRepository
from iotbill.adapters.storage.sql.webhooks import SqlWebhookRepository
from iotbill.adapters.storage.sql.work_orders import SqlWorkOrderRepository
from iotbill.domain.errors import NotFound, StoreUnavailable
from iotbill.services.ports import (
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
    StoredPlan,
    SubscriptionRepository,
    TenantRepository,
    UnitOfWorkFactory,
    WebhookRepository,
    WorkOrderRepository,
)


@dataclass
class Remembered:
    """What the units of work of one factory have learnt that never changes once stored:
    each tenant's id (by its code), and each plan version (by tenant id, code and version).

    Learnt only from a unit of work that committed, or ended having only read,
    so nothing that a rolled-back transaction wrote (and another may write
    differently) is ever remembered.
    """

    tenants: dict[str, int] = field(default_factory=dict)
    plans: dict[tuple[int, str, int], StoredPlan] = field(default_factory=dict)


class SqlUnitOfWork:
    """Opens a connection on entry; the transaction begins with the first statement.

    The tenant is looked up on first use, so a unit of work for a tenant that
    does not exist yet can still add it. ``remembered`` (shared by the units of
    work of one factory) keeps each tenant's id and each plan version read once
    a unit of work that read it has committed, or has ended having only read: neither
    ever changes, and a request then spends no round trip on them. A rolled-back
    unit of work leaves it alone, since what it found may have been its own writing.

    A read-only unit of work on PostgreSQL runs each statement in a transaction of
    its own (autocommit): at READ COMMITTED, the isolation the store runs at, each
    statement of a transaction takes a snapshot of its own anyway, so the answers
    are the same, and the round trips of ``BEGIN`` and ``ROLLBACK`` are saved (a
    check or a request that only reads costs a few round trips, and these were two
    of them). On SQLite it is one transaction, which takes no write lock.
    """

    def __init__(
        self,
        engine: Engine,
        tenant: str,
        *,
        read_only: bool = False,
        remembered: Remembered | None = None,
    ) -> None:
        self.engine = engine
        self.tenant = tenant
        self.read_only = read_only
        self._remembered = Remembered() if remembered is None else remembered
        self._connection_or_none: Connection | None = None
        self._tenant_id_or_none: int | None = self._remembered.tenants.get(tenant)
        self.tenants: TenantRepository = SqlTenantRepository(self._connection)
        self._plans = SqlPlanRepository(
            self._connection, self._tenant_id, known=self._remembered.plans
        )
        self.plans: PlanRepository = self._plans
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
        self.data_products: DataRepository = SqlDataRepository(self._connection, self._tenant_id)
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
        try:
            connection = self.engine.connect()
        except OperationalError as error:  # the server went away since the store was opened
            raise StoreUnavailable(f"cannot reach the store: {_reason(error)}") from error
        if self.read_only and connection.dialect.name == "postgresql":
            connection.execution_options(isolation_level="AUTOCOMMIT")
        elif self.read_only:
            connection.execution_options(**{READ_ONLY: True})
        self._connection_or_none = connection
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        connection = self._connection()
        lost = isinstance(error, DBAPIError) and error.connection_invalidated
        try:
            if not lost:
                connection.rollback()
        finally:
            connection.close()
            self._connection_or_none = None
        if lost:  # nothing was committed since the last commit: the server rolled it back
            assert isinstance(error, DBAPIError)
            raise StoreUnavailable(
                f"lost the connection to the store: {_reason(error)}"
                " (nothing since the last commit was stored)"
            ) from error
        if self.read_only and error is None:
            self._remember()

    def commit(self) -> None:
        if self.read_only:
            raise RuntimeError("a read-only unit of work is never committed")
        self._connection().commit()
        self._remember()

    def _remember(self) -> None:
        if self._tenant_id_or_none is not None:
            self._remembered.tenants[self.tenant] = self._tenant_id_or_none
            self._remembered.plans.update(
                ((self._tenant_id_or_none, code, version), stored)
                for (code, version), stored in self._plans.read.items()
            )

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


def _reason(error: DBAPIError) -> str:
    """The first line of the driver's message."""
    return (str(error.orig).strip().splitlines() or ["no reason given"])[0]


def sql_unit_of_work_factory(engine: Engine) -> UnitOfWorkFactory:
    """Units of work on ``engine``, one per call, for the tenant named."""

    remembered = Remembered()

    def open_unit_of_work(tenant: str, *, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, tenant, read_only=read_only, remembered=remembered)

    return open_unit_of_work
