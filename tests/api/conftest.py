"""Fixtures of the API tests: a served API on each store, and fresh tenants for each test.

One server per store runs for the whole session (starting one costs seconds);
each test works in tenants of its own, made for it, so tests never see each
other's data, as two companies on one iotbill never do.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
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


class Store:
    """A migrated store; adds tenants and makes keys for them."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine_for(url)
        upgrade(self.engine)
        self.uow_factory: UnitOfWorkFactory = sql_unit_of_work_factory(self.engine)

    def tenant(self, label: str) -> str:
        """A new tenant, ``label`` and a unique suffix."""
        code = f"{label}-{uuid.uuid4().hex[:8]}"
        with self.uow_factory(code) as uow:
            uow.tenants.add(Tenant(code, f"Tenant {label}"))
            uow.commit()
        return code

    def key(self, tenant: str, *scopes: str, party: str | None = None) -> str:
        """A new key of ``tenant`` with ``scopes`` (none: ``admin``), acting for ``party``
        alone if given."""
        created = create_key(
            self.uow_factory(tenant),
            name=f"{' '.join(scopes) or 'admin'} key",
            scopes=list(scopes or ["admin"]),
            clock=SystemClock(),
            party=party,
        )
        return created.text

    def count_events(self, tenant: str) -> int:
        with self.uow_factory(tenant, read_only=True) as uow:
            return uow.events.count()


class Served:
    """A store and the server on it."""

    def __init__(self, store: Store, server: Server) -> None:
        self.store = store
        self.server = server
        self.url = server.url


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp(f"api-{request.param}")
    if request.param == "sqlite":
        store = Store(f"sqlite:///{folder / 'api.db'}")
        server = Server(store.url, folder / "server.log").start()
        yield Served(store, server)
        server.stop()
        store.engine.dispose()
        return
    with postgres_schema("iotbill_api") as url:
        store = Store(url)
        server = Server(store.url, folder / "server.log").start()
        yield Served(store, server)
        server.stop()
        store.engine.dispose()


@pytest.fixture
def store(served: Served) -> Store:
    return served.store


@pytest.fixture
def tenant_a(store: Store) -> str:
    return store.tenant("a")


@pytest.fixture
def tenant_b(store: Store) -> str:
    return store.tenant("b")


@pytest.fixture
def client_for(served: Served) -> Iterator[Callable[..., IotbillClient]]:
    made: list[IotbillClient] = []

    def make(key: str | None, **options: object) -> IotbillClient:
        client = IotbillClient(served.url, key, **options)  # type: ignore[arg-type]
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """A store of its own, for a test that runs a server with settings of its own."""
    store = Store(f"sqlite:///{tmp_path / 'own.db'}")
    yield store
    store.engine.dispose()
