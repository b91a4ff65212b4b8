"""Which devices the side-flow jobs visit: each device under a subscription in force.

The reorder job and the alert job both go over every subscription in force at
their instant and every device it covers: its own device, or, for a customer's
subscription, every device the customer owns then. :func:`covered_devices`
gives each as a :class:`Covered` (customer, device, plan), reading each plan
version, the customers and the devices once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from iotbill.domain.catalog import Plan
from iotbill.domain.customers import Customer
from iotbill.services.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class Covered:
    """``device`` of ``customer``, billed on ``plan`` at the job's instant."""

    customer: Customer
    device: str
    plan: Plan


def covered_devices(uow: UnitOfWork, as_of: datetime) -> Iterator[Covered]:
    """Each device under each subscription in force at ``as_of``, in the subscriptions'
    order, with its customer and the plan then (in an open unit of work)."""
    plans: dict[tuple[str, int], Plan] = {}
    customers: dict[str, Customer] | None = None
    owned: dict[str, list[str]] | None = None
    for subscription in uow.subscriptions.list():
        if subscription.start > as_of or (
            subscription.end is not None and subscription.end <= as_of
        ):
            continue
        phase = subscription.phase_at(as_of)
        if phase is None:
            continue
        if phase.plan_key not in plans:
            plans[phase.plan_key] = uow.plans.get(phase.plan_code, phase.plan_version).plan
        if customers is None:
            customers = {customer.id: customer for customer in uow.customers.list()}
        customer = customers[subscription.customer_id]
        if subscription.device_id is not None:
            devices = [subscription.device_id]
        else:
            owned = _owners(uow, as_of) if owned is None else owned
            devices = owned.get(customer.id, [])
        for device in devices:
            yield Covered(customer, device, plans[phase.plan_key])


def _owners(uow: UnitOfWork, as_of: datetime) -> dict[str, list[str]]:
    """The devices of each customer at ``as_of``, read once."""
    found: dict[str, list[str]] = {}
    for device in uow.devices.list():
        owner = device.owner_at(as_of)
        if owner is not None:
            found.setdefault(owner, []).append(device.id)
    return found
