"""Balance alerts: a customer's credits falling below a threshold, recorded once a crossing."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from iotbill.domain.errors import InvalidInput
from iotbill.domain.webhooks import WebhookEndpoint
from iotbill.services.balance import grant_credit, list_alerts, set_alert_thresholds
from tests.stories.world import TENANT, World

PUMP = """\
code: pump
name: Pump
currency: USD
interval: month
fixed_fees: [{code: base, amount: "31.00", timing: advance}]
"""


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_each_crossing_is_recorded_once() -> None:
    world = World(utc(2026, 1, 1))
    world.plan(PUMP)
    world.customer("acme", "USD", "UTC")
    set_alert_thresholds(world.open(TENANT), "acme", ["20.00", "5"])
    grant_credit(world.open(TENANT), customer="acme", amount="50.00", at=utc(2026, 1, 1))
    world.subscribe("sub-1", "acme", "pump", utc(2026, 1, 1))
    world.bill(utc(2026, 1, 1))
    # 50.00 - 31.00 = 19.00: below 20.00, not below 5.00.
    alerts = list_alerts(world.open(TENANT), "acme")
    assert [(a.threshold, a.balance, a.at) for a, _ in alerts] == [
        (Decimal("20.00"), Decimal("19.00"), utc(2026, 1, 1))
    ]
    world.bill(utc(2026, 1, 1))  # run again: nothing new, nothing twice
    world.bill(utc(2026, 2, 1))  # February's 31.00 uses the 19.00: below 5.00 now
    assert [(a.threshold, a.balance) for a, _ in list_alerts(world.open(TENANT))] == [
        (Decimal("20.00"), Decimal("19.00")),
        (Decimal("5"), Decimal("0.00")),
    ]
    # Topped up to 40.00, then March's 31.00 leaves 9.00: 20.00 is crossed again.
    grant_credit(world.open(TENANT), customer="acme", amount="40.00", at=utc(2026, 2, 15))
    world.bill(utc(2026, 3, 1))
    assert [(a.threshold, a.balance, a.at) for a, _ in list_alerts(world.open(TENANT))][2:] == [
        (Decimal("20.00"), Decimal("9.00"), utc(2026, 3, 1))
    ]


def test_an_alert_is_sent_to_the_webhooks_that_want_it() -> None:
    world = World(utc(2026, 1, 1))
    world.plan(PUMP)
    world.customer("acme", "USD", "UTC")
    endpoint = WebhookEndpoint(
        id="hook-1",
        url="https://example.com/hook",
        events=frozenset({"credits.balance_threshold_crossed"}),
        secret="s" * 32,
        created_at=utc(2026, 1, 1),
    )
    with world.open(TENANT) as uow:
        uow.webhooks.add_endpoint(endpoint)
        uow.commit()
    set_alert_thresholds(world.open(TENANT), "acme", ["10.00"])
    grant_credit(world.open(TENANT), customer="acme", amount="31.00", at=utc(2026, 1, 1))
    world.subscribe("sub-1", "acme", "pump", utc(2026, 1, 1))
    world.bill(utc(2026, 1, 1))
    with world.open(TENANT) as uow:
        messages = uow.webhooks.messages([d.message_id for d in uow.webhooks.deliveries()])
    (message,) = messages.values()
    assert message.type == "credits.balance_threshold_crossed"
    assert b'"balance": "0.00"' in message.body and b'"threshold": "10.00"' in message.body


def test_bad_thresholds_are_refused_with_their_field() -> None:
    world = World(utc(2026, 1, 1))
    world.customer("acme", "USD", "UTC")
    with pytest.raises(InvalidInput) as raised:
        set_alert_thresholds(world.open(TENANT), "acme", ["0", "5.001", "7", "7.00", "x"])
    assert [str(problem) for problem in raised.value.problems] == [
        "thresholds[0]: must be positive, not 0",
        "thresholds[1]: 5.001 has more decimals than USD allows",
        "thresholds[3]: 7.00 is given twice",
        "thresholds[4]: 'x' is not a plain decimal number (like -12.50)",
    ]
    with world.open(TENANT) as uow:
        assert uow.credits.thresholds(["acme"]) == {}
