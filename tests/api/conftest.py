"""Fixtures of the API tests: a migrated store, tenants and keys, a served API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from iotbill.adapters.clock import SystemClock
from iotbill.adapters.storage.sql.engine import create_engine_for, upgrade
from iotbill.adapters.storage.sql.unit_of_work import sql_unit_of_work_factory
from iotbill.client import IotbillClient
from iotbill.services.api_keys import create_key
from iotbill.services.ports import Tenant, UnitOfWorkFactory
from tests.api.server import Server
from tests.services import postgres_schema

ALL_SCOPES = ["admin"]


class Store:
    """A migrated store with tenants ``a`` and ``b``; makes keys for them."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine_for(url)
        upgrade(self.engine)
        self.uow_factory: UnitOfWorkFactory = sql_unit_of_work_factory(self.engine)
        with self.uow_factory("default") as uow:
            for code in ("a", "b"):
                uow.tenants.add(Tenant(code, f"Tenant {code}"))
            uow.commit()

    def key(self, tenant: str, *scopes: str) -> str:
        created = create_key(
            self.uow_factory(tenant),
            name=f"{tenant} {' '.join(scopes)}",
            scopes=list(scopes or ALL_SCOPES),
            clock=SystemClock(),
        )
        return created.text

    def count_events(self, tenant: str) -> int:
        with self.uow_factory(tenant, read_only=True) as uow:
            return uow.events.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        found = Store(f"sqlite:///{tmp_path / 'api.db'}")
        yield found
        found.engine.dispose()
        return
    with postgres_schema("iotbill_api") as url:
        found = Store(url)
        yield found
        found.engine.dispose()


@pytest.fixture
def server(store: Store, tmp_path: Path) -> Iterator[Server]:
    served = Server(store.url, tmp_path / "server.log").start()
    yield served
    served.stop()


@pytest.fixture
def client_for(server: Server) -> Iterator[object]:
    made: list[IotbillClient] = []

    def make(key: str | None, **options: object) -> IotbillClient:
        client = IotbillClient(server.url, key, **options)  # type: ignore[arg-type]
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
