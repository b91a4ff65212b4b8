"""Seeded vibration telemetry for the service demo's pumps (:class:`PumpVibration`).

A pump reports its vibration velocity (``pump.vibration``, property ``mm_s``) every
``every``: around its own healthy level (2 to 4 mm/s) most of the time, and now and then
a fault (a worn bearing, a loose mount) that lifts it to 7.5 to 12 mm/s for a few hours,
until the fault passes. Faults come and go as a two-state Markov chain drawn from the
generator passed in, so the same seed always gives the same months.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np

from iotbill.domain.events import UsageEvent


class PumpVibration:
    """``pump.vibration`` readings every ``every``; a fault starts at a reading with
    probability ``every / fault_every`` and ends with probability ``every / fault_lasts``.

    The state (healthy level, fault or not) carries over from one call to the next for
    the same device when the calls follow each other, as :class:`~iotbill.demo.telemetry.InkLevels`
    does; a call from anywhere else starts healthy.
    """

    def __init__(
        self,
        every: timedelta = timedelta(hours=1),
        fault_every: timedelta = timedelta(days=30),
        fault_lasts: timedelta = timedelta(hours=3),
    ) -> None:
        self.every = every
        self.start_chance = every / fault_every
        self.end_chance = every / fault_lasts
        self._carried: dict[str, tuple[datetime, float, bool]] = {}

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
            _, healthy, faulty = carried
        else:
            healthy, faulty = float(rng.uniform(2.0, 4.0)), False
        at = start
        while at < end:
            level = rng.uniform(7.5, 12.0) if faulty else max(0.5, rng.normal(healthy, 0.4))
            yield UsageEvent(
                id=str(uuid.UUID(bytes=rng.bytes(16), version=4)),
                type="pump.vibration",
                device=device,
                timestamp=at,
                properties={"mm_s": Decimal(f"{level:.2f}")},
            )
            chance = self.end_chance if faulty else self.start_chance
            if rng.random() < chance:
                faulty = not faulty
            at += self.every
        self._carried[device] = (end, healthy, faulty)
