"""The repositories of the SQL unit of work: domain values in, domain values out.

Tenants, plans, customers, devices and subscriptions live here; invoices and
credit notes in :mod:`~iotbill.adapters.storage.sql.invoices`.

Each repository reads and writes only its unit of work's tenant. Adding an id
that exists is a :class:`Conflict`; naming a customer, device, plan version or
invoice that does not exist is :class:`NotFound` (checked before writing, so
the message names what is missing; the foreign keys stay as the last guard).
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple, cast

from sqlalchemy import Connection, and_, delete, func, insert, select, text, update

from iotbill.adapters.plan_files import parse_plan_text
from iotbill.adapters.storage.sql import tables as t
from iotbill.adapters.storage.sql.analytics import plans_in_service_statement
from iotbill.adapters.storage.sql.repository import (
    Repository,
    chunks,
    instant,
    micros,
    postgresql_in,
)
from iotbill.adapters.storage.sql.statistics import refresh_outgrown
from iotbill.domain.billing_cycles import BillingMode
from iotbill.domain.catalog import ContractTerms, Interval, Plan
from iotbill.domain.credits import CreditTiming
from iotbill.domain.customers import Customer, Device, Ownership
from iotbill.domain.errors import Conflict, NotFound
from iotbill.domain.money import currency
from iotbill.domain.periods import from_micros, require_aware, to_micros
from iotbill.domain.subscriptions import (
    Cancellation,
    CancelReason,
    CancelTiming,
    Pause,
    Phase,
    PlanKey,
    Subscription,
)
from iotbill.domain.tax_rates import TaxRateChange
from iotbill.services.ports import StoredPlan, Tenant


class SqlTenantRepository:
    def __init__(self, connection: Callable[[], Connection]):
        self._connection = connection

    def add(self, tenant: Tenant) -> None:
        found = select(t.tenants.c.id).where(t.tenants.c.code == tenant.code)
        if self._connection().execute(found).first() is not None:
            raise Conflict(f"tenant {tenant.code!r} already exists")
        self._connection().execute(
            insert(t.tenants).values(code=tenant.code, name=tenant.name, credits=tenant.credits)
        )

    def get(self, code: str) -> Tenant:
        found = select(t.tenants).where(t.tenants.c.code == code)
        row = self._connection().execute(found).first()
        if row is None:
            raise NotFound(f"unknown tenant {code!r} (iotbill tenants add {code} creates it)")
        return _tenant(row)

    def list(self) -> list[Tenant]:
        rows = self._connection().execute(select(t.tenants).order_by(t.tenants.c.code))
        return [_tenant(row) for row in rows]

    def save(self, tenant: Tenant) -> None:
        self.get(tenant.code)
        self._connection().execute(
            update(t.tenants)
            .where(t.tenants.c.code == tenant.code)
            .values(name=tenant.name, credits=tenant.credits)
        )


def _tenant(row: Any) -> Tenant:
    return Tenant(row.code, row.name, cast(CreditTiming, row.credits))


class SqlPlanRepository(Repository):
    """Plan versions: a version, once stored, never changes. ``known`` holds versions that
    earlier units of work read (by tenant id, code and version; see
    :class:`~iotbill.adapters.storage.sql.unit_of_work.Remembered`), so a version asked
    for by number is read from the store once; ``read`` is what this one read or added."""

    def __init__(
        self,
        connection: Callable[[], Connection],
        tenant_id: Callable[[], int],
        *,
        known: dict[tuple[int, str, int], StoredPlan] | None = None,
    ):
        super().__init__(connection, tenant_id)
        self._known = {} if known is None else known
        self.read: dict[tuple[str, int], StoredPlan] = {}

    def add_version(self, plan: Plan, document: str, created_at: datetime) -> StoredPlan:
        versions = self._stored(plan.code)
        if versions and versions[-1].plan == plan:
            return versions[-1]
        version = versions[-1].version + 1 if versions else 1
        self._execute(
            insert(t.plans).values(
                tenant_id=self._tenant_id(),
                code=plan.code,
                version=version,
                currency=plan.currency.code,
                document=document,
                created_at=to_micros(created_at),
            )
        )
        # As read back: the instant kept to the microsecond, in UTC.
        self.read[plan.code, version] = StoredPlan(
            plan, version, document, from_micros(to_micros(created_at))
        )
        return StoredPlan(plan, version, document, created_at)

    def get(self, code: str, version: int | None = None) -> StoredPlan:
        if version is not None:
            found = self._known.get((self._tenant_id(), code, version)) or self.read.get(
                (code, version)
            )
            if found is not None:
                return found
            statement = select(t.plans).where(
                self._mine(t.plans), t.plans.c.code == code, t.plans.c.version == version
            )
            row = self._execute(statement).first()
            if row is not None:
                return self._plan(row)
        versions = self.versions(code)
        if version is None:
            return versions[-1]
        for stored in versions:
            if stored.version == version:
                return stored
        raise NotFound(f"plan {code!r} has no version {version} (latest: {versions[-1].version})")

    def versions(self, code: str) -> list[StoredPlan]:
        versions = self._stored(code)
        if not versions:
            raise NotFound(f"unknown plan {code!r}")
        return versions

    def latest(self) -> list[StoredPlan]:
        newest = (
            select(t.plans.c.code, func.max(t.plans.c.version).label("version"))
            .where(self._mine(t.plans))
            .group_by(t.plans.c.code)
            .subquery()
        )
        statement = (
            select(t.plans)
            .join(
                newest, and_(t.plans.c.code == newest.c.code, t.plans.c.version == newest.c.version)
            )
            .where(self._mine(t.plans))
            .order_by(t.plans.c.code)
        )
        return [self._plan(row) for row in self._execute(statement)]

    def archive(self, code: str, at: datetime) -> None:
        self.versions(code)
        archives = t.plan_archives
        found = self.archived().get(code)
        if found is not None:
            raise Conflict(f"plan {code!r} is archived already, since {found.isoformat()}")
        self._execute(
            insert(archives).values(
                tenant_id=self._tenant_id(), code=code, archived_at=to_micros(at)
            )
        )

    def archived(self) -> dict[str, datetime]:
        archives = t.plan_archives
        rows = self._execute(
            select(archives.c.code, archives.c.archived_at).where(self._mine(archives))
        )
        return {code: from_micros(at) for code, at in rows}

    def _stored(self, code: str) -> list[StoredPlan]:
        statement = (
            select(t.plans)
            .where(self._mine(t.plans), t.plans.c.code == code)
            .order_by(t.plans.c.version)
        )
        return [self._plan(row) for row in self._execute(statement)]

    def _plan(self, row: Any) -> StoredPlan:
        key = (row.code, row.version)
        if key not in self.read:
            plan = _parsed_plan(row.document, f"plan {row.code} v{row.version}")
            created_at = from_micros(row.created_at)
            self.read[key] = StoredPlan(plan, row.version, row.document, created_at)
        return self.read[key]


@lru_cache(maxsize=64)
def _parsed_plan(document: str, source: str) -> Plan:
    """A stored plan version's document, parsed once per process: the same text always
    gives the same frozen plan, so units of work share it (an entitlement check opens one
    per question and would otherwise parse the YAML each time)."""
    return parse_plan_text(document, source)


class SqlCustomerRepository(Repository):
    def add(self, customer: Customer) -> None:
        self._refuse_taken(t.customers, "customer", customer.id)
        self._execute(
            insert(t.customers).values(
                tenant_id=self._tenant_id(), id=customer.id, **_customer_columns(customer)
            )
        )

    def save(self, customer: Customer) -> None:
        self._require(t.customers, "customer", id=customer.id)
        self._execute(
            update(t.customers)
            .where(self._mine(t.customers), t.customers.c.id == customer.id)
            .values(**_customer_columns(customer))
        )
        rates = t.customer_tax_rates
        self._execute(delete(rates).where(self._mine(rates), rates.c.customer_id == customer.id))
        if customer.tax_changes:
            self._execute(
                insert(rates),
                [
                    {
                        "tenant_id": self._tenant_id(),
                        "customer_id": customer.id,
                        "valid_from": to_micros(change.start),
                        "rate": change.rate,
                    }
                    for change in customer.tax_changes
                ],
            )

    def _with_changes(self, customers: builtins.list[Customer]) -> builtins.list[Customer]:
        """``customers`` with their tax rate changes, read in one query."""
        rates = t.customer_tax_rates
        statement = (
            select(rates.c.customer_id, rates.c.valid_from, rates.c.rate)
            .where(self._mine(rates))
            .order_by(rates.c.customer_id, rates.c.valid_from)
        )
        if len(customers) == 1:
            statement = statement.where(rates.c.customer_id == customers[0].id)
        changes: dict[str, builtins.list[TaxRateChange]] = {}
        for customer_id, valid_from, rate in self._execute(statement):
            changes.setdefault(customer_id, []).append(TaxRateChange(from_micros(valid_from), rate))
        return [
            replace(customer, tax_changes=tuple(changes[customer.id]))
            if customer.id in changes
            else customer
            for customer in customers
        ]

    def add_many(self, customers: Sequence[Customer]) -> None:
        self._refuse_any_taken(t.customers, "customer", [customer.id for customer in customers])
        if not customers:
            return
        tenant = self._tenant_id()
        self._execute(
            insert(t.customers),
            [
                {"tenant_id": tenant, "id": customer.id, **_customer_columns(customer)}
                for customer in customers
            ],
        )

    def get(self, id: str) -> Customer:
        """The customer with its tax rate changes, in one query (a row per change)."""
        customers, rates = t.customers, t.customer_tax_rates
        statement = (
            select(customers, rates.c.valid_from, rates.c.rate)
            .outerjoin(
                rates,
                and_(rates.c.tenant_id == customers.c.tenant_id, rates.c.customer_id == id),
            )
            .where(self._mine(customers), customers.c.id == id)
            .order_by(rates.c.valid_from)
        )
        rows = self._execute(statement).all()
        if not rows:
            raise NotFound(f"unknown customer {id!r}")
        changes = tuple(
            TaxRateChange(from_micros(row.valid_from), row.rate)
            for row in rows
            if row.valid_from is not None
        )
        customer = _customer(rows[0])
        return replace(customer, tax_changes=changes) if changes else customer

    def find(self, ids: Sequence[str]) -> dict[str, Customer]:
        found: dict[str, Customer] = {}
        for chunk in chunks(ids):
            statement = select(t.customers).where(
                self._mine(t.customers), self._among(t.customers.c.id, chunk)
            )
            found.update((row.id, _customer(row)) for row in self._execute(statement))
        return {customer.id: customer for customer in self._with_changes(list(found.values()))}

    def list(self) -> list[Customer]:
        statement = select(t.customers).where(self._mine(t.customers)).order_by(t.customers.c.id)
        return self._with_changes([_customer(row) for row in self._execute(statement)])


def _customer_columns(customer: Customer) -> dict[str, Any]:
    return {
        "name": customer.name,
        "currency": customer.currency.code,
        "timezone": customer.timezone,
        "billing_address": customer.billing_address,
        "tax_rate": customer.tax_rate,
        "locale": customer.locale,
        "net_terms": customer.net_terms,
    }


def _customer(row: Any) -> Customer:
    return Customer(
        row.id,
        row.name,
        currency(row.currency),
        row.timezone,
        row.billing_address,
        row.tax_rate,
        row.locale,
        row.net_terms,
    )


class SqlDeviceRepository(Repository):
    def add(self, device: Device) -> None:
        self._refuse_taken(t.devices, "device", device.id)
        self._execute(
            insert(t.devices).values(
                tenant_id=self._tenant_id(), id=device.id, retired_at=_micros(device.retired_at)
            )
        )
        self._insert_owners(device)

    def add_many(self, devices: Sequence[Device]) -> None:
        self._refuse_any_taken(t.devices, "device", [device.id for device in devices])
        owners = {entry.customer_id for device in devices for entry in device.ownership}
        for chunk in chunks(owners):
            statement = select(t.customers.c.id).where(
                self._mine(t.customers), self._among(t.customers.c.id, chunk)
            )
            missing = set(chunk) - set(self._execute(statement).scalars())
            if missing:
                raise NotFound(f"unknown customer {min(missing)!r}")
        if not devices:
            return
        tenant = self._tenant_id()
        self._executemany(
            "INSERT INTO devices (tenant_id, id) VALUES (?, ?)",
            [(tenant, device.id) for device in devices],
        )
        self._executemany(
            "INSERT INTO device_owners (tenant_id, device_id, valid_from, customer_id)"
            " VALUES (?, ?, ?, ?)",
            [
                (tenant, device.id, to_micros(entry.start), entry.customer_id)
                for device in devices
                for entry in device.ownership
            ],
        )

    def save(self, device: Device) -> None:
        self._require(t.devices, "device", id=device.id)
        owners, devices = t.device_owners, t.devices
        self._execute(delete(owners).where(self._mine(owners), owners.c.device_id == device.id))
        self._insert_owners(device)
        self._execute(
            update(devices)
            .where(self._mine(devices), devices.c.id == device.id)
            .values(retired_at=_micros(device.retired_at))
        )

    def _insert_owners(self, device: Device) -> None:
        for customer_id in {entry.customer_id for entry in device.ownership}:
            self._require(t.customers, "customer", id=customer_id)
        self._execute(
            insert(t.device_owners),
            [
                {
                    "tenant_id": self._tenant_id(),
                    "device_id": device.id,
                    "valid_from": to_micros(entry.start),
                    "customer_id": entry.customer_id,
                }
                for entry in device.ownership
            ],
        )

    def get(self, id: str) -> Device:
        found = self.find([id])
        if id not in found:
            raise NotFound(f"unknown device {id!r}")
        return found[id]

    def find(self, ids: Sequence[str]) -> dict[str, Device]:
        return _devices(self._rows_in(_OWNERS, ids), self._rows_in(_RETIRED, ids))

    def find_counted(self, ids: Sequence[str]) -> tuple[int, dict[str, Device]]:
        """On PostgreSQL the count and the two reads of :meth:`find` in one round trip
        (psycopg's pipeline), the count read first."""
        connection = self._connection()
        if connection.dialect.name != "postgresql":
            return self.history_length(), self.find(ids)
        tenant = self._tenant_id()
        if not connection.in_transaction():
            connection.begin()  # the driver is used directly below: make sure it is in one
        driver: Any = connection.connection.dbapi_connection
        chosen = [tenant, sorted(set(ids))]
        with (
            driver.pipeline(),
            driver.cursor() as counted,
            driver.cursor() as owners,
            driver.cursor() as retired,
        ):
            counted.execute(_COUNT_OWNERS, [tenant])
            owners.execute(postgresql_in(_OWNERS), chosen)
            retired.execute(postgresql_in(_RETIRED), chosen)
            found = _devices(owners.fetchall(), retired.fetchall())
            count = counted.fetchone()
        assert count is not None
        return int(count[0]), found

    def history_length(self) -> int:
        owners = t.device_owners
        statement = select(func.count()).select_from(owners).where(self._mine(owners))
        return int(self._execute(statement).scalar_one())

    def hold(self, *, to_move: bool = False) -> None:
        """On PostgreSQL, the tenant's advisory lock until the transaction ends: shared to
        store events, exclusive to move. SQLite runs one writing transaction at a time."""
        if self._connection().dialect.name == "postgresql":
            lock = "pg_advisory_xact_lock" if to_move else "pg_advisory_xact_lock_shared"
            key = _devices_lock(self._tenant_id())
            self._execute(text(f"SELECT {lock}(hashtextextended(:key, 0))"), {"key": key})

    def hold_counted(self) -> int:
        """On PostgreSQL the transaction's ``BEGIN``, the shared lock and the count go in
        one round trip (psycopg's pipeline): the server runs them in turn, so the count,
        a statement of its own, reads what committed before the lock was held."""
        connection = self._connection()
        if connection.dialect.name != "postgresql":
            return self.history_length()
        tenant = self._tenant_id()
        if not connection.in_transaction():
            connection.begin()  # the driver is used directly below: make sure it is in one
        driver: Any = connection.connection.dbapi_connection
        with driver.pipeline(), driver.cursor() as cursor:
            lock = "SELECT pg_advisory_xact_lock_shared(hashtextextended(%s, 0))"
            cursor.execute(lock, [_devices_lock(tenant)])
            cursor.execute(_COUNT_OWNERS, [tenant])
            row = cursor.fetchone()
        assert row is not None
        return int(row[0])

    def list(self, customer: str | None = None) -> list[Device]:
        owners = t.device_owners
        statement = select(owners.c.device_id).where(self._mine(owners)).distinct()
        if customer is not None:
            statement = statement.where(owners.c.customer_id == customer)
        ids = list(self._execute(statement).scalars())
        found = self.find(ids)
        return [found[device_id] for device_id in sorted(found)]


_OWNERS = (
    "SELECT device_id, valid_from, customer_id FROM device_owners"
    " WHERE tenant_id = ? AND device_id IN ({})"
)
"""The owners of some devices (for ``_rows_in``)."""
_RETIRED = (
    "SELECT id, retired_at FROM devices WHERE tenant_id = ? AND retired_at IS NOT NULL"
    " AND id IN ({})"
)
"""The retired among some devices, with when (for ``_rows_in``). Apart from the owners:
joined to them, a table without statistics yet is read once per owner."""
_COUNT_OWNERS = "SELECT count(*) FROM device_owners WHERE tenant_id = %s"


def _devices(owners: list[Any], retired: list[Any]) -> dict[str, Device]:
    """The devices of the rows of :data:`_OWNERS` and :data:`_RETIRED`."""
    histories: dict[str, list[tuple[str, int]]] = {}
    owners.sort(key=lambda row: (row[0], row[1]))  # by device, then start: the history
    for device_id, valid_from, customer_id in owners:
        histories.setdefault(device_id, []).append((customer_id, valid_from))
    retired_at = dict(retired)
    return {
        device_id: _device(device_id, tuple(history), retired_at.get(device_id))
        for device_id, history in histories.items()
    }


@lru_cache(maxsize=1 << 16)
def _device(id: str, history: tuple[tuple[str, int], ...], retired_at: int | None) -> Device:
    """The device of these stored values. A device is an immutable value, so a device read
    again unchanged is the one built (and checked) before: a batch of events names the
    same devices request after request."""
    return Device(
        id,
        tuple(Ownership(customer, from_micros(start)) for customer, start in history),
        None if retired_at is None else from_micros(retired_at),
    )


def _devices_lock(tenant_id: int) -> str:
    """The name of the advisory lock on a tenant's devices (PostgreSQL)."""
    return f"iotbill devices of tenant {tenant_id}"


class SqlSubscriptionRepository(Repository):
    def add(self, subscription: Subscription) -> None:
        self._refuse_taken(t.subscriptions, "subscription", subscription.id)
        self._require(t.customers, "customer", id=subscription.customer_id)
        self._execute(
            insert(t.subscriptions).values(tenant_id=self._tenant_id(), **_columns(subscription))
        )
        self._insert_phases(subscription)

    def save(self, subscription: Subscription) -> None:
        self._require(t.subscriptions, "subscription", id=subscription.id)
        subs, phases = t.subscriptions, t.subscription_phases
        self._execute(
            update(subs)
            .where(self._mine(subs), subs.c.id == subscription.id)
            .values(**_columns(subscription))
        )
        self._execute(
            delete(phases).where(self._mine(phases), phases.c.subscription_id == subscription.id)
        )
        self._insert_phases(subscription)

    def _insert_phases(self, subscription: Subscription) -> None:
        for phase in subscription.phases:
            self._require(t.plans, "plan version", code=phase.plan_code, version=phase.plan_version)
        self._execute(
            insert(t.subscription_phases),
            [
                {
                    "tenant_id": self._tenant_id(),
                    "subscription_id": subscription.id,
                    "start": to_micros(phase.start),
                    "plan_code": phase.plan_code,
                    "plan_version": phase.plan_version,
                }
                for phase in subscription.phases
            ],
        )

    def get(self, id: str) -> Subscription:
        found = self._load_joined(t.subscriptions.c.id == id)
        if not found:
            raise NotFound(f"unknown subscription {id!r}")
        return found[0]

    def list(self, customer: str | None = None) -> list[Subscription]:
        if customer is None:
            return self._load(None)
        return self._load_joined(t.subscriptions.c.customer_id == customer)

    def owners(self) -> builtins.list[tuple[str, str]]:
        subs = t.subscriptions
        statement = (
            select(subs.c.id, subs.c.customer_id).where(self._mine(subs)).order_by(subs.c.id)
        )
        return [(row.id, row.customer_id) for row in self._execute(statement)]

    def for_customers(self, customers: Sequence[str]) -> builtins.list[Subscription]:
        # A bill run's batches: planned on tables never analyzed, each array of ids was
        # checked against every row (2 s of a PostgreSQL bill run of 10,000).
        tables = [t.subscriptions, t.subscription_phases]
        refresh_outgrown(self._connection(), tables, len(customers))
        # On the driver's cursor: every ingest (each request of POST /v1/events) reads
        # its customers' subscriptions, and building the statements through SQLAlchemy
        # cost more than running them.
        rows = list(map(_SubscriptionRow._make, self._rows_in(_SUBSCRIPTIONS, customers)))
        phases: dict[str, list[tuple[int, Phase]]] = {}
        if rows:
            for subscription_id, start, code, version in self._rows_in(
                _PHASES, [row.id for row in rows]
            ):
                phase = Phase(code, version, from_micros(start))
                phases.setdefault(subscription_id, []).append((start, phase))
        found = [
            _subscription(row, tuple(phase for _, phase in sorted(phases.get(row.id, ()))))
            for row in rows
        ]
        return sorted(found, key=lambda subscription: subscription.id)

    def plans_in_service(self, at: datetime) -> builtins.list[PlanKey]:
        statement = plans_in_service_statement(self._tenant_id(), require_aware(at, "at"))
        return [(row.plan_code, int(row.plan_version)) for row in self._execute(statement)]

    def _load(self, condition: Any) -> builtins.list[Subscription]:
        subs, phases = t.subscriptions, t.subscription_phases
        statement = select(subs).where(self._mine(subs)).order_by(subs.c.id)
        if condition is not None:
            statement = statement.where(condition)
        rows = self._execute(statement).all()
        # The phases of the rows found, by their ids: a join to the condition's
        # subquery is planned as a nested loop on a table not yet analyzed.
        by_subscription: dict[str, list[Phase]] = {}
        chosen = [None] if condition is None else chunks(row.id for row in rows)
        for chunk in chosen:
            phase_statement = select(phases).where(self._mine(phases)).order_by(phases.c.start)
            if chunk is not None:
                phase_statement = phase_statement.where(
                    self._among(phases.c.subscription_id, chunk)
                )
            for row in self._execute(phase_statement):
                phase = Phase(row.plan_code, row.plan_version, from_micros(row.start))
                by_subscription.setdefault(row.subscription_id, []).append(phase)
        return [_subscription(row, tuple(by_subscription.get(row.id, ()))) for row in rows]

    def _load_joined(self, condition: Any) -> builtins.list[Subscription]:
        """The few subscriptions of ``condition`` (one id, one customer's) with their phases,
        in one query: a row per phase. (For many, :meth:`_load` reads the phases apart.)"""
        subs, phases = t.subscriptions, t.subscription_phases
        statement = (
            select(
                subs,
                phases.c.start.label("phase_start"),
                phases.c.plan_code,
                phases.c.plan_version,
            )
            .outerjoin(
                phases,
                and_(phases.c.tenant_id == subs.c.tenant_id, phases.c.subscription_id == subs.c.id),
            )
            .where(self._mine(subs), condition)
            .order_by(subs.c.id, phases.c.start)
        )
        rows: dict[str, tuple[Any, builtins.list[Phase]]] = {}
        for row in self._execute(statement):
            _, found = rows.setdefault(row.id, (row, []))
            if row.phase_start is not None:
                found.append(Phase(row.plan_code, row.plan_version, from_micros(row.phase_start)))
        return [_subscription(row, tuple(found)) for row, found in rows.values()]


def _columns(subscription: Subscription) -> dict[str, Any]:
    cancellation = subscription.cancellation
    return {
        "id": subscription.id,
        "customer_id": subscription.customer_id,
        "device_id": subscription.device_id,
        "interval": subscription.interval,
        "billing_mode": subscription.billing_mode,
        "start": to_micros(subscription.start),
        "trial_end": micros(subscription.trial_end),
        "cancel_timing": None if cancellation is None else cancellation.timing,
        "cancel_requested_at": None
        if cancellation is None
        else to_micros(cancellation.requested_at),
        "cancel_effective_at": None
        if cancellation is None
        else to_micros(cancellation.effective_at),
        "cancel_reason": None if cancellation is None else cancellation.reason,
        "contract": None
        if subscription.contract is None
        else json.dumps(subscription.contract.as_json()),
        "pauses": json.dumps(
            [[to_micros(pause.start), micros(pause.end)] for pause in subscription.pauses]
        ),
    }


class _SubscriptionRow(NamedTuple):
    """A row of ``subscriptions`` read on the driver's cursor, its columns by name."""

    tenant_id: int
    id: str
    customer_id: str
    device_id: str | None
    interval: str
    billing_mode: str
    start: int
    trial_end: int | None
    cancel_timing: str | None
    cancel_requested_at: int | None
    cancel_effective_at: int | None
    pauses: str
    cancel_reason: str | None
    contract: str | None


_SUBSCRIPTIONS = (
    f"SELECT {', '.join(_SubscriptionRow._fields)}"
    " FROM subscriptions WHERE tenant_id = ? AND customer_id IN ({})"
)
"""The subscriptions of some customers (for ``_rows_in``)."""
_PHASES = (
    "SELECT subscription_id, start, plan_code, plan_version FROM subscription_phases"
    " WHERE tenant_id = ? AND subscription_id IN ({})"
)
"""The phases of some subscriptions (for ``_rows_in``)."""


def _subscription(row: Any, phases: tuple[Phase, ...]) -> Subscription:
    cancellation = None
    if row.cancel_timing is not None:
        cancellation = Cancellation(
            cast(CancelTiming, row.cancel_timing),
            from_micros(row.cancel_requested_at),
            from_micros(row.cancel_effective_at),
            cast(CancelReason, row.cancel_reason or "requested"),
        )
    return Subscription(
        id=row.id,
        customer_id=row.customer_id,
        interval=cast(Interval, row.interval),
        start=from_micros(row.start),
        phases=phases,
        billing_mode=cast(BillingMode, row.billing_mode),
        device_id=row.device_id,
        trial_end=instant(row.trial_end),
        cancellation=cancellation,
        contract=None
        if row.contract is None
        else ContractTerms.from_json(json.loads(row.contract)),
        pauses=tuple(
            Pause(from_micros(start), instant(end)) for start, end in json.loads(row.pauses)
        ),
    )


def _micros(instant: datetime | None) -> int | None:
    return None if instant is None else to_micros(instant)
