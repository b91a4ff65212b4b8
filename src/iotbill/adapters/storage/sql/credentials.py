"""Device credentials in SQL: one row per credential issued, revoked in place."""

from __future__ import annotations

import builtins
from typing import Any

from sqlalchemy import insert, select, update

from iotbill.adapters.storage.sql import tables as t
from iotbill.adapters.storage.sql.repository import Repository, instant, micros
from iotbill.domain.device_credentials import DeviceCredential
from iotbill.domain.errors import NotFound
from iotbill.domain.periods import from_micros, to_micros


class SqlDeviceCredentialRepository(Repository):
    def add(self, credential: DeviceCredential) -> None:
        self._require(t.devices, "device", id=credential.device_id)
        self._execute(
            insert(t.device_credentials).values(
                tenant_id=self._tenant_id(),
                device_id=credential.device_id,
                issued_at=to_micros(credential.issued_at),
                username=credential.username,
                secret_hash=credential.secret_hash,
                revoked_at=micros(credential.revoked_at),
            )
        )

    def save(self, credential: DeviceCredential) -> None:
        table = t.device_credentials
        changed = self._execute(
            update(table)
            .where(
                self._mine(table),
                table.c.device_id == credential.device_id,
                table.c.issued_at == to_micros(credential.issued_at),
            )
            .values(revoked_at=micros(credential.revoked_at))
        )
        if changed.rowcount != 1:
            raise NotFound(f"unknown credential of device {credential.device_id!r}")

    def active(self, device: str) -> DeviceCredential | None:
        table = t.device_credentials
        statement = select(table).where(
            self._mine(table), table.c.device_id == device, table.c.revoked_at.is_(None)
        )
        row = self._execute(statement.order_by(table.c.issued_at.desc())).first()
        return None if row is None else _credential(row)

    def list(self, *, active_only: bool = False) -> builtins.list[DeviceCredential]:
        table = t.device_credentials
        statement = select(table).where(self._mine(table))
        if active_only:
            statement = statement.where(table.c.revoked_at.is_(None))
        rows = self._execute(statement.order_by(table.c.device_id, table.c.issued_at))
        return [_credential(row) for row in rows]


def _credential(row: Any) -> DeviceCredential:
    return DeviceCredential(
        device_id=row.device_id,
        username=row.username,
        secret_hash=row.secret_hash,
        issued_at=from_micros(row.issued_at),
        revoked_at=instant(row.revoked_at),
    )
