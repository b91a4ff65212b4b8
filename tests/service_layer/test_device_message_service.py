"""Device messages through the ingest service: each stored once, or refused with its reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from iotbill.adapters.clock import FrozenClock
from iotbill.adapters.event_files import decode_event
from iotbill.domain.customers import Customer, Device
from iotbill.services.device_messages import store_messages
from iotbill.services.ports import DeviceMessage, MessageRejection, UnitOfWorkFactory
from tests.service_layer.conftest import NewUnitOfWork


@pytest.fixture
def tenant(uow: NewUnitOfWork) -> str:
    with uow() as unit:
        unit.customers.add(
            Customer.create(id="c1", name="One", currency_code="EUR", timezone="UTC")
        )
        unit.devices.add(Device.create("pump-1", "c1", datetime(2026, 1, 1, tzinfo=UTC)))
        unit.commit()
        return unit.tenant


def message(tenant: str, device: str, id: str, named: str | None = None) -> DeviceMessage:
    body = {"id": id, "type": "pump.flow", "device": named or device,
            "timestamp": "2026-01-09T12:00:00Z", "properties": {"m3": "0.1"}}  # fmt: skip
    return DeviceMessage(f"iotbill/{tenant}/devices/{device}/events", json.dumps(body).encode())


def test_each_event_is_stored_once_and_each_refusal_names_its_message(
    store: UnitOfWorkFactory, uow: NewUnitOfWork, tenant: str, clock: FrozenClock
) -> None:
    open_uow = store
    batch = [
        message(tenant, "pump-1", "e1"),
        message(tenant, "pump-1", "e2"),
        DeviceMessage(f"iotbill/{tenant}/devices/pump-1/events", b"[]"),
        message(tenant, "pump-1", "e3", named="pump-2"),
        message(tenant, "ghost", "g1"),
        message("nobody", "pump-1", "n1"),
        DeviceMessage(f"iotbill/{tenant}/devices/pump-1/events", b"x" * 151),
        message(tenant, "pump-1", "e1"),  # a repeat in the same batch
    ]
    report = store_messages(open_uow, batch, clock=clock, decode=decode_event, max_payload=150)
    assert (report.stored, report.duplicates) == (2, 1), report
    assert report.rejected == [
        MessageRejection(2, tenant, "pump-1", None, "must be an object, got a list"),
        MessageRejection(
            3,
            tenant,
            "pump-1",
            "e3",
            "device: the event names device 'pump-2', but was published on the topic of"
            " device 'pump-1' (a device reports only for itself)",
        ),
        MessageRejection(4, tenant, "ghost", "g1", "device: unknown device 'ghost' (add it first)"),
        MessageRejection(
            5,
            "nobody",
            "pump-1",
            "n1",
            "tenant: unknown tenant 'nobody' (iotbill tenants add nobody creates it)",
        ),
        MessageRejection(
            6, tenant, "pump-1", None, "payload: 151 bytes, more than the 150 allowed"
        ),
    ]
    again = store_messages(open_uow, batch[:2], clock=clock, decode=decode_event)
    assert (again.stored, again.duplicates, again.rejected) == (0, 2, [])  # a redelivery
    with uow() as unit:
        assert sorted(unit.events.find(["e1", "e2", "e3", "g1"])) == ["e1", "e2"]
