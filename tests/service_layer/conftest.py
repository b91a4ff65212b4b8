"""The use cases on every store: memory, SQLite and PostgreSQL (the contract suite's stores).

Each test gets a tenant of its own, with nothing in it, and ``uow()`` opens a
new unit of work on it, as the command line does for each command.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from iotbill.adapters.clock import FrozenClock
from iotbill.services.ports import Tenant, UnitOfWork, UnitOfWorkFactory
from tests.contract.conftest import store

__all__ = ["clock", "store", "uow"]

NewUnitOfWork = Callable[[], UnitOfWork]


@pytest.fixture
def uow(store: UnitOfWorkFactory) -> NewUnitOfWork:
    code = f"s-{uuid.uuid4().hex[:10]}"
    with store("default") as unit:
        unit.tenants.add(Tenant(code, f"Tenant {code}"))
        unit.commit()
    return lambda: store(code)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 1, 10, 9, 30, tzinfo=UTC))
