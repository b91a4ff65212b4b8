"""Ingesting usage events: resolve each device's owner, check the meters, store in batches.

Every event is attributed to the customer who owned its device at the event's
timestamp; an event whose device is unknown (or had no owner yet) is rejected
with its line and the reason, never silently dropped. So is an event that a
meter billing it refuses, e.g. a negative quantity where the meter forbids it
(:mod:`~iotbill.services.meter_checks`). Valid events are stored in batches,
one transaction per batch, so a long import makes steady progress and a crash
loses at most the batches in flight, which a re-run stores (the event store
skips ids it already has). With ``atomic``, one bad line rejects the whole
input and nothing is stored; otherwise bad lines never block the good ones.

An id repeated in the input is stored once: the first line stands and the
repeats count as duplicates, unless the first line was rejected, which rejects
its repeats too. The work is done a column at a time, so a million events take
seconds, not minutes.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from iotbill.domain.customers import Device
from iotbill.domain.events import SourcedEvent, UsageEvent
from iotbill.services.meter_checks import MeterChecks
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
    writers: int = 1,
    rejected: Sequence[Rejection] = (),
    on_progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Store ``events`` for ``tenant``; ``rejected`` are lines already refused (unreadable).

    ``writers`` batches are stored at once, each in its own unit of work: more
    than one keeps a store that takes concurrent writers (PostgreSQL) busy on
    several connections. ``on_progress`` is told how many events have been
    handled after each batch.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if writers < 1:
        raise ValueError("writers must be at least 1")
    received_at = clock.now()
    usage = [sourced.event for sourced in events]
    lines = [sourced.line for sourced in events]
    refused = list(rejected)
    with uow_factory(tenant) as uow:
        devices = uow.devices.find(sorted({event.device for event in usage}))
        owners = _owners(usage, devices)
        checks = MeterChecks.read(uow, {owner for owner in set(owners) if owner is not None})
    customers = [owner for owner in owners if owner is not None]
    if len(customers) < len(usage):
        refused.extend(
            Rejection(line, _no_owner(event, devices))
            for event, line, owner in zip(usage, lines, owners, strict=True)
            if owner is None
        )
        kept = [index for index, owner in enumerate(owners) if owner is not None]
        usage, lines = [usage[i] for i in kept], [lines[i] for i in kept]
    repeats = _repeats(usage)
    firsts = _without(range(len(usage)), repeats)
    found = checks.refused(
        [usage[i] for i in firsts] if repeats else usage,
        [customers[i] for i in firsts] if repeats else customers,
        [lines[i] for i in firsts] if repeats else lines,
    )
    failed = {firsts[position]: reason for position, reason in found.items()}
    refused.extend(Rejection(lines[index], reason) for index, reason in failed.items())
    duplicates = 0
    for index, first in repeats.items():
        if first in failed:
            reason = f"id: repeats the id of line {lines[first]}, which was rejected"
            refused.append(Rejection(lines[index], reason))
        else:
            duplicates += 1
    refused.sort(key=lambda rejection: rejection.line)
    if atomic and refused:
        return IngestReport(0, 0, tuple(refused))
    chosen = _without(firsts, failed)
    accepted = [usage[i] for i in chosen]
    owned_by = [customers[i] for i in chosen]
    if atomic:
        stored = _store_atomically(
            uow_factory, tenant, accepted, owned_by, received_at, batch_size, on_progress
        )
    else:
        stored = _store_in_batches(
            uow_factory, tenant, accepted, owned_by, received_at, batch_size, writers, on_progress
        )
    return IngestReport(stored, duplicates + len(accepted) - stored, tuple(refused))


def _owners(events: Sequence[UsageEvent], devices: dict[str, Device]) -> list[str | None]:
    """Who owned each event's device at its timestamp (``None``: unknown, or nobody yet)."""
    device_ids = [event.device for event in events]
    first_owner = {id: device.ownership[0] for id, device in devices.items()}
    owners: list[str | None] = list(
        map({id: owner.customer_id for id, owner in first_owner.items()}.get, device_ids)
    )
    earliest = min((event.timestamp for event in events), default=None)
    # One look at each event only for the devices that changed hands, or whose first
    # owner starts after the earliest event; the others' events all have that owner.
    careful = {
        id
        for id, device in devices.items()
        if len(device.ownership) > 1 or (earliest is not None and first_owner[id].start > earliest)
    }
    if careful:
        for index in [index for index, id in enumerate(device_ids) if id in careful]:
            ownership = devices[device_ids[index]].ownership
            at = bisect_right([owner.start for owner in ownership], events[index].timestamp) - 1
            owners[index] = ownership[at].customer_id if at >= 0 else None
    return owners


def _no_owner(event: UsageEvent, devices: dict[str, Device]) -> str:
    """Why ``event`` has no owner."""
    device = devices.get(event.device)
    if device is None:
        return f"device: unknown device {event.device!r} (add it first)"
    return (
        f"timestamp: device {event.device!r} had no owner at {event.timestamp.isoformat()} "
        f"(its first owner starts at {device.ownership[0].start.isoformat()})"
    )


def _repeats(events: Sequence[UsageEvent]) -> dict[int, int]:
    """Each event whose id an earlier event has, and the position of that first event."""
    ids = [event.id for event in events]
    if len(set(ids)) == len(ids):
        return {}
    first: dict[str, int] = {}
    return {
        index: first[id] for index, id in enumerate(ids) if first.setdefault(id, index) != index
    }


def _without(positions: Sequence[int], left_out: dict[int, Any]) -> list[int]:
    return [index for index in positions if index not in left_out] if left_out else [*positions]


def _store_atomically(
    uow_factory: UnitOfWorkFactory,
    tenant: str,
    events: list[UsageEvent],
    customers: list[str],
    received_at: datetime,
    batch_size: int,
    on_progress: Callable[[int], None] | None,
) -> int:
    """All batches in one transaction, on one connection."""
    stored = 0
    with uow_factory(tenant) as uow:
        for start in range(0, len(events), batch_size):
            chunk = slice(start, start + batch_size)
            stored += uow.events.append(events[chunk], customers[chunk], received_at)
            _report(on_progress, start + batch_size, len(events))
        uow.commit()
    return stored


def _store_in_batches(
    uow_factory: UnitOfWorkFactory,
    tenant: str,
    events: list[UsageEvent],
    customers: list[str],
    received_at: datetime,
    batch_size: int,
    writers: int,
    on_progress: Callable[[int], None] | None,
) -> int:
    """Each batch in a transaction of its own, ``writers`` at a time."""

    def store(start: int) -> int:
        chunk = slice(start, start + batch_size)
        with uow_factory(tenant) as uow:
            stored = uow.events.append(events[chunk], customers[chunk], received_at)
            uow.commit()
        return stored

    stored = done = 0
    pool = ThreadPoolExecutor(max_workers=writers, thread_name_prefix="ingest")
    try:
        sizes = {
            pool.submit(store, start): min(batch_size, len(events) - start)
            for start in range(0, len(events), batch_size)
        }
        for future in as_completed(sizes):
            stored += future.result()
            done += sizes[future]
            _report(on_progress, done, len(events))
    finally:
        pool.shutdown(cancel_futures=True)  # after a failure, batches not begun never are
    return stored


def _report(on_progress: Callable[[int], None] | None, done: int, total: int) -> None:
    if on_progress is not None:
        on_progress(min(done, total))
