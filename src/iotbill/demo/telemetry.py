"""Seeded, realistic telemetry for the demo's devices.

Each generator yields usage events for one device over ``[start, end)``,
drawn from the ``numpy.random.Generator`` passed in, so the same seed always
gives the same month:

* pumps report the water moved each hour, following a daily demand curve;
* shared batteries report each sale of energy to the grid in the evening peak;
* vending machines report each sale, and their modem reports its data use daily;
* pumps sold outright report a fault now and then (an alert sent by SMS).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from iotbill.domain.events import UsageEvent

HOUR = timedelta(hours=1)
Generator = Callable[[str, datetime, datetime, ZoneInfo, np.random.Generator], Iterator[UsageEvent]]


def _event(
    rng: np.random.Generator, kind: str, device: str, at: datetime, **properties: Any
) -> UsageEvent:
    return UsageEvent(
        id=str(uuid.UUID(bytes=rng.bytes(16), version=4)),
        type=kind,
        device=device,
        timestamp=at,
        properties=properties,
    )


def _hours(start: datetime, end: datetime) -> Iterator[datetime]:
    at = start
    while at < end:
        yield at
        at += HOUR


def pump_flow(
    device: str, start: datetime, end: datetime, local: ZoneInfo, rng: np.random.Generator
) -> Iterator[UsageEvent]:
    """Hourly ``pump.flow`` events: cubic metres moved, peaking in the morning and evening."""
    base = rng.uniform(1.0, 2.5)
    for at in _hours(start, end):
        demand = 1.0 + 0.6 * np.sin((at.astimezone(local).hour - 6) / 24 * 2 * np.pi) ** 2
        m3 = max(0.0, rng.normal(base * demand, 0.2))
        yield _event(rng, "pump.flow", device, at, m3=Decimal(f"{m3:.3f}"))


def battery_exports(
    device: str, start: datetime, end: datetime, local: ZoneInfo, rng: np.random.Generator
) -> Iterator[UsageEvent]:
    """``battery.export`` events at the evening peak: energy sold, its revenue and power."""
    for at in _hours(start, end):
        if 17 <= at.astimezone(local).hour <= 21 and rng.random() < 0.7:
            kwh = rng.uniform(5, 40)
            price = rng.uniform(0.18, 0.42)  # EUR per kWh on the spot market
            yield _event(
                rng,
                "battery.export",
                device,
                at + timedelta(minutes=int(rng.integers(0, 60))),
                kwh=Decimal(f"{kwh:.2f}"),
                kw=Decimal(f"{kwh * rng.uniform(1.0, 1.6):.1f}"),
                revenue=Decimal(f"{kwh * price:.4f}"),
            )


def vending(
    device: str, start: datetime, end: datetime, local: ZoneInfo, rng: np.random.Generator
) -> Iterator[UsageEvent]:
    """``vend.sale`` events through opening hours and one ``modem.usage`` event a day."""
    for at in _hours(start, end):
        hour = at.astimezone(local).hour
        if 7 <= hour <= 22:
            for _ in range(int(rng.poisson(1.8))):
                sold_at = at + timedelta(seconds=int(rng.integers(0, 3600)))
                yield _event(rng, "vend.sale", device, sold_at, price=int(rng.choice([120, 160])))
        if hour == 23:
            yield _event(rng, "modem.usage", device, at, mb=Decimal(f"{rng.gamma(4.0, 3.0):.2f}"))


def pump_alerts(
    device: str, start: datetime, end: datetime, local: ZoneInfo, rng: np.random.Generator
) -> Iterator[UsageEvent]:
    """``pump.alert`` events: now and then a pump reports a fault (dry run, overpressure),
    about one day in three, at any time of day."""
    at = start
    while at < end:
        for _ in range(int(rng.poisson(0.35))):
            when = at + timedelta(seconds=int(rng.integers(0, 86_400)))
            if when < end:
                kind = str(rng.choice(["dry_run", "overpressure", "overheat"]))
                yield _event(rng, "pump.alert", device, when, fault=kind)
        at += timedelta(days=1)
