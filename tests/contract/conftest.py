"""The same contract suite on every store: memory, SQLite and PostgreSQL.

Each test module gets one store per kind (a fresh SQLite file, a fresh
PostgreSQL schema, migrated); each test works in a tenant of its own, so tests
never see each other's rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from iotbill.adapters.storage.memory import MemoryStore
from iotbill.adapters.storage.sql.engine import create_engine_for, upgrade
from iotbill.adapters.storage.sql.unit_of_work import sql_unit_of_work_factory
from iotbill.domain.customers import Customer, Device
from iotbill.services.ports import Tenant, UnitOfWorkFactory
from tests.services import postgres_schema

JAN_1 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module", params=["memory", "sqlite", "postgresql"])
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[UnitOfWorkFactory]:
    if request.param == "memory":
        yield MemoryStore().unit_of_work_factory()
        return
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("store") / "iotbill.db"
        yield from _sql_store(str(path))
        return
    with postgres_schema() as url:
        yield from _sql_store(url)


def _sql_store(url: str) -> Iterator[UnitOfWorkFactory]:
    engine = create_engine_for(url)
    try:
        upgrade(engine)
        yield sql_unit_of_work_factory(engine)
    finally:
        engine.dispose()


@pytest.fixture
def tenant(store: UnitOfWorkFactory) -> str:
    """A new tenant, with customers ``c1`` (USD, UTC) and ``c2`` (EUR, Berlin)."""
    code = f"t-{uuid.uuid4().hex[:10]}"
    with store("default") as uow:
        uow.tenants.add(Tenant(code, f"Tenant {code}"))
        uow.commit()
    with store(code) as uow:
        uow.customers.add(Customer.create(id="c1", name="One", currency_code="USD", timezone="UTC"))
        uow.customers.add(
            Customer.create(
                id="c2", name="Two", currency_code="EUR", timezone="Europe/Berlin", tax_rate="19"
            )
        )
        uow.commit()
    return code


def add_devices(store: UnitOfWorkFactory, tenant: str, *devices: Device) -> None:
    with store(tenant) as uow:
        for device in devices:
            uow.devices.add(device)
        uow.commit()


def device(id: str, customer: str, start: datetime = JAN_1) -> Device:
    return Device.create(id, customer, start)
