"""What every SQL repository shares: the tenant's connection, and small conversions."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    Connection,
    String,
    Table,
    and_,
    any_,
    bindparam,
    func,
    select,
    tuple_,
)

from iotbill.domain.errors import Conflict, NotFound
from iotbill.domain.periods import from_micros, to_micros
from iotbill.services.ports import Paging

CHUNK = 10_000  # ids per IN (...) list, well under SQLite's parameter limit
_TEXTS = ARRAY(String)
"""The type of :meth:`Repository._among`'s array: one instance, whose cache key SQLAlchemy
computes once (a new one per statement costs it that work each time)."""


def chunks(values: Iterable[str]) -> Iterator[list[str]]:
    """``values``, sorted and without repeats, in lists of at most ``CHUNK``."""
    unique = sorted(set(values))
    for start in range(0, len(unique), CHUNK):
        yield unique[start : start + CHUNK]


class Repository:
    """A repository of one tenant's rows, on the unit of work's connection."""

    def __init__(self, connection: Callable[[], Connection], tenant_id: Callable[[], int]):
        self._connection = connection
        self._tenant_id = tenant_id

    def _execute(self, statement: Any, parameters: Any = None) -> Any:
        return self._connection().execute(statement, parameters)

    def _executemany(self, statement: str, rows: list[tuple[Any, ...]]) -> None:
        """Run ``statement`` (``?`` placeholders) once per row, straight on the driver's
        cursor: for many rows, several times quicker than building each row's
        parameters through SQLAlchemy. Values must be what the driver stores as is."""
        connection = self._connection()
        if connection.dialect.name == "postgresql":
            statement = statement.replace("?", "%s")
        cursor = connection.connection.cursor()
        try:
            cursor.executemany(statement, rows)
        except connection.dialect.loaded_dbapi.IntegrityError as error:
            # Another transaction stored a row first, since this one checked.
            raise Conflict(f"a row is already stored ({str(error).strip()})") from None
        finally:
            cursor.close()

    def _exists(self, table: Table, **key: Any) -> bool:
        conditions = [table.c.tenant_id == self._tenant_id()]
        conditions += [table.c[name] == value for name, value in key.items()]
        found = self._execute(select(func.count()).select_from(table).where(and_(*conditions)))
        return bool(found.scalar_one())

    def _require(self, table: Table, what: str, **key: Any) -> None:
        if not self._exists(table, **key):
            raise NotFound(f"unknown {what} {' '.join(map(str, key.values()))!r}")

    def _refuse_taken(self, table: Table, what: str, id: str) -> None:
        if self._exists(table, id=id):
            raise Conflict(f"{what} {id!r} already exists")

    def _refuse_any_taken(self, table: Table, what: str, ids: Iterable[str]) -> None:
        """:class:`Conflict` naming one of ``ids`` that ``table`` holds already, if any."""
        query = f"SELECT id FROM {table.name} WHERE tenant_id = ? AND id IN ({{}})"
        taken = self._rows_in(query, ids)
        if taken:
            raise Conflict(f"{what} {min(taken)[0]!r} already exists")

    def _rows_in(self, query: str, ids: Iterable[str]) -> list[Any]:
        """The rows of ``query`` for ``ids``, on the driver's cursor.

        ``query`` takes the tenant's id as its first ``?`` and ends with
        ``IN ({})``. On SQLite a chunk's placeholders go there, a chunk at a
        time; on PostgreSQL one array parameter, ``= ANY(...)``, as in
        :meth:`_among`. For many ids several times quicker than an expanding
        ``IN`` built by SQLAlchemy.
        """
        connection = self._connection()
        tenant = self._tenant_id()
        cursor = connection.connection.cursor()
        try:
            if connection.dialect.name == "postgresql":
                statement = postgresql_in(query)
                cursor.execute(statement, [tenant, sorted(set(ids))])
                return list(cursor.fetchall())
            found: list[Any] = []
            for chunk in chunks(ids):
                cursor.execute(query.format(",".join("?" * len(chunk))), [tenant, *chunk])
                found.extend(cursor.fetchall())
            return found
        finally:
            cursor.close()

    def _page(self, statement: Any, keys: Sequence[Any], paging: Paging[Any] | None) -> Any:
        """``statement`` in the order of the columns ``keys`` and, if ``paging``, only its
        page: the rows whose keys come after ``paging.after`` (a value for one key, a tuple
        for several), at most ``paging.limit``. Text is ordered by code point, as Python
        orders it (on PostgreSQL whatever the database's collation), so a store's page is
        the same as the memory store's."""
        postgresql = self._connection().dialect.name == "postgresql"
        ordered = [
            key.collate("C") if postgresql and isinstance(key.type, String) else key for key in keys
        ]
        statement = statement.order_by(*ordered)
        if paging is None:
            return statement
        if paging.after is not None:
            after = paging.after if len(keys) > 1 else (paging.after,)
            statement = statement.where(tuple_(*ordered) > tuple_(*after))
        return statement.limit(paging.limit)

    def _mine(self, table: Table) -> Any:
        return table.c.tenant_id == self._tenant_id()

    def _among(self, column: Any, values: list[str]) -> Any:
        """``column IN values``. On PostgreSQL one array parameter, ``= ANY(...)``: a list
        of thousands of placeholders costs more to send, convert and plan than to run."""
        if self._connection().dialect.name == "postgresql":
            return column == any_(bindparam(None, values, type_=_TEXTS))
        return column.in_(values)


def postgresql_in(query: str) -> str:
    """A query of :meth:`Repository._rows_in` as the driver takes it on PostgreSQL: ``?``
    placeholders, and its ids as one array.

    >>> postgresql_in("SELECT id FROM t WHERE tenant_id = ? AND id IN ({})")
    'SELECT id FROM t WHERE tenant_id = %s AND id = ANY(%s)'
    """
    return query.replace("IN ({})", "= ANY(?)").replace("?", "%s")


def micros(moment: datetime | None) -> int | None:
    """An optional instant as microseconds since the epoch, as the tables keep it."""
    return None if moment is None else to_micros(moment)


def instant(value: int | None) -> datetime | None:
    """Optional microseconds since the epoch as an instant."""
    return None if value is None else from_micros(value)
