"""The SQL repositories of tenants and plans (each plan version stored as its document).

Each repository reads and writes only its unit of work's tenant. Adding an id
that exists is a :class:`Conflict`; naming a customer, device, plan version or
invoice that does not exist is :class:`NotFound` (checked before writing, so
the message names what is missing; the foreign keys stay as the last guard).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Connection, and_, func, insert, select, update

from iotbill.adapters.plan_files import parse_plan_text
from iotbill.adapters.storage.sql import tables as t
from iotbill.adapters.storage.sql.repository import (
    Repository,
)
from iotbill.domain.catalog import Plan
from iotbill.domain.credits import CreditTiming
from iotbill.domain.errors import Conflict, NotFound
from iotbill.domain.periods import from_micros, to_micros
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
