"""A retired device on every store: stored as retired, its usage from then on refused with
the reason, never moved again, and never retired before usage already stored."""

from __future__ import annotations

from datetime import timedelta

import pytest

from iotbill.adapters.clock import FrozenClock
from iotbill.domain.errors import Conflict, InvalidInput
from iotbill.domain.events import SourcedEvent, UsageEvent
from iotbill.services.customers import move_device, retire_device
from iotbill.services.ingest import Rejection, ingest
from iotbill.services.ports import UnitOfWorkFactory
from tests.contract.conftest import JAN_1, add_devices, device

CLOCK = FrozenClock(JAN_1 + timedelta(days=40))
RETIRED_AT = JAN_1 + timedelta(days=10)


def _pings(*days: float) -> list[SourcedEvent]:
    return [
        SourcedEvent(UsageEvent(f"p{day}", "ping", "d1", JAN_1 + timedelta(days=day), {}), line)
        for line, day in enumerate(days, start=1)
    ]


def test_a_retired_device_reports_no_usage_from_its_retirement_on(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    add_devices(store, tenant, device("d1", "c1"))
    ingest(store, tenant, _pings(1, 5), clock=CLOCK)

    retired = retire_device(store(tenant), "d1", at=RETIRED_AT)
    report = ingest(store, tenant, _pings(9.5, 10, 12), clock=CLOCK)

    with store(tenant) as uow:
        assert uow.devices.get("d1").retired_at == RETIRED_AT
        assert uow.devices.list()[0] == retired
    assert report.accepted == 1  # day 9.5, before the retirement
    reason = (
        "timestamp: device 'd1' is retired since 2026-01-11T00:00:00+00:00: it reports no usage"
        " from then on"
    )
    assert list(report.rejected) == [Rejection(2, reason), Rejection(3, reason)]
    with pytest.raises(Conflict, match="device 'd1' is retired already, since 2026-01-11"):
        retire_device(store(tenant), "d1", at=RETIRED_AT + timedelta(days=1))
    with pytest.raises(InvalidInput, match="device 'd1' is retired since 2026-01-11"):
        move_device(store(tenant), "d1", to_customer="c2", at=RETIRED_AT + timedelta(days=2))


def test_a_device_is_not_retired_before_usage_already_stored(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    add_devices(store, tenant, device("d1", "c1"))
    ingest(store, tenant, _pings(1, 12), clock=CLOCK)

    with pytest.raises(InvalidInput) as refused:
        retire_device(store(tenant), "d1", at=RETIRED_AT)
    with pytest.raises(InvalidInput) as too_early:
        retire_device(store(tenant), "d1", at=JAN_1)

    assert str(refused.value) == (
        "at: device 'd1' has usage stored at 2026-01-13T00:00:00+00:00, from"
        " 2026-01-11T00:00:00+00:00 on: a retired device reports no usage, so retire it after"
        " its last event"
    )
    assert str(too_early.value) == (
        "at: must be after 2026-01-01T00:00:00+00:00, when device 'd1' passed to 'c1'"
    )
    with store(tenant) as uow:
        assert uow.devices.get("d1").retired_at is None
