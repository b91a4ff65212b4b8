"""Invoice and credit-note lines as rows: rounded minor units beside every exact figure."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, cast

import msgspec
from sqlalchemy import Connection, Table

from iotbill.adapters.storage.sql.tables import ExactDecimal
from iotbill.domain.invoicing import InvoiceLine, LineKind
from iotbill.domain.money import Currency, to_minor_units
from iotbill.domain.pricing import Detail
from iotbill.domain.quantities import decimal_text

_DETAIL_FIELDS = tuple(field.name for field in dataclasses.fields(Detail))
_TEXT_FIELDS = frozenset({"kind", "note"})


class DetailTexts:
    """The stored text of lines' details, each tuple of details encoded once: lines that
    are the same object (a plan's fee line, remembered for every subscription billed it)
    share their details, and writing a bill run's invoices encoded them again for each."""

    def __init__(self) -> None:
        self._texts: dict[int, tuple[tuple[Detail, ...], str]] = {}

    def of(self, details: tuple[Detail, ...]) -> str:
        known = self._texts.get(id(details))
        if known is not None and known[0] is details:
            return known[1]
        text = msgspec.json.encode([_detail_json(detail) for detail in details]).decode()
        self._texts[id(details)] = (details, text)  # kept: its id is not reused meanwhile
        return text


def line_rows(
    tenant_id: int,
    owner_column: str,
    owner_id: str,
    lines: Sequence[InvoiceLine],
    money: Currency,
    texts: DetailTexts | None = None,
) -> list[dict[str, Any]]:
    texts = DetailTexts() if texts is None else texts
    return [
        {
            "tenant_id": tenant_id,
            owner_column: owner_id,
            "position": position,
            "charge": line.charge,
            "kind": line.kind,
            "description": line.description,
            "group_label": line.group,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "exact_amount": line.exact_amount,
            "amount_minor": to_minor_units(line.amount, money),
            "detail": texts.of(line.detail),
        }
        for position, line in enumerate(lines)
    ]


def copy_rows(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Write ``rows`` (of ``table``, all with the same keys) with PostgreSQL's ``COPY``: one
    statement, where an ``INSERT`` per row costs the server a round of work each (a bill
    run of 10,000 subscriptions writes some 20,000 invoices and 30,000 lines)."""
    names = list(rows[0])
    binders = [
        column.type.process_bind_param if isinstance(column.type, ExactDecimal) else None
        for column in (table.c[name] for name in names)
    ]
    if not connection.in_transaction():
        connection.begin()
    driver: Any = connection.connection.dbapi_connection  # psycopg's, for its COPY
    statement = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(
                [
                    value if bind is None else bind(value, connection.dialect)
                    for bind, value in zip(binders, row.values(), strict=True)
                ]
            )


def insert_rows(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Write ``rows`` (of ``table``, all with the same keys) in one statement on PostgreSQL
    (:func:`copy_rows`), in one ``executemany`` straight on the driver's cursor on SQLite:
    each value bound as SQLAlchemy binds it, without its per-row work (a third of the time
    of writing a bill run's invoices). A duplicate key raises the driver's IntegrityError."""
    if connection.dialect.name == "postgresql":
        copy_rows(connection, table, rows)
        return
    names = list(rows[0])
    binders = [table.c[name].type.bind_processor(connection.dialect) for name in names]
    quote = connection.dialect.identifier_preparer.quote
    statement = (
        f"INSERT INTO {quote(table.name)} ({', '.join(map(quote, names))})"
        f" VALUES ({', '.join('?' for _ in names)})"
    )
    values = [list(row.values()) for row in rows]
    for position, bind in enumerate(binders):
        if bind is not None:
            for row_values in values:
                row_values[position] = bind(row_values[position])
    connection.exec_driver_sql(statement, [tuple(row_values) for row_values in values])


def line_from_row(row: Any, money: Currency) -> InvoiceLine:
    return InvoiceLine(
        charge=row.charge,
        kind=cast(LineKind, row.kind),
        description=row.description,
        quantity=row.quantity,
        unit_price=row.unit_price,
        exact_amount=row.exact_amount,
        amount=Decimal(row.amount_minor).scaleb(-money.minor_units),
        group=row.group_label,
        detail=tuple(_detail(item) for item in msgspec.json.decode(row.detail)),
    )


def _detail_json(detail: Detail) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name in _DETAIL_FIELDS:
        value = getattr(detail, name)
        if value is not None:
            result[name] = decimal_text(value) if isinstance(value, Decimal) else value
    return result


def _detail(data: dict[str, Any]) -> Detail:
    values = {
        name: value if name in _TEXT_FIELDS or isinstance(value, int) else Decimal(value)
        for name, value in data.items()
    }
    return Detail(**cast(dict[str, Any], values))
