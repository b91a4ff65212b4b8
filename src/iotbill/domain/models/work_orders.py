"""A work order: a technician sent to a device, and what the visit bills (service model).

A :class:`WorkOrder` is opened for a device (by hand, ``iotbill work-orders open``)
and moves on, each step with its instant::

    open ──► dispatched ──► on_site ──► resolved

A step that does not follow is a :class:`~iotbill.domain.errors.Conflict`; an
instant before the step before is :class:`~iotbill.domain.errors.InvalidInput`
at ``at``. A device has at most one work order that is not resolved.

Resolving bills the visit by the plan's service terms
(:class:`~iotbill.domain.catalog.ServiceTerms`), each as a one-off charge on
the customer's next invoice (:func:`visit_charges`):

- **labour**: the time on site, from arrival to resolution, counted in started
  blocks of ``labour_increment``, at ``labour_rate`` an hour;
- **parts**: each part fitted, at its price in the plan's list.

Worked example: 90.00 an hour in started quarter hours; on site from 10:00 to
11:20 is 80 minutes, six started quarters, 1.5 hours: 135.00. Exactly 75
minutes is five quarters: 112.50.

>>> from datetime import UTC, datetime, timedelta
>>> from decimal import Decimal
>>> from iotbill.domain.catalog import ServiceTerms
>>> terms = ServiceTerms(Decimal("90.00"), timedelta(minutes=15))
>>> str(billed_hours(timedelta(minutes=80), terms)), str(billed_hours(timedelta(minutes=75), terms))
('1.5', '1.25')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from iotbill.domain.catalog import ServiceTerms
from iotbill.domain.errors import Conflict, InvalidInput, ProblemCollector
from iotbill.domain.periods import require_aware
from iotbill.domain.quantities import decimal_text

WorkOrderStatus = Literal["open", "dispatched", "on_site", "resolved"]
_NEXT: dict[WorkOrderStatus, WorkOrderStatus | None] = {
    "open": "dispatched",
    "dispatched": "on_site",
    "on_site": "resolved",
    "resolved": None,
}


@dataclass(frozen=True, slots=True)
class VisitCharge:
    """One charge of a resolved visit: ``quantity`` x ``unit_price``, named ``code``."""

    code: str
    description: str
    unit_price: Decimal
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class WorkOrder:
    """A visit to ``device_id`` of ``customer_id`` about ``summary``; ``parts`` fitted
    (code and count) once resolved."""

    id: str
    customer_id: str
    device_id: str
    summary: str
    opened_at: datetime
    status: WorkOrderStatus = "open"
    dispatched_at: datetime | None = None
    on_site_at: datetime | None = None
    resolved_at: datetime | None = None
    parts: tuple[tuple[str, int], ...] = ()
    alert_rule: str | None = None
    """The alert rule that opened it (``None``: opened by hand)."""
    incident_start: datetime | None = None
    """When the incident that the alert rule saw began."""
    sla_percent: Decimal | None = None
    """The percent of its period's service fees its late visit earned, once credited."""
    sla_invoice_id: str | None = None
    """The invoice that credited its breach (:mod:`~iotbill.domain.models.sla`)."""

    @property
    def changed_at(self) -> datetime:
        steps = (self.opened_at, self.dispatched_at, self.on_site_at, self.resolved_at)
        return max(step for step in steps if step is not None)

    def dispatch(self, at: datetime) -> WorkOrder:
        return replace(self._step("dispatched", at), dispatched_at=at)

    def arrive(self, at: datetime) -> WorkOrder:
        return replace(self._step("on_site", at), on_site_at=at)

    def resolve(self, at: datetime, parts: Mapping[str, int], terms: ServiceTerms) -> WorkOrder:
        """Resolved at ``at`` with ``parts`` fitted; every unknown part or count that is not
        a whole number from 1 is reported at once, at ``parts.CODE``."""
        problems = ProblemCollector()
        for code, count in parts.items():
            if terms.part(code) is None:
                known = ", ".join(part.code for part in terms.parts) or "none listed"
                problems.add(f"parts.{code}", f"unknown part (the plan's parts: {known})")
            elif isinstance(count, bool) or not isinstance(count, int) or count < 1:
                problems.add(f"parts.{code}", f"must be a whole number from 1, not {count!r}")
        problems.raise_if_any()
        resolved = self._step("resolved", at)
        return replace(resolved, resolved_at=at, parts=tuple(sorted(parts.items())))

    def credited(self, invoice_id: str, percent: Decimal) -> WorkOrder:
        """Its breach, earning ``percent``, credited on invoice ``invoice_id``."""
        return replace(self, sla_percent=percent, sla_invoice_id=invoice_id)

    def _step(self, status: WorkOrderStatus, at: datetime) -> WorkOrder:
        if _NEXT[self.status] != status:
            raise Conflict(f"work order {self.id} is {self.status}: it cannot be {status}")
        at = require_aware(at, "at")
        if at < self.changed_at:
            raise InvalidInput.at(
                "at",
                f"must not be before the work order's last step ({self.changed_at.isoformat()})",
            )
        return replace(self, status=status)

    def as_json(self) -> dict[str, Any]:
        def instant(value: datetime | None) -> str | None:
            return None if value is None else value.isoformat()

        return {
            "id": self.id,
            "customer": self.customer_id,
            "device": self.device_id,
            "summary": self.summary,
            "status": self.status,
            "opened_at": instant(self.opened_at),
            "dispatched_at": instant(self.dispatched_at),
            "on_site_at": instant(self.on_site_at),
            "resolved_at": instant(self.resolved_at),
            "parts": {code: count for code, count in self.parts},
            "alert_rule": self.alert_rule,
            "incident_start": instant(self.incident_start),
            "sla_credit": None
            if self.sla_invoice_id is None
            else {
                "percent": decimal_text(self.sla_percent or Decimal(0)),
                "invoice": self.sla_invoice_id,
            },
        }


def billed_hours(on_site: timedelta, terms: ServiceTerms) -> Decimal:
    """The hours billed for ``on_site``: started blocks of ``terms.labour_increment``."""
    blocks = -(-on_site // terms.labour_increment)  # ceiling division of timedeltas
    seconds = Decimal(int((terms.labour_increment * blocks).total_seconds()))
    return (seconds / 3600).normalize()


def visit_charges(order: WorkOrder, terms: ServiceTerms) -> list[VisitCharge]:
    """What the resolved ``order`` bills: labour (if any time on site), then each part."""
    assert order.on_site_at is not None and order.resolved_at is not None
    found: list[VisitCharge] = []
    hours = billed_hours(order.resolved_at - order.on_site_at, terms)
    if hours > 0:
        minutes = int(terms.labour_increment.total_seconds() // 60)
        found.append(
            VisitCharge(
                "labour",
                f"Labour, {order.id}: {decimal_text(hours)} h in started {minutes}-minute blocks",
                terms.labour_rate,
                hours,
            )
        )
    for code, count in order.parts:
        part = terms.part(code)
        assert part is not None
        found.append(
            VisitCharge(
                f"part/{code}",
                f"{part.name or code}, {order.id}",
                part.price,
                Decimal(count),
            )
        )
    return found
