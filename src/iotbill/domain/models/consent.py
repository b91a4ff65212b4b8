"""Consent to sell a device's data (data-monetization model): given, then withdrawn.

A device's owner consents from ``given_at`` and may withdraw at ``withdrawn_at``;
the consent covers the half-open interval ``[given_at, withdrawn_at)`` (open-ended
while not withdrawn). A device may consent again after withdrawing, so it has a
history of intervals that never overlap. Only events that occurred inside one of
them are ever exported (:mod:`~iotbill.domain.models.data_products`).

The rules, each refused with the field it concerns and nothing stored:

- a consent is given at most once at a time: giving while one is open is a
  :class:`~iotbill.domain.errors.Conflict`;
- a new consent starts at or after the last withdrawal (``at``);
- a withdrawal is of an open consent (:class:`~iotbill.domain.errors.Conflict`
  otherwise) and after it was given (``at``).

>>> from datetime import UTC, datetime
>>> given = give_consent((), "meter-1", datetime(2026, 1, 10, tzinfo=UTC))
>>> withdrawn = withdraw_consent(given, "meter-1", datetime(2026, 1, 20, tzinfo=UTC))
>>> withdrawn[0].covers(datetime(2026, 1, 19, 23, tzinfo=UTC))
True
>>> withdrawn[0].covers(datetime(2026, 1, 20, tzinfo=UTC))
False
>>> try:
...     withdraw_consent(given, "meter-1", datetime(2026, 1, 5, tzinfo=UTC))
... except InvalidInput as error:
...     print(error.problems[0].location)
at
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from iotbill.domain.errors import Conflict, InvalidInput
from iotbill.domain.periods import require_aware


@dataclass(frozen=True, slots=True)
class Consent:
    """``device_id``'s data may be sold from ``given_at`` until ``withdrawn_at``
    (``None``: until further notice)."""

    device_id: str
    given_at: datetime
    withdrawn_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.withdrawn_at is None

    def covers(self, at: datetime) -> bool:
        """Whether an event that occurred at ``at`` may be exported."""
        return self.given_at <= at and (self.withdrawn_at is None or at < self.withdrawn_at)

    def as_json(self) -> dict[str, Any]:
        return {
            "device": self.device_id,
            "given_at": self.given_at.isoformat(),
            "withdrawn_at": None if self.withdrawn_at is None else self.withdrawn_at.isoformat(),
        }


def give_consent(history: Sequence[Consent], device: str, at: datetime) -> tuple[Consent, ...]:
    """The device's ``history`` with a consent given at ``at`` added."""
    at = require_aware(at, "at")
    mine = _of(history, device)
    if mine and mine[-1].open:
        raise Conflict(f"device {device!r} consents already, since {mine[-1].given_at.isoformat()}")
    if mine and mine[-1].withdrawn_at is not None and at < mine[-1].withdrawn_at:
        raise InvalidInput.at(
            "at",
            "must not be before the last withdrawal "
            f"({mine[-1].withdrawn_at.isoformat()}): consents never overlap",
        )
    return (*mine, Consent(device, at))


def withdraw_consent(history: Sequence[Consent], device: str, at: datetime) -> tuple[Consent, ...]:
    """The device's ``history`` with its open consent withdrawn at ``at``."""
    at = require_aware(at, "at")
    mine = _of(history, device)
    if not mine or not mine[-1].open:
        raise Conflict(f"device {device!r} has no consent to withdraw")
    if at <= mine[-1].given_at:
        raise InvalidInput.at(
            "at", f"must be after the consent was given ({mine[-1].given_at.isoformat()})"
        )
    return (*mine[:-1], replace(mine[-1], withdrawn_at=at))


def consented(history: Sequence[Consent], device: str, at: datetime) -> bool:
    """Whether ``device`` consented at ``at``, by ``history``."""
    return any(consent.device_id == device and consent.covers(at) for consent in history)


def _of(history: Sequence[Consent], device: str) -> tuple[Consent, ...]:
    return tuple(
        sorted(
            (consent for consent in history if consent.device_id == device),
            key=lambda consent: consent.given_at,
        )
    )
