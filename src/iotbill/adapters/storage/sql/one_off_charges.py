"""One-off charges in SQL: added, then marked once with the invoice that bills them."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import bindparam, delete, insert, select, update

from iotbill.adapters.storage.sql import tables as t
from iotbill.adapters.storage.sql.repository import Repository, chunks
from iotbill.domain.errors import Conflict, NotFound
from iotbill.domain.money import currency
from iotbill.domain.one_off_charges import OneOffCharge, OneOffKind
from iotbill.domain.periods import from_micros, to_micros

_KNOWN_CUSTOMERS = "SELECT id FROM customers WHERE tenant_id = ? AND id IN ({})"


class SqlOneOffChargeRepository(Repository):
    def add(self, charge: OneOffCharge) -> None:
        self._refuse_taken(t.one_off_charges, "one-off charge", charge.id)
        self._require(t.customers, "customer", id=charge.customer_id)
        self._execute(insert(t.one_off_charges).values(**self._columns(charge)))

    def add_many(self, charges: Sequence[OneOffCharge]) -> None:
        ids = [charge.id for charge in charges]
        self._refuse_any_taken(t.one_off_charges, "one-off charge", ids)
        customers = {charge.customer_id for charge in charges}
        found = {row[0] for row in self._rows_in(_KNOWN_CUSTOMERS, customers)}
        if customers - found:
            raise NotFound(f"unknown customer {min(customers - found)!r}")
        if charges:
            self._execute(insert(t.one_off_charges), [self._columns(charge) for charge in charges])

    def _columns(self, charge: OneOffCharge) -> dict[str, Any]:
        return {
            "tenant_id": self._tenant_id(),
            "id": charge.id,
            "customer_id": charge.customer_id,
            "description": charge.description,
            "unit_price": charge.unit_price,
            "quantity": charge.quantity,
            "currency": charge.currency.code,
            "recorded_at": to_micros(charge.recorded_at),
            "invoice_id": charge.invoice_id,
            "kind": charge.kind,
        }

    def list(self, customer: str | None = None) -> builtins.list[OneOffCharge]:
        table = t.one_off_charges
        statement = select(table).where(self._mine(table))
        if customer is not None:
            statement = statement.where(table.c.customer_id == customer)
        return _in_order(self._execute(statement))

    def pending(self, customers: Sequence[str]) -> builtins.list[OneOffCharge]:
        table = t.one_off_charges
        rows: builtins.list[Any] = []
        for chunk in chunks(customers):
            statement = select(table).where(
                self._mine(table), table.c.customer_id.in_(chunk), table.c.invoice_id.is_(None)
            )
            rows.extend(self._execute(statement))
        return _in_order(rows)

    def mark_billed(self, charges: Sequence[OneOffCharge]) -> None:
        if not charges:
            return
        table = t.one_off_charges
        statement = (
            update(table)
            .where(
                table.c.tenant_id == bindparam("tenant"),
                table.c.id == bindparam("charge"),
                table.c.invoice_id.is_(None),
            )
            .values(invoice_id=bindparam("invoice"))
        )
        tenant = self._tenant_id()
        result = self._execute(
            statement,
            [
                {"tenant": tenant, "charge": charge.id, "invoice": charge.invoice_id}
                for charge in charges
            ],
        )
        if result.rowcount != len(charges):
            ids = [charge.id for charge in charges]
            stored = dict(
                self._execute(
                    select(table.c.id, table.c.invoice_id).where(
                        self._mine(table), table.c.id.in_(ids)
                    )
                ).all()
            )
            lost = [c.id for c in charges if stored.get(c.id) != c.invoice_id]
            if lost:
                raise Conflict(f"one-off charges billed or withdrawn meanwhile: {', '.join(lost)}")

    def withdraw(self, id: str) -> None:
        table = t.one_off_charges
        found = self._execute(
            select(table.c.invoice_id).where(self._mine(table), table.c.id == id)
        ).first()
        if found is None:
            raise NotFound(f"unknown one-off charge {id!r}")
        if found.invoice_id is not None:
            raise Conflict(f"one-off charge {id!r} is billed already")
        deleted = self._execute(
            delete(table).where(self._mine(table), table.c.id == id, table.c.invoice_id.is_(None))
        )
        if deleted.rowcount == 0:  # billed (or withdrawn) since it was read
            raise Conflict(f"one-off charge {id!r} is billed already")


def _in_order(rows: Any) -> builtins.list[OneOffCharge]:
    found = [
        OneOffCharge(
            row.id,
            row.customer_id,
            row.description,
            row.unit_price,
            row.quantity,
            currency(row.currency),
            from_micros(row.recorded_at),
            row.invoice_id,
            cast(OneOffKind, row.kind),
        )
        for row in rows
    ]
    return sorted(found, key=lambda charge: (charge.recorded_at, charge.id))
