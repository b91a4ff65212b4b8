"""Seeded, realistic telemetry for the demo's devices.

Each generator yields usage events for one device over ``[start, end)``,
drawn from the ``numpy.random.Generator`` passed in, so the same seed always
gives the same month:

* pumps report the water moved each hour, following a daily demand curve;
* shared batteries report each sale of energy to the grid in the evening peak;
* vending machines report each sale, and their modem reports its data use daily;
* irrigation pumps report the water moved each day, little in winter, much in summer;
* insured cars report each trip's miles, and each harsh braking, by driver;
* pumps sold outright report a fault now and then (an alert sent by SMS);
* printers report their ink level every six hours (:class:`InkLevels`);
* home batteries report each sale of spare capacity, to the grid operator or on the
  spot market (:func:`capacity_sales`).
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


def seasonal_pump_flow(
    device: str, start: datetime, end: datetime, local: ZoneInfo, rng: np.random.Generator
) -> Iterator[UsageEvent]:
    """One ``pump.flow`` event a day at local noon: an irrigation pump's cubic metres, about
    3 a day in January rising to about 35 in July, so a month falls short of a commitment in
    winter and runs past a maximum in summer."""
    base = rng.uniform(0.8, 1.2)
    day = start.astimezone(local).date()
    while (noon := datetime(day.year, day.month, day.day, 12, tzinfo=local)) < end:
        if noon >= start:
            season = np.sin(np.pi * (day.timetuple().tm_yday - 15) / 365) ** 2
            m3 = rng.gamma(4.0, base * (3.0 + 33.0 * season) / 4.0)
            yield _event(rng, "pump.flow", device, noon, m3=Decimal(f"{m3:.3f}"))
        day += timedelta(days=1)


def car_trips(
    device: str, start: datetime, end: datetime, local: ZoneInfo, rng: np.random.Generator
) -> Iterator[UsageEvent]:
    """``car.trip`` events (miles) on most local days, a long road trip now and then (over
    250 miles in a day), and ``car.harsh_brake`` events at a rate that is the driver's own:
    from a fraction of one to several per 100 miles."""
    brakes_per_mile = rng.uniform(0.002, 0.05)
    day = start.astimezone(local).date()
    while (morning := datetime(day.year, day.month, day.day, 7, tzinfo=local)) < end:
        road_trip = rng.random() < 0.06
        trips = 1 if road_trip else int(rng.poisson(1.6))
        for _ in range(trips if morning >= start and rng.random() < 0.85 else 0):
            at = morning + timedelta(minutes=int(rng.integers(0, 14 * 60)))
            miles = rng.uniform(260, 420) if road_trip else rng.gamma(2.0, 9.0)
            yield _event(rng, "car.trip", device, at, miles=Decimal(f"{miles:.1f}"))
            for _ in range(int(rng.poisson(miles * brakes_per_mile))):
                braked = at + timedelta(minutes=int(rng.integers(0, 60)))
                yield _event(rng, "car.harsh_brake", device, braked)
        day += timedelta(days=1)


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


class InkLevels:
    """``printer.ink`` readings every six hours: the cartridge's level in percent, falling
    by the pages printed (busier on weekdays, with a printer's own pace), and back to 100
    the reading after one of 0 (the customer put in the cartridge reordered for it).

    The level carries over from one call to the next for the same device when the calls
    follow each other (``start`` is the previous ``end``); a call from anywhere else starts
    with a full cartridge, so a demo run again gives the same readings for the same seed.
    """

    def __init__(self) -> None:
        self._carried: dict[str, tuple[datetime, float, float]] = {}

    def __call__(
        self,
        device: str,
        start: datetime,
        end: datetime,
        local: ZoneInfo,
        rng: np.random.Generator,
    ) -> Iterator[UsageEvent]:
        carried = self._carried.get(device)
        if carried is not None and carried[0] == start:
            _, level, pace = carried
        else:
            level, pace = 100.0, float(rng.uniform(3.5, 6.5))  # percent a day
        at = start
        while at < end:
            yield _event(rng, "printer.ink", device, at, level=Decimal(f"{level:.1f}"))
            busy = 1.2 if at.astimezone(local).weekday() < 5 else 0.5
            used = max(0.0, rng.normal(pace * busy / 4, pace / 20))
            level = 100.0 if level <= 0 else max(0.0, level - used)
            at += 6 * HOUR
        self._carried[device] = (end, level, pace)


GRID_TARIFF = {17: "0.2450", 18: "0.2450", 19: "0.3120", 20: "0.3120", 21: "0.2780"}
"""What the grid operator pays for a kWh of a battery's capacity, by local hour (EUR)."""


def capacity_sales(
    device: str, start: datetime, end: datetime, local: ZoneInfo, rng: np.random.Generator
) -> Iterator[UsageEvent]:
    """``capacity.sold`` events of a shared battery (asset-sharing model): in the evening
    peak (17:00 to 21:59 local) it sells now and then a few kWh, mostly to the grid
    operator at its tariff of the hour (:data:`GRID_TARIFF`), else on the spot market at
    one of a few lower prices."""
    for at in _hours(start, end):
        hour = at.astimezone(local).hour
        if 17 <= hour <= 21 and rng.random() < 0.35:
            to_grid = rng.random() < 0.7
            price = GRID_TARIFF[hour] if to_grid else str(rng.choice(["0.1100", "0.1450"]))
            yield _event(
                rng,
                "capacity.sold",
                device,
                at + timedelta(minutes=int(rng.integers(0, 60))),
                kwh=Decimal(f"{rng.uniform(1.5, 9.0):.3f}"),
                price=Decimal(price),
                buyer="grid" if to_grid else "spot",
            )


def building_energy(region: str, building_type: str) -> Generator:
    """Hourly ``energy.reading`` events of a building in ``region`` of ``building_type``:
    the kWh used, with a daytime peak (offices and shops by day, homes in the evening)."""
    peak_hour = 19 if building_type == "home" else 13

    def readings(
        device: str, start: datetime, end: datetime, local: ZoneInfo, rng: np.random.Generator
    ) -> Iterator[UsageEvent]:
        base = rng.uniform(2.0, 6.0)
        for at in _hours(start, end):
            hour = at.astimezone(local).hour
            demand = 0.4 + np.exp(-(((hour - peak_hour) / 4.0) ** 2))
            kwh = max(0.0, rng.normal(base * demand, base / 10))
            yield _event(
                rng,
                "energy.reading",
                device,
                at,
                kwh=Decimal(f"{kwh:.3f}"),
                region=region,
                building_type=building_type,
            )

    return readings
