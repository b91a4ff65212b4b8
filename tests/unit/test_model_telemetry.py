"""The seeded telemetry of the irrigation pumps, the insured cars and the printers."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from decimal import Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

import numpy as np

from iotbill.demo.telemetry import InkLevels, car_trips, seasonal_pump_flow

CHICAGO = ZoneInfo("America/Chicago")


def month(number: int) -> tuple[datetime, datetime]:
    return datetime(2026, number, 1, tzinfo=CHICAGO), datetime(2026, number + 1, 1, tzinfo=CHICAGO)


def test_the_same_seed_gives_the_same_events_and_another_seed_others() -> None:
    for generator in (seasonal_pump_flow, car_trips):
        first = list(generator("d1", *month(3), CHICAGO, np.random.default_rng(5)))
        again = list(generator("d1", *month(3), CHICAGO, np.random.default_rng(5)))
        other = list(generator("d1", *month(3), CHICAGO, np.random.default_rng(6)))
        assert first == again
        assert first != other


def test_a_pump_reports_once_a_local_day_little_in_winter_and_much_in_summer() -> None:
    totals = {}
    for number in (1, 7):
        start, end = month(number)
        events = list(seasonal_pump_flow("p1", start, end, CHICAGO, np.random.default_rng(1)))
        days = [event.timestamp.astimezone(CHICAGO).date() for event in events]
        assert len(days) == len(set(days)) == 31
        assert all(start <= event.timestamp < end for event in events)
        totals[number] = sum((event.properties["m3"] for event in events), Decimal(0))
    # At 0.50 a cubic metre: January below a 100.00 commitment, July above a 400.00 maximum.
    assert totals[1] * Decimal("0.50") < 100 < 400 < totals[7] * Decimal("0.50")


def test_a_car_drives_long_days_now_and_then_and_brakes_at_its_own_rate() -> None:
    start, end = month(3)
    miles_by_day: Counter[object] = Counter()
    kinds: Counter[str] = Counter()
    for seed in range(4):
        for event in car_trips(f"car-{seed}", start, end, CHICAGO, np.random.default_rng(seed)):
            assert start <= event.timestamp < end
            kinds[event.type] += 1
            if event.type == "car.trip":
                day = (seed, event.timestamp.astimezone(CHICAGO).date())
                miles_by_day[day] += event.properties["miles"]
    assert set(kinds) == {"car.trip", "car.harsh_brake"}
    assert any(miles > 250 for miles in miles_by_day.values())  # a capped road trip


def test_a_printer_s_ink_falls_carries_over_months_and_is_refilled_once_dry() -> None:
    rng = np.random.default_rng(3)
    ink = InkLevels()
    january = list(ink("printer-1", *month(1), CHICAGO, rng))
    february = list(ink("printer-1", *month(2), CHICAGO, rng))
    levels = [event.properties["level"] for event in january + february]
    assert len(january) == 31 * 4 and levels[0] == Decimal(100)
    # The level only falls, but right after a reading of 0: then it is 100 again.
    for before, after in pairwise(levels):
        assert after <= before or (before == 0 and after == 100)
    assert levels.count(Decimal(0)) >= 2  # dry at least twice in two months
    assert february[0].properties["level"] <= january[-1].properties["level"]
    # Called afresh from the start (a demo run again), the first reading is full again.
    assert next(ink("printer-1", *month(1), CHICAGO, np.random.default_rng(3))) == january[0]
