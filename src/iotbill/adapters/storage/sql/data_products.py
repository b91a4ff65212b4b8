"""Data products in SQL: consents, exports, and the cells grouped in the database.

:meth:`SqlDataRepository.tabulate` is the fast twin of
:func:`~iotbill.domain.models.data_products.tabulate`: one query groups the
product's events per cell and owner, keeps an event only while its device
consented (an interval join on ``data_consents``), and drops the cells of fewer
than ``k`` owners (the owners of a cell are its rows: ``COUNT(*) OVER`` the
cell) but for one row each, which counts them. What comes back is one row per
delivered cell and owner, which
:func:`~iotbill.domain.models.data_products.assemble` turns into cells as the
pure core does. Numbers are the ``measures`` column's integer nano-units, summed
exactly (on SQLite in 32-bit halves, as the meters are). Events that another
corrects or voids are left out, as are voids, so what counts is what the pure
core counts; the check for them is skipped when the tenant has none.
"""

from __future__ import annotations

import builtins
from dataclasses import replace
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select, text, update

from iotbill.adapters.storage.sql import tables as t
from iotbill.adapters.storage.sql.aggregation import Query
from iotbill.adapters.storage.sql.repository import Repository, instant, micros
from iotbill.domain.errors import NotFound
from iotbill.domain.models.consent import Consent
from iotbill.domain.models.data_exports import DataExport
from iotbill.domain.models.data_products import (
    DataProduct,
    OwnerRow,
    Tabulation,
    assemble,
)
from iotbill.domain.money import currency
from iotbill.domain.periods import Period, from_micros, to_micros


class SqlDataRepository(Repository):
    def consents(self, device: str | None = None) -> builtins.list[Consent]:
        table = t.data_consents
        statement = select(table).where(self._mine(table))
        if device is not None:
            statement = statement.where(table.c.device_id == device)
        rows = self._execute(statement.order_by(table.c.device_id, table.c.given_at))
        return [
            Consent(row.device_id, from_micros(row.given_at), instant(row.withdrawn_at))
            for row in rows
        ]

    def save_consent(self, consent: Consent) -> None:
        self._require(t.devices, "device", id=consent.device_id)
        table = t.data_consents
        given = to_micros(consent.given_at)
        changed = self._execute(
            update(table)
            .where(
                self._mine(table),
                table.c.device_id == consent.device_id,
                table.c.given_at == given,
            )
            .values(withdrawn_at=micros(consent.withdrawn_at))
        )
        if changed.rowcount == 0:
            self._execute(
                insert(table).values(
                    tenant_id=self._tenant_id(),
                    device_id=consent.device_id,
                    given_at=given,
                    withdrawn_at=micros(consent.withdrawn_at),
                )
            )

    def add_export(self, export: DataExport) -> None:
        self._refuse_taken(t.data_exports, "data export", export.id)
        self._require(t.customers, "customer", id=export.buyer_id)
        self._execute(
            insert(t.data_exports).values(
                tenant_id=self._tenant_id(),
                id=export.id,
                buyer_id=export.buyer_id,
                product=export.product,
                start_at=to_micros(export.start),
                end_at=to_micros(export.end),
                format=export.format,
                records=export.records,
                suppressed=export.suppressed,
                exported_at=to_micros(export.exported_at),
                revenue=export.revenue,
                currency=export.currency.code,
                charge_id=export.charge_id,
            )
        )

    def get_export(self, id: str) -> DataExport:
        table = t.data_exports
        row = self._execute(select(table).where(self._mine(table), table.c.id == id)).first()
        if row is None:
            raise NotFound(f"unknown data export {id!r}")
        return _export(row)

    def exports(self, buyer: str | None = None) -> builtins.list[DataExport]:
        table = t.data_exports
        statement = select(table).where(self._mine(table))
        if buyer is not None:
            statement = statement.where(table.c.buyer_id == buyer)
        found = [_export(row) for row in self._execute(statement)]
        return sorted(found, key=lambda export: (export.exported_at, export.id))

    def tabulate(self, product: DataProduct, window: Period) -> Tabulation:
        connection = self._connection()
        query = Query(connection.dialect.name)
        statement = cells_query(query, self._tenant_id(), product, window, self._names_any())
        span = int(product.span().total_seconds()) * 1_000_000
        rows: list[OwnerRow] = []
        suppressed = 0
        found = connection.execute(text(statement), query.parameters)
        for group, bucket, owner, high, low, events, owners in found:
            if owners < product.k:
                suppressed += 1  # the first row of a suppressed cell, which only counts it
                continue
            rows.append(
                OwnerRow(group, from_micros(bucket * span), owner, _value(high, low), events)
            )
        return replace(assemble(rows, product.k), suppressed=suppressed)

    def _names_any(self) -> bool:
        """Whether any event of the tenant corrects or voids another (one index look)."""
        table = t.usage_events
        statement = select(table.c.seq).where(self._mine(table), table.c.replaces.is_not(None))
        return self._execute(statement.limit(1)).first() is not None


def cells_query(
    query: Query, tenant_id: int, product: DataProduct, window: Period, names_any: bool
) -> str:
    """One row per delivered cell and owner: group, bucket number, owner, the value's high
    and low halves (low NULL on PostgreSQL, whose sum cannot overflow), events, and the
    cell's owners; and one row of each suppressed cell, which only counts it."""
    group = query.value(product.group_by)
    text_kind = "'text'" if query.dialect == "sqlite" else "'string'"
    is_text = f"{query.kind(product.group_by)} = {text_kind}"
    conditions = [
        f"e.tenant_id = {query.bind(tenant_id)}",
        f"e.event_type = {query.bind(product.event_type)}",
        f"e.occurred_at >= {query.bind(to_micros(window.start))}",
        f"e.occurred_at < {query.bind(to_micros(window.end))}",
        is_text,
        "EXISTS (SELECT 1 FROM data_consents c WHERE c.tenant_id = e.tenant_id "
        "AND c.device_id = e.device_id AND c.given_at <= e.occurred_at "
        "AND (c.withdrawn_at IS NULL OR e.occurred_at < c.withdrawn_at))",
    ]
    if product.property is None:
        number = "1000000000"
    else:
        number = query.number(product.property)
        conditions.append(f"{number} IS NOT NULL")
    if names_any:
        conditions.append("NOT e.is_void")
        conditions.append(
            "NOT EXISTS (SELECT 1 FROM usage_events r WHERE r.tenant_id = e.tenant_id "
            "AND r.replaces = e.event_id)"
        )
    span = int(product.span().total_seconds()) * 1_000_000
    if query.dialect == "sqlite":
        halves = f"{number} >> 32 AS high, {number} & 4294967295 AS low"
        sums = "SUM(high) AS high, SUM(low) AS low"
    else:
        halves = f"{number} AS high, NULL AS low"
        sums = "SUM(high) AS high, NULL AS low"
    consented = (
        f"SELECT {group} AS grp, e.occurred_at / {span} AS bucket, e.customer_id AS owner, "
        f"{halves} FROM usage_events e WHERE {' AND '.join(conditions)}"
    )
    per_owner = (
        f"SELECT grp, bucket, owner, {sums}, COUNT(*) AS events, "
        "COUNT(*) OVER (PARTITION BY grp, bucket) AS owners, "
        "ROW_NUMBER() OVER (PARTITION BY grp, bucket ORDER BY owner) AS place "
        f"FROM ({consented}) AS consented GROUP BY grp, bucket, owner"
    )
    return (
        "SELECT grp, bucket, owner, high, low, events, owners FROM "
        f"({per_owner}) AS per_owner WHERE owners >= {query.bind(product.k)} OR place = 1"
    )


def _value(high: Any, low: Any) -> Decimal:
    nano = int(high) if low is None else (int(high) << 32) + int(low)
    return Decimal(nano).scaleb(-9)


def _export(row: Any) -> DataExport:
    return DataExport(
        id=row.id,
        buyer_id=row.buyer_id,
        product=row.product,
        start=from_micros(row.start_at),
        end=from_micros(row.end_at),
        format=row.format,
        records=row.records,
        suppressed=row.suppressed,
        exported_at=from_micros(row.exported_at),
        revenue=Decimal(row.revenue),
        currency=currency(row.currency),
        charge_id=row.charge_id,
    )
