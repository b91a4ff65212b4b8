"""The SQL repository of devices, with the history of their owners.

Each repository reads and writes only its unit of work's tenant. Adding an id
that exists is a :class:`Conflict`; naming a customer, device, plan version or
invoice that does not exist is :class:`NotFound` (checked before writing, so
the message names what is missing; the foreign keys stay as the last guard).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from iotbill.adapters.storage.sql import tables as t
from iotbill.adapters.storage.sql.repository import (
    Repository,
    chunks,
    micros,
    postgresql_in,
)
from iotbill.domain.customers import Device, Ownership
from iotbill.domain.errors import NotFound
from iotbill.domain.periods import from_micros, to_micros
from iotbill.services.ports import Paging


class SqlDeviceRepository(Repository):
    def add(self, device: Device) -> None:
        self._refuse_taken(t.devices, "device", device.id)
        self._require_owners([device])  # before any row: a refused device leaves none
        self._execute(
            insert(t.devices).values(
                tenant_id=self._tenant_id(), id=device.id, retired_at=micros(device.retired_at)
            )
        )
        self._insert_owners(device)

    def add_many(self, devices: Sequence[Device]) -> None:
        self._refuse_any_taken(t.devices, "device", [device.id for device in devices])
        self._require_owners(devices)
        if not devices:
            return
        tenant = self._tenant_id()
        self._executemany(
            "INSERT INTO devices (tenant_id, id) VALUES (?, ?)",
            [(tenant, device.id) for device in devices],
        )
        ownerships = [
            (tenant, device.id, to_micros(entry.start), entry.customer_id)
            for device in devices
            for entry in device.ownership
        ]
        self._executemany(
            "INSERT INTO device_owners (tenant_id, device_id, valid_from, customer_id)"
            " VALUES (?, ?, ?, ?)",
            ownerships,
        )
        self._grow_history(len(ownerships))

    def save(self, device: Device) -> None:
        self._require(t.devices, "device", id=device.id)
        self._require_owners([device])  # before the history goes: a refused move keeps it
        owners, devices = t.device_owners, t.devices
        removed = self._execute(
            delete(owners).where(self._mine(owners), owners.c.device_id == device.id)
        ).rowcount
        self._insert_owners(device, removed)
        self._execute(
            update(devices)
            .where(self._mine(devices), devices.c.id == device.id)
            .values(retired_at=micros(device.retired_at))
        )

    def _require_owners(self, devices: Sequence[Device]) -> None:
        """:class:`NotFound` naming a customer that one of ``devices`` names and the tenant
        does not have, if any."""
        owners = {entry.customer_id for device in devices for entry in device.ownership}
        for chunk in chunks(owners):
            statement = select(t.customers.c.id).where(
                self._mine(t.customers), self._among(t.customers.c.id, chunk)
            )
            missing = set(chunk) - set(self._execute(statement).scalars())
            if missing:
                raise NotFound(f"unknown customer {min(missing)!r}")

    def _insert_owners(self, device: Device, removed: int = 0) -> None:
        """Store the device's ownerships (its customers checked), ``removed`` of its rows
        having been deleted."""
        self._execute(
            insert(t.device_owners),
            [
                {
                    "tenant_id": self._tenant_id(),
                    "device_id": device.id,
                    "valid_from": to_micros(entry.start),
                    "customer_id": entry.customer_id,
                }
                for entry in device.ownership
            ],
        )
        self._grow_history(len(device.ownership) - removed)

    def _grow_history(self, rows: int) -> None:
        """Add ``rows`` to the tenant's :meth:`history_length` (the rows of
        ``device_owners`` written less those deleted), in the same transaction."""
        if not rows:
            return
        table = t.device_history
        dialect = postgresql if self._connection().dialect.name == "postgresql" else sqlite
        statement = dialect.insert(table).values(tenant_id=self._tenant_id(), length=rows)
        self._execute(
            statement.on_conflict_do_update(
                index_elements=[table.c.tenant_id],
                set_={"length": table.c.length + statement.excluded.length},
            )
        )

    def get(self, id: str) -> Device:
        found = self.find([id])
        if id not in found:
            raise NotFound(f"unknown device {id!r}")
        return found[id]

    def find(self, ids: Sequence[str]) -> dict[str, Device]:
        return _devices(self._rows_in(_OWNERS, ids), self._rows_in(_RETIRED, ids))

    def find_counted(self, ids: Sequence[str]) -> tuple[int, dict[str, Device]]:
        """On PostgreSQL the count and the two reads of :meth:`find` in one round trip
        (psycopg's pipeline), the count read first."""
        connection = self._connection()
        if connection.dialect.name != "postgresql":
            return self.history_length(), self.find(ids)
        tenant = self._tenant_id()
        if not connection.in_transaction():
            connection.begin()  # the driver is used directly below: make sure it is in one
        driver: Any = connection.connection.dbapi_connection
        chosen = [tenant, sorted(set(ids))]
        with (
            driver.pipeline(),
            driver.cursor() as counted,
            driver.cursor() as owners,
            driver.cursor() as retired,
        ):
            counted.execute(_COUNT_OWNERS, [tenant])
            owners.execute(postgresql_in(_OWNERS), chosen)
            retired.execute(postgresql_in(_RETIRED), chosen)
            found = _devices(owners.fetchall(), retired.fetchall())
            count = counted.fetchone()
        assert count is not None
        return int(count[0]), found

    def history_length(self) -> int:
        """Read from ``device_history``: one row, not a count of the fleet's ownerships."""
        history = t.device_history
        statement = select(history.c.length).where(self._mine(history))
        return int(self._execute(statement).scalar() or 0)

    def hold(self, *, to_move: bool = False) -> None:
        """On PostgreSQL, the tenant's advisory lock until the transaction ends: shared to
        store events, exclusive to move. SQLite runs one writing transaction at a time."""
        if self._connection().dialect.name == "postgresql":
            lock = "pg_advisory_xact_lock" if to_move else "pg_advisory_xact_lock_shared"
            key = _devices_lock(self._tenant_id())
            self._execute(text(f"SELECT {lock}(hashtextextended(:key, 0))"), {"key": key})

    def hold_counted(self) -> int:
        """On PostgreSQL the transaction's ``BEGIN``, the shared lock and the count go in
        one round trip (psycopg's pipeline): the server runs them in turn, so the count,
        a statement of its own, reads what committed before the lock was held."""
        connection = self._connection()
        if connection.dialect.name != "postgresql":
            return self.history_length()
        tenant = self._tenant_id()
        if not connection.in_transaction():
            connection.begin()  # the driver is used directly below: make sure it is in one
        driver: Any = connection.connection.dbapi_connection
        with driver.pipeline(), driver.cursor() as cursor:
            lock = "SELECT pg_advisory_xact_lock_shared(hashtextextended(%s, 0))"
            cursor.execute(lock, [_devices_lock(tenant)])
            cursor.execute(_COUNT_OWNERS, [tenant])
            row = cursor.fetchone()
        assert row is not None
        return int(row[0])

    def list(self, customer: str | None = None, paging: Paging[str] | None = None) -> list[Device]:
        devices, owners = t.devices, t.device_owners
        statement = select(devices.c.id).where(self._mine(devices))
        if customer is not None:
            owned = select(owners.c.device_id).where(
                self._mine(owners), owners.c.customer_id == customer
            )
            statement = statement.where(devices.c.id.in_(owned))
        ids = list(self._execute(self._page(statement, [devices.c.id], paging)).scalars())
        found = self.find(ids)
        return [found[device_id] for device_id in ids]


_OWNERS = (
    "SELECT device_id, valid_from, customer_id FROM device_owners"
    " WHERE tenant_id = ? AND device_id IN ({})"
)
"""The owners of some devices (for ``_rows_in``)."""
_RETIRED = (
    "SELECT id, retired_at FROM devices WHERE tenant_id = ? AND retired_at IS NOT NULL"
    " AND id IN ({})"
)
"""The retired among some devices, with when (for ``_rows_in``). Apart from the owners:
joined to them, a table without statistics yet is read once per owner."""
_COUNT_OWNERS = "SELECT COALESCE((SELECT length FROM device_history WHERE tenant_id = %s), 0)"
"""The tenant's :meth:`~SqlDeviceRepository.history_length` (PostgreSQL, by the driver)."""


def _devices(owners: list[Any], retired: list[Any]) -> dict[str, Device]:
    """The devices of the rows of :data:`_OWNERS` and :data:`_RETIRED`."""
    histories: dict[str, list[tuple[str, int]]] = {}
    owners.sort(key=lambda row: (row[0], row[1]))  # by device, then start: the history
    for device_id, valid_from, customer_id in owners:
        histories.setdefault(device_id, []).append((customer_id, valid_from))
    retired_at = dict(retired)
    return {
        device_id: _device(device_id, tuple(history), retired_at.get(device_id))
        for device_id, history in histories.items()
    }


@lru_cache(maxsize=1 << 16)
def _device(id: str, history: tuple[tuple[str, int], ...], retired_at: int | None) -> Device:
    """The device of these stored values. A device is an immutable value, so a device read
    again unchanged is the one built (and checked) before: a batch of events names the
    same devices request after request."""
    return Device(
        id,
        tuple(Ownership(customer, from_micros(start)) for customer, start in history),
        None if retired_at is None else from_micros(retired_at),
    )


def _devices_lock(tenant_id: int) -> str:
    """The name of the advisory lock on a tenant's devices (PostgreSQL)."""
    return f"iotbill devices of tenant {tenant_id}"
