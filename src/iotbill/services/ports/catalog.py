"""The ports of the catalog: tenants, plans, customers, devices, their credentials and
subscriptions."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from iotbill.domain.catalog import Plan
from iotbill.domain.customers import Customer, Device
from iotbill.domain.device_credentials import DeviceCredential
from iotbill.domain.subscriptions import PlanKey, Subscription
from iotbill.services.ports.values import (
    Paging,
    StoredPlan,
    Tenant,
)


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

    def list(self, paging: Paging[str] | None = None) -> list[Customer]:
        """Every customer by id, or the page of them after ``paging``'s id."""
        ...


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

    def list(self, customer: str | None = None, paging: Paging[str] | None = None) -> list[Device]:
        """Every device, or those whose history names ``customer``, by id (the page of them
        after ``paging``'s id)."""
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

    def list(
        self,
        customer: str | None = None,
        paging: Paging[str] | None = None,
        *,
        plan: str | None = None,
    ) -> list[Subscription]:
        """Every subscription, or ``customer``'s, by id (the page of them after ``paging``'s
        id); with ``plan``, only those with a phase on that plan (any version)."""
        ...

    def owners(self) -> builtins.list[tuple[str, str]]:
        """Every subscription's id and its customer's, by id: what a bill run splits into
        batches, without building the subscriptions."""
        ...

    def plans_in_service(self, at: datetime) -> builtins.list[PlanKey]:
        """The plan version in force at ``at`` (aware) of each subscription in service
        then, by subscription id, as :func:`iotbill.domain.analytics.plans_in_service`
        finds them: what the MRR sums."""
        ...
