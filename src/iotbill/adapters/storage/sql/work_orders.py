"""Work orders in SQL: added when opened, then saved at each step.

A step and a bill run's SLA mark write disjoint columns, each only its own, so
neither puts back what the other committed since it read the row; the mark is
taken only while the row has none (``sla_invoice_id IS NULL``), which on
PostgreSQL waits for a concurrent mark's transaction and then sees it.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select, update

from iotbill.adapters.storage.sql import tables as t
from iotbill.adapters.storage.sql.repository import Repository, instant, micros
from iotbill.domain.errors import NotFound
from iotbill.domain.models.work_orders import WorkOrder
from iotbill.domain.periods import from_micros, to_micros


class SqlWorkOrderRepository(Repository):
    def add(self, order: WorkOrder) -> None:
        self._refuse_taken(t.work_orders, "work order", order.id)
        self._require(t.customers, "customer", id=order.customer_id)
        self._execute(
            insert(t.work_orders).values(
                tenant_id=self._tenant_id(),
                id=order.id,
                customer_id=order.customer_id,
                device_id=order.device_id,
                summary=order.summary,
                opened_at=to_micros(order.opened_at),
                alert_rule=order.alert_rule,
                incident_start=micros(order.incident_start),
                sla_percent=None if order.sla_percent is None else str(order.sla_percent),
                sla_invoice_id=order.sla_invoice_id,
                **_steps(order),
            )
        )

    def save(self, order: WorkOrder) -> None:
        table = t.work_orders
        result = self._execute(
            update(table).where(self._mine(table), table.c.id == order.id).values(**_steps(order))
        )
        if result.rowcount == 0:
            raise NotFound(f"unknown work order {order.id!r}")

    def mark_credited(self, id: str, *, invoice: str, percent: Decimal) -> bool:
        table = t.work_orders
        result = self._execute(
            update(table)
            .where(self._mine(table), table.c.id == id, table.c.sla_invoice_id.is_(None))
            .values(sla_percent=str(percent), sla_invoice_id=invoice)
        )
        if result.rowcount == 0:
            self.get(id)  # NotFound if there is none
            return False
        return True

    def get(self, id: str) -> WorkOrder:
        table = t.work_orders
        row = self._execute(select(table).where(self._mine(table), table.c.id == id)).first()
        if row is None:
            raise NotFound(f"unknown work order {id!r}")
        return _work_order(row)

    def list(self, customer: str | None = None) -> builtins.list[WorkOrder]:
        table = t.work_orders
        statement = select(table).where(self._mine(table))
        if customer is not None:
            statement = statement.where(table.c.customer_id == customer)
        found = [_work_order(row) for row in self._execute(statement)]
        return sorted(found, key=lambda order: (order.opened_at, order.id))

    def for_customers(self, customers: Sequence[str]) -> builtins.list[WorkOrder]:
        if not customers:
            return []
        table = t.work_orders
        statement = select(table).where(self._mine(table), table.c.customer_id.in_(customers))
        found = [_work_order(row) for row in self._execute(statement)]
        return sorted(found, key=lambda order: (order.opened_at, order.id))


def _steps(order: WorkOrder) -> dict[str, Any]:
    """The columns a step changes (never the SLA mark's); the parts as a JSON list of
    ``[code, count]``."""
    return {
        "status": order.status,
        "dispatched_at": micros(order.dispatched_at),
        "on_site_at": micros(order.on_site_at),
        "resolved_at": micros(order.resolved_at),
        "parts": json.dumps([[code, count] for code, count in order.parts]),
    }


def _work_order(row: Any) -> WorkOrder:
    return WorkOrder(
        id=row.id,
        customer_id=row.customer_id,
        device_id=row.device_id,
        summary=row.summary,
        opened_at=from_micros(row.opened_at),
        status=row.status,
        dispatched_at=instant(row.dispatched_at),
        on_site_at=instant(row.on_site_at),
        resolved_at=instant(row.resolved_at),
        parts=tuple((code, count) for code, count in json.loads(row.parts)),
        alert_rule=row.alert_rule,
        incident_start=instant(row.incident_start),
        sla_percent=None if row.sla_percent is None else Decimal(row.sla_percent),
        sla_invoice_id=row.sla_invoice_id,
    )
