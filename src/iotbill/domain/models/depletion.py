"""The depletion forecast of a consumable: when a device's level reaches zero.

A device reports the level of a consumable (ink in percent, filter life in
litres, capsules left) as a reading at an instant. The forecast reads the
readings of the current *cycle*, the readings since the last refill:

- a **refill** is a reading whose level exceeds the reading before it by more
  than the plan's ``refill_rise``; it opens a new cycle (smaller rises are
  sensor noise and stay in the cycle);
- of the cycle, only the readings of the last ``window`` before the forecast's
  instant count, so a device whose use changes is followed;
- the **consumption rate** is the slope of the ordinary least-squares line
  ``level = a + b x t`` through those readings (``t`` in days), and the
  **run-out** is where that line reaches zero: ``t = -a / b``.

No run-out is forecast with fewer than two readings, readings all at one
instant, or a slope that is not falling (the level holds or rises).

Worked example: readings of 80, 70 and 60 percent one day apart, the last at
noon on 10 March, fall 10 a day, so the level reaches zero six days after the
last one, at noon on 16 March.

>>> from datetime import UTC, datetime, timedelta
>>> from decimal import Decimal
>>> noon = datetime(2026, 3, 10, 12, tzinfo=UTC)
>>> readings = [Reading(noon - timedelta(days=2 - d), Decimal(80 - 10 * d)) for d in range(3)]
>>> forecast = forecast_run_out(readings, refill_rise=Decimal(20), window=timedelta(days=14),
...                             as_of=noon)
>>> forecast.run_out.isoformat(), forecast.daily_use
('2026-03-16T12:00:00+00:00', Decimal('10'))

Source: the least-squares line is the textbook estimator (Montgomery, Peck and
Vining, *Introduction to Linear Regression Analysis*, ch. 2); its use for
replenishment follows Amazon's Dash Replenishment, whose devices report a
level and are reordered once per depletion.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

DAY_SECONDS = 86_400


@dataclass(frozen=True, slots=True)
class Reading:
    """A value one device reported at ``at`` (an aware UTC instant): the level of a
    consumable here; a watched metric, such as vibration, for the alert rules."""

    at: datetime
    level: Decimal


@dataclass(frozen=True, slots=True)
class Forecast:
    """What the readings of a cycle say at ``as_of``.

    ``cycle_start`` is the instant of the refill that opened the cycle (``None``
    when no refill is seen); ``last_refill`` the same; ``daily_use`` the fitted
    fall per day (``None`` without a fit); ``run_out`` where the fitted line
    reaches zero, to the second (``None`` when it never does).
    """

    as_of: datetime
    cycle_start: datetime | None
    readings: int
    daily_use: Decimal | None
    run_out: datetime | None


def cycles(readings: Sequence[Reading], refill_rise: Decimal) -> list[list[Reading]]:
    """``readings`` (in time order) cut at each refill: each cycle starts with its refill,
    but the first, which starts with the first reading."""
    found: list[list[Reading]] = []
    for reading in readings:
        if not found or reading.level - found[-1][-1].level > refill_rise:
            found.append([reading])
        else:
            found[-1].append(reading)
    return found


def refills(readings: Sequence[Reading], refill_rise: Decimal) -> list[datetime]:
    """The instants of the refills among ``readings`` (in time order)."""
    return [cycle[0].at for cycle in cycles(readings, refill_rise)[1:]]


def forecast_run_out(
    readings: Sequence[Reading], *, refill_rise: Decimal, window: timedelta, as_of: datetime
) -> Forecast:
    """The forecast at ``as_of`` from ``readings`` (in time order, none after ``as_of``)."""
    found = cycles(readings, refill_rise)
    if not found:
        return Forecast(as_of, None, 0, None, None)
    cycle_start = found[-1][0].at if len(found) > 1 else None
    recent = [r for r in found[-1] if r.at > as_of - window]
    fit = _least_squares(recent)
    if fit is None:
        return Forecast(as_of, cycle_start, len(recent), None, None)
    origin, intercept, slope = fit
    run_out = None
    if slope < 0:
        seconds = (-intercept / slope * DAY_SECONDS).to_integral_value()
        run_out = origin + timedelta(seconds=int(seconds))
    return Forecast(as_of, cycle_start, len(recent), -slope, run_out)


def _least_squares(readings: Sequence[Reading]) -> tuple[datetime, Decimal, Decimal] | None:
    """``(origin, a, b)`` of the line ``level = a + b x days since origin``, or ``None``."""
    if len(readings) < 2:
        return None
    origin = readings[-1].at
    days = [Decimal((r.at - origin).total_seconds()) / DAY_SECONDS for r in readings]
    levels = [r.level for r in readings]
    count = len(readings)
    mean_day = sum(days, Decimal(0)) / count
    mean_level = sum(levels, Decimal(0)) / count
    spread = sum(((d - mean_day) ** 2 for d in days), Decimal(0))
    if spread == 0:
        return None
    covariance = sum(
        ((d - mean_day) * (v - mean_level) for d, v in zip(days, levels, strict=True)), Decimal(0)
    )
    slope = covariance / spread
    return origin, mean_level - slope * mean_day, slope
