"""The alert rule: when a device's metric has stayed above a threshold long enough.

A plan's alert rule (:class:`~iotbill.domain.catalog.AlertRule`) watches one
property of a device's events, say vibration in mm/s, against ``above``, over
``window``. In the device's readings in time order:

- an **incident** is a run of consecutive readings all strictly above the
  threshold whose first and last are at least ``window`` apart (a reading at or
  below the threshold ends the run); it starts at its first reading;
- only readings after ``after`` count: the resolution of the last work order
  the rule opened for the device, so a condition that persists past a visit is
  a new incident, counted from then.

Worked example: ``above: 7``, ``window_minutes: 10``; readings every 5 minutes of
6, 8, 9, 7.5, 6.9 from 10:00: the run 8, 9, 7.5 (10:05 to 10:15) lasts 10
minutes: an incident from 10:05. With 7.0 instead of 7.5 at 10:15 the run lasts
5 minutes, and exactly 7 is not above: no incident.

>>> from datetime import UTC, datetime, timedelta
>>> from decimal import Decimal
>>> from iotbill.domain.catalog import AlertRule
>>> rule = AlertRule("vibration", "vibration", "pump.vibration", "mm_s", Decimal(7),
...                  timedelta(minutes=10))
>>> start = datetime(2026, 3, 2, 10, tzinfo=UTC)
>>> values = ["6", "8", "9", "7.5", "6.9"]
>>> readings = [Reading(start + timedelta(minutes=5 * i), Decimal(v)) for i, v in enumerate(values)]
>>> first_incident(readings, rule, after=None).isoformat()
'2026-03-02T10:05:00+00:00'
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from iotbill.domain.catalog import AlertRule
from iotbill.domain.models.depletion import Reading


def first_incident(
    readings: Sequence[Reading], rule: AlertRule, *, after: datetime | None
) -> datetime | None:
    """The start of the first incident among ``readings`` (time order) after ``after``,
    or ``None``."""
    run_start: datetime | None = None
    for reading in readings:
        if after is not None and reading.at <= after:
            continue
        if reading.level <= rule.above:
            run_start = None
            continue
        if run_start is None:
            run_start = reading.at
        if reading.at - run_start >= rule.window:
            return run_start
    return None
