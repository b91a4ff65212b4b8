"""Tenants, plans, customers, devices, their credentials and subscriptions, in memory."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from operator import attrgetter

from iotbill.adapters.storage.memory.base import _add, _get, _paged, _Repository
from iotbill.domain.analytics import (
    plans_in_service,
)
from iotbill.domain.catalog import Plan
from iotbill.domain.customers import Customer, Device
from iotbill.domain.device_credentials import DeviceCredential
from iotbill.domain.errors import Conflict, NotFound
from iotbill.domain.periods import require_aware
from iotbill.domain.subscriptions import PlanKey, Subscription
from iotbill.services.ports import (
    Paging,
    StoredPlan,
    Tenant,
)

_ID = attrgetter("id")
"""The sort key of a list by id."""


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

    def list(self, paging: Paging[str] | None = None) -> list[Customer]:
        customers = self._data().customers
        return _paged([customers[id] for id in sorted(customers)], _ID, paging)


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

    def list(self, customer: str | None = None, paging: Paging[str] | None = None) -> list[Device]:
        devices = self._data().devices
        found = [
            devices[id]
            for id in sorted(devices)
            if customer is None or any(o.customer_id == customer for o in devices[id].ownership)
        ]
        return _paged(found, _ID, paging)


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

    def list(
        self,
        customer: str | None = None,
        paging: Paging[str] | None = None,
        *,
        plan: str | None = None,
    ) -> list[Subscription]:
        found = self._data().subscriptions
        chosen = [
            found[id]
            for id in sorted(found)
            if (customer is None or found[id].customer_id == customer)
            and (plan is None or any(phase.plan_code == plan for phase in found[id].phases))
        ]
        return _paged(chosen, _ID, paging)

    def owners(self) -> builtins.list[tuple[str, str]]:
        found = self._data().subscriptions
        return [(id, found[id].customer_id) for id in sorted(found)]

    def plans_in_service(self, at: datetime) -> builtins.list[PlanKey]:
        return plans_in_service(self.list(), require_aware(at, "at"))
