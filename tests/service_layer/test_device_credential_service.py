"""Device credentials on every store: shown once, stored hashed, one active per device."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from iotbill.domain.customers import Customer, Device
from iotbill.domain.device_credentials import secret_matches
from iotbill.domain.errors import Conflict, InvalidInput, NotFound
from iotbill.services.device_credentials import (
    broker_credentials,
    issue_credential,
    list_credentials,
    revoke_credential,
)
from iotbill.services.ports import UnitOfWorkFactory
from tests.service_layer.conftest import NewUnitOfWork

AT = datetime(2026, 1, 10, 9, 30, tzinfo=UTC)


@pytest.fixture
def with_device(uow: NewUnitOfWork) -> NewUnitOfWork:
    with uow() as unit:
        unit.customers.add(
            Customer.create(id="c1", name="One", currency_code="EUR", timezone="UTC")
        )
        unit.devices.add(Device.create("pump-1", "c1", datetime(2026, 1, 1, tzinfo=UTC)))
        unit.devices.add(Device.create("pump 2", "c1", datetime(2026, 1, 1, tzinfo=UTC)))
        unit.commit()
    return uow


def test_the_secret_is_returned_once_and_only_its_hash_is_stored(
    with_device: NewUnitOfWork,
) -> None:
    issued = issue_credential(with_device(), "pump-1", at=AT, secret_source=lambda: "s3cret-256")
    tenant = with_device().tenant
    assert issued.secret == "s3cret-256"
    assert issued.credential.username == f"{tenant}/pump-1"
    [stored] = list_credentials(with_device())
    assert stored == issued.credential
    assert "s3cret-256" not in stored.secret_hash
    assert stored.secret_hash.startswith("$7$101$")
    assert secret_matches("s3cret-256", stored.secret_hash)
    assert not secret_matches("s3cret-257", stored.secret_hash)


def test_one_active_credential_per_device_unless_replaced(with_device: NewUnitOfWork) -> None:
    first = issue_credential(with_device(), "pump-1", at=AT)
    with pytest.raises(Conflict, match=r"has an active credential.*--replace"):
        issue_credential(with_device(), "pump-1", at=AT + timedelta(hours=1))
    later = AT + timedelta(hours=2)
    second = issue_credential(with_device(), "pump-1", at=later, replace=True)
    assert first.secret != second.secret
    history = list_credentials(with_device())
    assert [(c.issued_at, c.revoked_at) for c in history] == [(AT, later), (later, None)]
    assert list_credentials(with_device(), active_only=True) == [second.credential]


def test_revoking(with_device: NewUnitOfWork) -> None:
    issue_credential(with_device(), "pump-1", at=AT)
    revoked = revoke_credential(with_device(), "pump-1", at=AT + timedelta(days=1))
    assert revoked.revoked_at == AT + timedelta(days=1)
    assert list_credentials(with_device(), active_only=True) == []
    with pytest.raises(NotFound, match="device 'pump-1' has no active credential"):
        revoke_credential(with_device(), "pump-1", at=AT + timedelta(days=2))


def test_names_that_cannot_be_topic_levels_and_unknown_devices_are_refused(
    with_device: NewUnitOfWork,
) -> None:
    with pytest.raises(InvalidInput) as refused:
        issue_credential(with_device(), "pump 2", at=AT)
    assert str(refused.value) == (
        "device: 'pump 2' contains ' ', which an MQTT topic level or the broker's password"
        " file cannot hold (use letters, digits, '-', '_' and '.')"
    )
    with pytest.raises(NotFound, match="unknown device 'pump-9'"):
        issue_credential(with_device(), "pump-9", at=AT)
    assert list_credentials(with_device()) == []


def test_the_broker_admits_every_tenants_active_credentials(
    store: UnitOfWorkFactory, with_device: NewUnitOfWork
) -> None:
    issued = issue_credential(with_device(), "pump-1", at=AT)
    tenant = with_device().tenant
    found = [c for c in broker_credentials(store, "default") if c.tenant == tenant]
    assert [(c.tenant, c.credential) for c in found] == [(tenant, issued.credential)]
    revoke_credential(with_device(), "pump-1", at=AT)
    assert [c for c in broker_credentials(store, "default") if c.tenant == tenant] == []
