"""Clocks: the system's, and a frozen one that tests move by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from iotbill.domain.periods import require_aware


class SystemClock:
    """The current time, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that stands still until told to move."""

    def __init__(self, now: datetime) -> None:
        self._now = require_aware(now, "now")

    def now(self) -> datetime:
        return self._now

    def advance(self, by: timedelta) -> None:
        self._now += by

    def set(self, now: datetime) -> None:
        self._now = require_aware(now, "now")
