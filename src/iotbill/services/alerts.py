"""The alert job (service model): alert rules over stored events open work orders.

:func:`run_alerts` visits, at ``as_of``, every subscription in force whose plan's
service terms list alert rules and, for each device it covers and each rule,
reads the device's values of the rule's property and looks for an incident
(:func:`~iotbill.domain.models.alert_rules.first_incident`) since the last work
order that rule opened for the device was resolved (before any, in the rule's
window and the :data:`LOOKBACK` before it). It opens one work order per
device and incident, never one while the device has one not resolved. It reads
event timestamps and the stored work orders only, so running it again, at any
frequency, or after events were replayed, opens nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from iotbill.domain.catalog import AlertRule, Meter
from iotbill.domain.models.alert_rules import first_incident
from iotbill.domain.models.work_orders import WorkOrder
from iotbill.domain.periods import require_aware
from iotbill.services.coverage import covered_devices
from iotbill.services.ports import UnitOfWork
from iotbill.services.readings import device_readings

LOOKBACK = timedelta(days=7)
"""Before a rule's first work order for a device, how far back (beyond its window) the
job reads the device's readings."""


@dataclass(frozen=True, slots=True)
class AlertCheck:
    """What the job found for one device and rule: the incident's start, if any, and the
    work order it opened (``None`` when one not resolved was there already)."""

    device: str
    rule: str
    incident_start: datetime | None
    opened: WorkOrder | None = None
    blocked_by: str | None = None


def run_alerts(uow: UnitOfWork, *, as_of: datetime) -> list[AlertCheck]:
    """Evaluate every alert rule in force at ``as_of`` and open the work orders due, in one
    transaction."""
    as_of = require_aware(as_of, "as_of")
    checks: list[AlertCheck] = []
    with uow:
        orders = uow.work_orders.list()
        counts: dict[str, int] = {}
        for order in orders:
            counts[order.customer_id] = counts.get(order.customer_id, 0) + 1
        unresolved = {o.device_id: o.id for o in orders if o.status != "resolved"}
        for covered in covered_devices(uow, as_of):
            terms = covered.plan.service
            owner, device = covered.customer.id, covered.device
            for rule in () if terms is None else terms.alerts:
                since = _since(orders, device, rule)
                readings = device_readings(
                    uow,
                    customer=owner,
                    device=device,
                    meter=Meter(rule.meter, rule.event_type, "latest", rule.property),
                    since=since or as_of - rule.window - LOOKBACK,
                    as_of=as_of,
                )
                start = first_incident(readings, rule, after=since)
                if start is None:
                    checks.append(AlertCheck(device, rule.code, None))
                elif device in unresolved:
                    checks.append(
                        AlertCheck(device, rule.code, start, blocked_by=unresolved[device])
                    )
                else:
                    counts[owner] = counts.get(owner, 0) + 1
                    opened = WorkOrder(
                        id=f"{owner}/work-order/{counts[owner]}",
                        customer_id=owner,
                        device_id=device,
                        summary=rule.summary or f"Alert {rule.code}",
                        opened_at=as_of,
                        alert_rule=rule.code,
                        incident_start=start,
                    )
                    uow.work_orders.add(opened)
                    unresolved[device] = opened.id
                    checks.append(AlertCheck(device, rule.code, start, opened))
        uow.commit()
    return checks


def _since(orders: list[WorkOrder], device: str, rule: AlertRule) -> datetime | None:
    """Where the rule counts from: the resolution of the last work order it opened for
    ``device`` (``None``: it opened none)."""
    resolved = [
        order.resolved_at
        for order in orders
        if order.device_id == device
        and order.alert_rule == rule.code
        and order.resolved_at is not None
    ]
    return max(resolved, default=None)
