"""The SQL repository of customers, with their tax rate changes.

Each repository reads and writes only its unit of work's tenant. Adding an id
that exists is a :class:`Conflict`; naming a customer, device, plan version or
invoice that does not exist is :class:`NotFound` (checked before writing, so
the message names what is missing; the foreign keys stay as the last guard).
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import and_, delete, insert, select, update

from iotbill.adapters.storage.sql import tables as t
from iotbill.adapters.storage.sql.repository import (
    Repository,
    chunks,
)
from iotbill.domain.customers import Customer
from iotbill.domain.errors import NotFound
from iotbill.domain.money import currency
from iotbill.domain.periods import from_micros, to_micros
from iotbill.domain.tax_rates import TaxRateChange
from iotbill.services.ports import Paging


class SqlCustomerRepository(Repository):
    def add(self, customer: Customer) -> None:
        self._refuse_taken(t.customers, "customer", customer.id)
        self._execute(
            insert(t.customers).values(
                tenant_id=self._tenant_id(), id=customer.id, **_customer_columns(customer)
            )
        )

    def save(self, customer: Customer) -> None:
        self._require(t.customers, "customer", id=customer.id)
        self._execute(
            update(t.customers)
            .where(self._mine(t.customers), t.customers.c.id == customer.id)
            .values(**_customer_columns(customer))
        )
        rates = t.customer_tax_rates
        self._execute(delete(rates).where(self._mine(rates), rates.c.customer_id == customer.id))
        if customer.tax_changes:
            self._execute(
                insert(rates),
                [
                    {
                        "tenant_id": self._tenant_id(),
                        "customer_id": customer.id,
                        "valid_from": to_micros(change.start),
                        "rate": change.rate,
                    }
                    for change in customer.tax_changes
                ],
            )

    def _with_changes(self, customers: builtins.list[Customer]) -> builtins.list[Customer]:
        """``customers`` with their tax rate changes, read in one query."""
        rates = t.customer_tax_rates
        statement = (
            select(rates.c.customer_id, rates.c.valid_from, rates.c.rate)
            .where(self._mine(rates))
            .order_by(rates.c.customer_id, rates.c.valid_from)
        )
        if len(customers) == 1:
            statement = statement.where(rates.c.customer_id == customers[0].id)
        changes: dict[str, builtins.list[TaxRateChange]] = {}
        for customer_id, valid_from, rate in self._execute(statement):
            changes.setdefault(customer_id, []).append(TaxRateChange(from_micros(valid_from), rate))
        return [
            replace(customer, tax_changes=tuple(changes[customer.id]))
            if customer.id in changes
            else customer
            for customer in customers
        ]

    def add_many(self, customers: Sequence[Customer]) -> None:
        self._refuse_any_taken(t.customers, "customer", [customer.id for customer in customers])
        if not customers:
            return
        tenant = self._tenant_id()
        self._execute(
            insert(t.customers),
            [
                {"tenant_id": tenant, "id": customer.id, **_customer_columns(customer)}
                for customer in customers
            ],
        )

    def get(self, id: str) -> Customer:
        """The customer with its tax rate changes, in one query (a row per change)."""
        customers, rates = t.customers, t.customer_tax_rates
        statement = (
            select(customers, rates.c.valid_from, rates.c.rate)
            .outerjoin(
                rates,
                and_(rates.c.tenant_id == customers.c.tenant_id, rates.c.customer_id == id),
            )
            .where(self._mine(customers), customers.c.id == id)
            .order_by(rates.c.valid_from)
        )
        rows = self._execute(statement).all()
        if not rows:
            raise NotFound(f"unknown customer {id!r}")
        changes = tuple(
            TaxRateChange(from_micros(row.valid_from), row.rate)
            for row in rows
            if row.valid_from is not None
        )
        customer = _customer(rows[0])
        return replace(customer, tax_changes=changes) if changes else customer

    def find(self, ids: Sequence[str]) -> dict[str, Customer]:
        found: dict[str, Customer] = {}
        for chunk in chunks(ids):
            statement = select(t.customers).where(
                self._mine(t.customers), self._among(t.customers.c.id, chunk)
            )
            found.update((row.id, _customer(row)) for row in self._execute(statement))
        return {customer.id: customer for customer in self._with_changes(list(found.values()))}

    def list(self, paging: Paging[str] | None = None) -> list[Customer]:
        statement = select(t.customers).where(self._mine(t.customers))
        statement = self._page(statement, [t.customers.c.id], paging)
        return self._with_changes([_customer(row) for row in self._execute(statement)])


def _customer_columns(customer: Customer) -> dict[str, Any]:
    return {
        "name": customer.name,
        "currency": customer.currency.code,
        "timezone": customer.timezone,
        "billing_address": customer.billing_address,
        "tax_rate": customer.tax_rate,
        "locale": customer.locale,
        "net_terms": customer.net_terms,
    }


def _customer(row: Any) -> Customer:
    return Customer(
        row.id,
        row.name,
        currency(row.currency),
        row.timezone,
        row.billing_address,
        row.tax_rate,
        row.locale,
        row.net_terms,
    )
