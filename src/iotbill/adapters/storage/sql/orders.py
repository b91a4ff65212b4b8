"""Reorders in SQL: added when placed, then saved at each step."""

from __future__ import annotations

import builtins
from typing import Any

from sqlalchemy import insert, select, update

from iotbill.adapters.storage.sql import tables as t
from iotbill.adapters.storage.sql.repository import Repository, instant, micros
from iotbill.domain.errors import NotFound
from iotbill.domain.models.orders import Order
from iotbill.domain.money import currency
from iotbill.domain.periods import from_micros, to_micros


class SqlOrderRepository(Repository):
    def add(self, order: Order) -> None:
        self._refuse_taken(t.orders, "order", order.id)
        self._require(t.customers, "customer", id=order.customer_id)
        self._execute(
            insert(t.orders).values(
                tenant_id=self._tenant_id(),
                id=order.id,
                customer_id=order.customer_id,
                device_id=order.device_id,
                consumable=order.consumable,
                description=order.description,
                price=order.price,
                currency=order.currency.code,
                placed_at=to_micros(order.placed_at),
                run_out=to_micros(order.run_out),
                cycle_start=micros(order.cycle_start),
                charge_id=order.charge_id,
                **_steps(order),
            )
        )

    def save(self, order: Order) -> None:
        table = t.orders
        result = self._execute(
            update(table).where(self._mine(table), table.c.id == order.id).values(**_steps(order))
        )
        if result.rowcount == 0:
            raise NotFound(f"unknown order {order.id!r}")

    def get(self, id: str) -> Order:
        table = t.orders
        row = self._execute(select(table).where(self._mine(table), table.c.id == id)).first()
        if row is None:
            raise NotFound(f"unknown order {id!r}")
        return _order(row)

    def list(self, customer: str | None = None) -> builtins.list[Order]:
        table = t.orders
        statement = select(table).where(self._mine(table))
        if customer is not None:
            statement = statement.where(table.c.customer_id == customer)
        found = [_order(row) for row in self._execute(statement)]
        return sorted(found, key=lambda order: (order.placed_at, order.id))


def _steps(order: Order) -> dict[str, Any]:
    """The columns a step changes."""
    return {
        "status": order.status,
        "shipped_at": micros(order.shipped_at),
        "delivered_at": micros(order.delivered_at),
        "cancelled_at": micros(order.cancelled_at),
        "credit_id": order.credit_id,
    }


def _order(row: Any) -> Order:
    return Order(
        id=row.id,
        customer_id=row.customer_id,
        device_id=row.device_id,
        consumable=row.consumable,
        description=row.description,
        price=row.price,
        currency=currency(row.currency),
        placed_at=from_micros(row.placed_at),
        run_out=from_micros(row.run_out),
        cycle_start=instant(row.cycle_start),
        charge_id=row.charge_id,
        status=row.status,
        shipped_at=instant(row.shipped_at),
        delivered_at=instant(row.delivered_at),
        cancelled_at=instant(row.cancelled_at),
        credit_id=row.credit_id,
    )
