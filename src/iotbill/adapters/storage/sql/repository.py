"""What every SQL repository shares: the tenant's connection, and small conversions."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, and_, func, select

from iotbill.domain.errors import Conflict, NotFound
from iotbill.domain.periods import from_micros, to_micros

CHUNK = 10_000  # ids per IN (...) list, well under SQLite's parameter limit


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

    def _mine(self, table: Table) -> Any:
        return table.c.tenant_id == self._tenant_id()


def micros(moment: datetime | None) -> int | None:
    """An optional instant as microseconds since the epoch, as the tables keep it."""
    return None if moment is None else to_micros(moment)


def instant(value: int | None) -> datetime | None:
    """Optional microseconds since the epoch as an instant."""
    return None if value is None else from_micros(value)
