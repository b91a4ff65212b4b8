"""Work orders (service model): a visit to a device, opened by hand, billed when resolved.

:func:`open_work_order` opens one for a device, owned then by a customer whose
subscription in force covers the device on a plan with ``service`` terms; a
device never has two work orders that are not resolved. :func:`dispatch_work_order`
and :func:`arrive_work_order` record the technician's steps. :func:`resolve_work_order`
closes it with the parts fitted and records, in the same transaction, one
one-off charge for the labour and one per part
(:func:`~iotbill.domain.models.work_orders.visit_charges`), so the customer's next
invoice bills the visit once (:mod:`~iotbill.services.one_off_charges`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from iotbill.domain.catalog import ServiceTerms
from iotbill.domain.errors import Conflict, InvalidInput
from iotbill.domain.models.work_orders import WorkOrder, visit_charges
from iotbill.domain.one_off_charges import OneOffCharge
from iotbill.domain.periods import require_aware
from iotbill.services.ports import UnitOfWork


def open_work_order(uow: UnitOfWork, *, device: str, summary: str, at: datetime) -> WorkOrder:
    """Open a work order for ``device`` at ``at`` about ``summary``."""
    at = require_aware(at, "at")
    if not summary.strip():
        raise InvalidInput.at("summary", "must say what the visit is about")
    with uow:
        owner = uow.devices.get(device).owner_at(at)
        if owner is None:
            raise InvalidInput.at("at", f"device {device!r} has no owner at {at.isoformat()}")
        _service_terms(uow, owner, device, at)
        orders = uow.work_orders.list(owner)
        pending = [o.id for o in orders if o.device_id == device and o.status != "resolved"]
        if pending:
            raise Conflict(f"device {device!r} has a work order not resolved yet: {pending[0]}")
        opened = WorkOrder(
            id=f"{owner}/work-order/{len(orders) + 1}",
            customer_id=owner,
            device_id=device,
            summary=summary,
            opened_at=at,
        )
        uow.work_orders.add(opened)
        uow.commit()
    return opened


def dispatch_work_order(uow: UnitOfWork, id: str, *, at: datetime) -> WorkOrder:
    """Record that a technician was sent at ``at``."""
    with uow:
        dispatched = uow.work_orders.get(id).dispatch(at)
        uow.work_orders.save(dispatched)
        uow.commit()
    return dispatched


def arrive_work_order(uow: UnitOfWork, id: str, *, at: datetime) -> WorkOrder:
    """Record that the technician arrived on site at ``at``."""
    with uow:
        arrived = uow.work_orders.get(id).arrive(at)
        uow.work_orders.save(arrived)
        uow.commit()
    return arrived


def resolve_work_order(
    uow: UnitOfWork, id: str, *, at: datetime, parts: Mapping[str, int]
) -> tuple[WorkOrder, list[OneOffCharge]]:
    """Resolve work order ``id`` at ``at`` with ``parts`` fitted (code and count), and
    record its labour and parts as one-off charges for the next invoice."""
    with uow:
        order = uow.work_orders.get(id)
        terms = _service_terms(uow, order.customer_id, order.device_id, require_aware(at, "at"))
        resolved = order.resolve(at, parts, terms)
        customer = uow.customers.get(order.customer_id)
        charges = [
            OneOffCharge.create(
                id=f"{resolved.id}/{charge.code}",
                customer_id=customer.id,
                description=charge.description,
                unit_price=charge.unit_price,
                quantity=charge.quantity,
                currency=customer.currency,
                recorded_at=at,
            )
            for charge in visit_charges(resolved, terms)
        ]
        for charge in charges:
            uow.one_off_charges.add(charge)
        uow.work_orders.save(resolved)
        uow.commit()
    return resolved, charges


def list_work_orders(uow: UnitOfWork, customer: str | None = None) -> list[WorkOrder]:
    """The work orders (of ``customer``), by opening time, then id."""
    with uow:
        if customer is not None:
            uow.customers.get(customer)
        return uow.work_orders.list(customer)


def get_work_order(uow: UnitOfWork, id: str) -> WorkOrder:
    with uow:
        return uow.work_orders.get(id)


def _service_terms(uow: UnitOfWork, customer: str, device: str, at: datetime) -> ServiceTerms:
    """The service terms of the plan that covers ``device`` of ``customer`` at ``at``;
    :class:`Conflict` when no subscription in force then has any."""
    for subscription in uow.subscriptions.list(customer):
        if subscription.device_id not in (None, device) or subscription.start > at:
            continue
        if subscription.end is not None and subscription.end <= at:
            continue
        phase = subscription.phase_at(at)
        if phase is None:
            continue
        terms = uow.plans.get(phase.plan_code, phase.plan_version).plan.service
        if terms is not None:
            return terms
    raise Conflict(
        f"no subscription of {customer!r} in force at {at.isoformat()} bills work orders"
        f" for {device!r} (its plan needs a service section)"
    )
