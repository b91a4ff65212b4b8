"""The freemium demo: remote monitoring free up to 1,000 readings a month, then an upgrade.

Two Chicago businesses monitor their cold rooms on ``examples/models/freemium.yaml``
from 1 January 2026. Lakeside Café's sensor reads about every 48 minutes, under the
free allowance. Harbor Brewery's line sensor reads every 3 minutes: its allowance is
spent in two days each month (checks answer no, nothing is billed), so on 10 February
it upgrades at once to ``freemium-pro.yaml`` (30.00 a month, 10,000 readings included,
0.002 a reading above): February's upgrade invoice bills the prorated fee, and March,
a whole month of readings, bills the overage.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np

from iotbill.adapters.clock import FrozenClock
from iotbill.adapters.plan_files import parse_plan_document
from iotbill.demo.models import ModelDemo, Step, template
from iotbill.demo.scenario import DemoCustomer
from iotbill.domain.events import UsageEvent
from iotbill.services.catalog import apply_plan
from iotbill.services.ports import UnitOfWorkFactory
from iotbill.services.subscriptions import change_subscription, list_subscriptions

UPGRADE = datetime(2026, 2, 10, 6, tzinfo=UTC)  # midnight in Chicago


def _readings(
    every: timedelta, device: str, start: datetime, end: datetime, rng: np.random.Generator
) -> Iterator[UsageEvent]:
    """A ``reading`` (the cold room's temperature) about every ``every``, seeded jitter."""
    at = start + timedelta(seconds=int(rng.integers(0, int(every.total_seconds()))))
    while at < end:
        yield UsageEvent(
            id=str(uuid.UUID(bytes=rng.bytes(16), version=4)),
            type="reading",
            device=device,
            timestamp=at,
            properties={"celsius": Decimal(f"{rng.normal(3.5, 0.8):.1f}")},
        )
        at += every + timedelta(seconds=int(rng.integers(-30, 31)))


def cold_room(
    device: str, start: datetime, end: datetime, local: ZoneInfo, rng: np.random.Generator
) -> Iterator[UsageEvent]:
    """About 30 readings a day: under 1,000 a month."""
    return _readings(timedelta(minutes=48), device, start, end, rng)


def brewery_line(
    device: str, start: datetime, end: datetime, local: ZoneInfo, rng: np.random.Generator
) -> Iterator[UsageEvent]:
    """A reading every 3 minutes: 480 a day, about 14,900 in a 31-day month."""
    return _readings(timedelta(minutes=3), device, start, end, rng)


def _brewery_upgrades(open_uow: UnitOfWorkFactory, tenant: str) -> None:
    pro = template("freemium-pro")
    apply_plan(
        open_uow(tenant), parse_plan_document(pro.read_text(), pro.name), FrozenClock(UPGRADE)
    )
    (subscription,) = list_subscriptions(open_uow(tenant), customer="harbor-brewery")
    change_subscription(
        open_uow(tenant), subscription.id, plan="monitor-pro", timing="immediate", at=UPGRADE
    )


DEMO = ModelDemo(
    name="freemium",
    story="A monitoring service is free up to 1,000 sensor readings a month: past that, the "
    "device is told no and nothing is billed. A business that needs more upgrades to the paid "
    "plan, which includes 10,000 readings and bills each reading above.",
    plan=template("freemium"),
    customers=(
        DemoCustomer(
            "lakeside-cafe",
            "Lakeside Cafe",
            "USD",
            "America/Chicago",
            "0",
            "en_US",
            "1 Lake St, Chicago IL",
            "monitor-free",
            ("cold-room-1",),
            cold_room,
        ),
        DemoCustomer(
            "harbor-brewery",
            "Harbor Brewery LLC",
            "USD",
            "America/Chicago",
            "0",
            "en_US",
            "88 Pier Rd, Milwaukee WI",
            "monitor-free",
            ("line-sensor-1",),
            brewery_line,
        ),
    ),
    start=date(2026, 1, 1),
    bill_at=(
        datetime(2026, 2, 1, 12, tzinfo=UTC),
        UPGRADE,
        datetime(2026, 3, 1, 12, tzinfo=UTC),
        datetime(2026, 4, 1, 12, tzinfo=UTC),
    ),
    steps=(Step(UPGRADE, _brewery_upgrades),),
)
