"""Data products in SQL: consents, exports, and the cells grouped in the database.

:meth:`SqlDataRepository.tabulate` is the fast twin of
:func:`~iotbill.domain.models.data_products.tabulate`: one query groups the
product's events per cell and owner (materialized once), keeping an event only
while its device consented (an interval join on ``data_consents``: a device's
consents never overlap, so an event meets at most one); the owners of a cell are
its rows (``COUNT(*) OVER`` the cell). From those rows, in the same query, come
the delivered cells (of at least ``k`` owners), the events each owner
contributed to them, and how many cells were suppressed: the database does all
the grouping, and only the cells and owners cross to Python. Numbers are the
``measures`` column's integer nano-units, summed exactly (on SQLite in 32-bit
halves, as the meters are). Events that another corrects or voids are left out,
as are voids, so what counts is what the pure
core counts; the check for them is skipped when the tenant has none.

On PostgreSQL the query runs without nested loops: a table filled moments ago
(events just ingested, consents just given) has statistics that say it is
nearly empty, and the planner then joins each event to the consents one by one,
scanning them whole each time (14 s instead of a fraction of one for 20,000
events). A hash join on the device is right at every size this query meets.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
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
    Cell,
    DataProduct,
    Tabulation,
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

    def add_export(self, export: DataExport, cells: Sequence[Cell] = ()) -> None:
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
        if cells:
            self._execute(
                insert(t.data_export_cells),
                [
                    {
                        "tenant_id": self._tenant_id(),
                        "export_id": export.id,
                        "position": position,
                        "grp": cell.group,
                        "bucket": to_micros(cell.bucket),
                        "value": cell.value,
                        "events": cell.events,
                        "owners": cell.owners,
                    }
                    for position, cell in enumerate(cells)
                ],
            )

    def export_cells(self, id: str) -> tuple[Cell, ...]:
        table = t.data_export_cells
        statement = select(table).where(self._mine(table), table.c.export_id == id)
        rows = self._execute(statement.order_by(table.c.position))
        return tuple(
            Cell(row.grp, from_micros(row.bucket), row.value, row.events, row.owners)
            for row in rows
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
        postgresql = connection.dialect.name == "postgresql"
        if postgresql:  # see the module: a hash join, whatever the statistics say
            connection.execute(text("SET LOCAL enable_nestloop = off"))
        found = connection.execute(text(statement), query.parameters).all()
        if postgresql:
            connection.execute(text("SET LOCAL enable_nestloop = DEFAULT"))
        cells: list[Cell] = []
        contributions: list[tuple[str, int]] = []
        suppressed = 0
        for kind, group, bucket, owner, high, low, events, owners in found:
            if kind == "c":
                value = _value(high, low)
                cells.append(Cell(group, from_micros(bucket * span), value, events, owners))
            elif kind == "o":
                contributions.append((owner, int(events)))
            else:
                suppressed = int(events)
        cells.sort(key=lambda cell: (cell.bucket, cell.group))
        return Tabulation(tuple(cells), suppressed, tuple(sorted(contributions)))

    def _names_any(self) -> bool:
        """Whether any event of the tenant corrects or voids another (one index look)."""
        table = t.usage_events
        statement = select(table.c.seq).where(self._mine(table), table.c.replaces.is_not(None))
        return self._execute(statement.limit(1)).first() is not None


def cells_query(
    query: Query, tenant_id: int, product: DataProduct, window: Period, names_any: bool
) -> str:
    """Rows of three kinds: ``c``, a delivered cell (group, bucket number, the value's high
    and low halves, low NULL on PostgreSQL, whose sum cannot overflow, events, owners);
    ``o``, an owner and the events it contributed to the delivered cells; ``s``, how many
    cells were suppressed (in the events column)."""
    group = query.value(product.group_by)
    text_kind = "'text'" if query.dialect == "sqlite" else "'string'"
    is_text = f"{query.kind(product.group_by)} = {text_kind}"
    conditions = [
        f"e.tenant_id = {query.bind(tenant_id)}",
        f"e.event_type = {query.bind(product.event_type)}",
        f"e.occurred_at >= {query.bind(to_micros(window.start))}",
        f"e.occurred_at < {query.bind(to_micros(window.end))}",
        is_text,
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
        sums = "SUM(high) AS high, CAST(NULL AS BIGINT) AS low"
    consented = (
        f"SELECT {group} AS grp, e.occurred_at / {span} AS bucket, e.customer_id AS owner, "
        f"{halves} FROM usage_events e JOIN data_consents c ON c.tenant_id = e.tenant_id "
        "AND c.device_id = e.device_id AND c.given_at <= e.occurred_at "
        "AND (c.withdrawn_at IS NULL OR e.occurred_at < c.withdrawn_at) "
        f"WHERE {' AND '.join(conditions)}"
    )
    per_owner = (
        f"SELECT grp, bucket, owner, {sums}, COUNT(*) AS events, "
        "COUNT(*) OVER (PARTITION BY grp, bucket) AS owners "
        f"FROM ({consented}) AS consented GROUP BY grp, bucket, owner"
    )
    k = query.bind(product.k)
    return (
        f"WITH per_owner AS MATERIALIZED ({per_owner}), "
        f"kept AS (SELECT * FROM per_owner WHERE owners >= {k}) "
        "SELECT 'c', grp, bucket, NULL, SUM(high), SUM(low), SUM(events), MAX(owners) "
        "FROM kept GROUP BY grp, bucket "
        "UNION ALL SELECT 'o', NULL, NULL, owner, NULL, NULL, SUM(events), NULL "
        "FROM kept GROUP BY owner "
        "UNION ALL SELECT 's', NULL, NULL, NULL, NULL, NULL, COUNT(*), NULL FROM "
        f"(SELECT grp, bucket FROM per_owner WHERE owners < {k} GROUP BY grp, bucket) AS hidden"
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
