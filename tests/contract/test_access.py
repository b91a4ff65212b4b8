"""API keys and idempotency records: the same promises on memory, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from iotbill.adapters.clock import FrozenClock
from iotbill.domain.errors import Conflict, NotFound
from iotbill.services import api_keys, idempotency
from iotbill.services.idempotency import Answer, Claim, KeyInUse, KeyReused
from iotbill.services.ports import Tenant, UnitOfWorkFactory

NOON = datetime(2026, 3, 1, 12, tzinfo=UTC)


def other_tenant(store: UnitOfWorkFactory, tenant: str) -> str:
    code = f"{tenant}-other"
    with store("default") as uow:
        uow.tenants.add(Tenant(code, code))
        uow.commit()
    return code


def test_a_key_authenticates_for_its_tenant_until_revoked(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    clock = FrozenClock(NOON)
    created = api_keys.create_key(
        store(tenant), name="gw", scopes=["events:write", "billing:read"], clock=clock
    )
    found = api_keys.authenticate(store, created.text, "default")
    assert found is not None
    assert (found.tenant, sorted(found.scopes), found.created_at) == (
        tenant,
        ["billing:read", "events:write"],
        NOON,
    )
    wrong = created.text[:-4] + ("aaaa" if not created.text.endswith("aaaa") else "bbbb")
    assert api_keys.authenticate(store, wrong, "default") is None
    assert api_keys.authenticate(store, "not a key", "default") is None
    other = other_tenant(store, tenant)
    with pytest.raises(NotFound):
        api_keys.revoke_key(store(other), created.key.id, clock=clock)  # not its key
    assert api_keys.list_keys(store(other)) == []
    clock.advance(timedelta(minutes=5))
    revoked = api_keys.revoke_key(store(tenant), created.key.id, clock=clock)
    assert revoked.revoked_at == NOON + timedelta(minutes=5)
    assert api_keys.authenticate(store, created.text, "default") is None
    with pytest.raises(Conflict):
        api_keys.revoke_key(store(tenant), created.key.id, clock=clock)
    assert [key.id for key in api_keys.list_keys(store(tenant))] == [created.key.id]


def test_an_idempotency_key_runs_once_then_replays(store: UnitOfWorkFactory, tenant: str) -> None:
    clock = FrozenClock(NOON)
    lease = timedelta(seconds=60)
    first = idempotency.claim(store, tenant, "k1", "f1", clock=clock, lease=lease)
    assert isinstance(first, Claim)
    with pytest.raises(KeyInUse) as running:  # the first attempt holds it: 60 s left, + 1
        idempotency.claim(store, tenant, "k1", "f1", clock=clock, lease=lease)
    assert running.value.retry_after == 61
    with pytest.raises(KeyReused):
        idempotency.claim(store, tenant, "k1", "f2", clock=clock, lease=lease)
    answer = Answer(201, "application/json", '{"id": "x"}')
    idempotency.complete(store, tenant, first, answer)
    assert idempotency.claim(store, tenant, "k1", "f1", clock=clock, lease=lease) == answer
    # Another tenant's same key is another key.
    other = other_tenant(store, tenant)
    assert isinstance(idempotency.claim(store, other, "k1", "f9", clock=clock), Claim)
    # Kept 24 hours, then forgotten: the key runs again.
    clock.advance(timedelta(hours=24, seconds=1))
    assert isinstance(idempotency.claim(store, tenant, "k1", "f2", clock=clock), Claim)


def test_a_dead_attempt_holds_its_key_until_its_lease_ends(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    clock = FrozenClock(NOON)
    lease = timedelta(seconds=2)
    dead = idempotency.claim(store, tenant, "k2", "f", clock=clock, lease=lease)
    assert isinstance(dead, Claim)
    clock.advance(timedelta(seconds=1))
    with pytest.raises(KeyInUse):
        idempotency.claim(store, tenant, "k2", "f", clock=clock, lease=lease)
    clock.advance(timedelta(seconds=2))  # the lease ended at NOON + 2 s
    retry = idempotency.claim(store, tenant, "k2", "f", clock=clock, lease=lease)
    assert isinstance(retry, Claim) and retry.token != dead.token
    idempotency.complete(store, tenant, dead, Answer(200, "application/json", "late"))
    idempotency.complete(store, tenant, retry, Answer(200, "application/json", "{}"))
    replay = idempotency.claim(store, tenant, "k2", "f", clock=clock, lease=lease)
    assert replay == Answer(200, "application/json", "{}")  # the dead attempt records nothing


def test_a_failed_attempt_lets_its_key_go(store: UnitOfWorkFactory, tenant: str) -> None:
    clock = FrozenClock(NOON)
    failed = idempotency.claim(store, tenant, "k3", "f", clock=clock)
    assert isinstance(failed, Claim)
    idempotency.release(store, tenant, failed)
    assert isinstance(idempotency.claim(store, tenant, "k3", "f", clock=clock), Claim)
