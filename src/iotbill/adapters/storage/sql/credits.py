"""Credit grants and the ledger in SQL: rows added, never changed."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from iotbill.adapters.storage.sql import tables as t
from iotbill.adapters.storage.sql.repository import Repository, chunks, instant, micros
from iotbill.domain.balance_alerts import BalanceAlert
from iotbill.domain.credits import CreditGrant, GrantKind, LedgerEntry
from iotbill.domain.errors import Conflict
from iotbill.domain.money import currency
from iotbill.domain.periods import from_micros, to_micros


class SqlCreditRepository(Repository):
    def add_grant(self, grant: CreditGrant) -> None:
        self._refuse_taken(t.credit_grants, "credit grant", grant.id)
        self._require(t.customers, "customer", id=grant.customer_id)
        self._execute(
            insert(t.credit_grants).values(
                tenant_id=self._tenant_id(),
                id=grant.id,
                customer_id=grant.customer_id,
                kind=grant.kind,
                amount=grant.amount,
                currency=grant.currency.code,
                granted_at=to_micros(grant.granted_at),
                expires_at=micros(grant.expires_at),
                priority=grant.priority,
                description=grant.description,
            )
        )

    def grants(self, customers: Sequence[str] | None = None) -> builtins.list[CreditGrant]:
        rows = self._rows(t.credit_grants, customers)
        found = [
            CreditGrant(
                row.id,
                row.customer_id,
                cast(GrantKind, row.kind),
                row.amount,
                currency(row.currency),
                from_micros(row.granted_at),
                instant(row.expires_at),
                row.priority,
                row.description,
            )
            for row in rows
        ]
        return sorted(found, key=lambda grant: (grant.customer_id, grant.granted_at, grant.id))

    def add_entries(self, entries: Sequence[LedgerEntry]) -> None:
        if not entries:
            return
        tenant_id = self._tenant_id()
        try:
            self._execute(
                insert(t.ledger_entries),
                [
                    {
                        "tenant_id": tenant_id,
                        "id": entry.id,
                        "customer_id": entry.customer_id,
                        "at": to_micros(entry.at),
                        "debit": entry.debit,
                        "credit": entry.credit,
                        "amount": entry.amount,
                        "grant_id": entry.grant_id,
                        "document": entry.document,
                        "memo": entry.memo,
                    }
                    for entry in entries
                ],
            )
        except IntegrityError:
            raise Conflict("a ledger entry of these is recorded already") from None

    def entries(self, customers: Sequence[str] | None = None) -> builtins.list[LedgerEntry]:
        rows = self._rows(t.ledger_entries, customers)
        found = [
            LedgerEntry(
                row.id,
                row.customer_id,
                from_micros(row.at),
                row.debit,
                row.credit,
                row.amount,
                row.grant_id,
                row.document,
                row.memo,
            )
            for row in rows
        ]
        return sorted(found, key=lambda entry: (entry.at, entry.id))

    def set_thresholds(self, customer: str, thresholds: Sequence[Decimal]) -> None:
        self._require(t.customers, "customer", id=customer)
        table = t.balance_thresholds
        self._execute(delete(table).where(self._mine(table), table.c.customer_id == customer))
        if thresholds:
            tenant_id = self._tenant_id()
            self._execute(
                insert(table),
                [
                    {"tenant_id": tenant_id, "customer_id": customer, "amount": amount}
                    for amount in thresholds
                ],
            )

    def thresholds(self, customers: Sequence[str]) -> dict[str, tuple[Decimal, ...]]:
        found: dict[str, builtins.list[Decimal]] = {}
        for row in self._rows(t.balance_thresholds, customers):
            found.setdefault(row.customer_id, []).append(row.amount)
        return {
            customer: tuple(sorted(amounts, reverse=True)) for customer, amounts in found.items()
        }

    def add_alerts(self, alerts: Sequence[BalanceAlert]) -> None:
        if not alerts:
            return
        tenant_id = self._tenant_id()
        try:
            self._execute(
                insert(t.balance_alerts),
                [
                    {
                        "tenant_id": tenant_id,
                        "id": alert.id,
                        "customer_id": alert.customer_id,
                        "threshold": alert.threshold,
                        "balance": alert.balance,
                        "at": to_micros(alert.at),
                        "entry_id": alert.entry_id,
                    }
                    for alert in alerts
                ],
            )
        except IntegrityError:
            raise Conflict("a balance alert of these is recorded already") from None

    def alerts(self, customers: Sequence[str] | None = None) -> builtins.list[BalanceAlert]:
        found = [
            BalanceAlert(
                row.id,
                row.customer_id,
                row.threshold,
                row.balance,
                from_micros(row.at),
                row.entry_id,
            )
            for row in self._rows(t.balance_alerts, customers)
        ]
        return sorted(found, key=lambda alert: (alert.at, alert.id))

    def _rows(self, table: Any, customers: Sequence[str] | None) -> builtins.list[Any]:
        if customers is None:
            return list(self._execute(select(table).where(self._mine(table))))
        rows: builtins.list[Any] = []
        for chunk in chunks(customers):
            statement = select(table).where(
                self._mine(table), self._among(table.c.customer_id, chunk)
            )
            rows.extend(self._execute(statement))
        return rows
