"""Ingesting usage events: validate, resolve each device's owner, store in batches.

Every event is attributed to the customer who owned its device at the event's
timestamp; an event whose device is unknown (or had no owner yet) is rejected
with its line and the reason, never silently dropped. Valid events are stored
in batches, one transaction per batch, so a long import makes steady progress
and a crash loses at most the batch in flight, which a re-run stores (the
event store skips ids it already has). With ``atomic``, one bad line rejects
the whole input and nothing is stored; otherwise bad lines never block the
good ones.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from iotbill.domain.customers import Device
from iotbill.domain.events import SourcedEvent, UsageEvent
from iotbill.services.ports import Clock, UnitOfWorkFactory

DEFAULT_BATCH_SIZE = 100_000


@dataclass(frozen=True, slots=True)
class Rejection:
    """A line that was not stored, and why."""

    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What an ingest did: events newly stored, repeats of stored ids, and rejected lines."""

    accepted: int
    duplicates: int
    rejected: tuple[Rejection, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": [{"line": r.line, "reason": r.reason} for r in self.rejected],
        }


def ingest(
    uow_factory: UnitOfWorkFactory,
    tenant: str,
    events: Sequence[SourcedEvent],
    *,
    clock: Clock,
    atomic: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    rejected: Sequence[Rejection] = (),
    on_progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Store ``events`` for ``tenant``; ``rejected`` are lines already refused (unreadable).

    ``on_progress`` is told how many events have been handled after each batch.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    received_at = clock.now()
    with uow_factory(tenant) as uow:
        devices = uow.devices.find(sorted({sourced.event.device for sourced in events}))
    owners = _Owners(devices)
    accepted_events: list[UsageEvent] = []
    customers: list[str] = []
    refused = list(rejected)
    seen: set[str] = set()
    repeats = 0
    for sourced in events:
        event = sourced.event
        customer = owners.at(event.device, event.timestamp)
        if isinstance(customer, Rejection):
            refused.append(Rejection(sourced.line, customer.reason))
        elif event.id in seen:
            repeats += 1
        else:
            seen.add(event.id)
            accepted_events.append(event)
            customers.append(customer)
    refused.sort(key=lambda rejection: rejection.line)
    if atomic and refused:
        return IngestReport(0, 0, tuple(refused))
    stored = 0
    batches = range(0, len(accepted_events), batch_size)
    if atomic:
        with uow_factory(tenant) as uow:
            for start in batches:
                chunk = slice(start, start + batch_size)
                stored += uow.events.append(accepted_events[chunk], customers[chunk], received_at)
                _report(on_progress, start + batch_size, len(accepted_events))
            uow.commit()
    else:
        for start in batches:
            chunk = slice(start, start + batch_size)
            with uow_factory(tenant) as uow:
                stored += uow.events.append(accepted_events[chunk], customers[chunk], received_at)
                uow.commit()
            _report(on_progress, start + batch_size, len(accepted_events))
    return IngestReport(stored, repeats + len(accepted_events) - stored, tuple(refused))


def _report(on_progress: Callable[[int], None] | None, done: int, total: int) -> None:
    if on_progress is not None:
        on_progress(min(done, total))


class _Owners:
    """Who owned each device when: a binary search over each device's ownership starts."""

    def __init__(self, devices: dict[str, Device]) -> None:
        self._starts = {id: [o.start for o in d.ownership] for id, d in devices.items()}
        self._customers = {id: [o.customer_id for o in d.ownership] for id, d in devices.items()}

    def at(self, device: str, instant: datetime) -> str | Rejection:
        starts = self._starts.get(device)
        if starts is None:
            return Rejection(0, f"device: unknown device {device!r} (add it first)")
        index = bisect_right(starts, instant) - 1
        if index < 0:
            return Rejection(
                0,
                f"timestamp: device {device!r} had no owner at {instant.isoformat()} "
                f"(its first owner starts at {starts[0].isoformat()})",
            )
        return self._customers[device][index]
