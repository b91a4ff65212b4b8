"""Storing what devices publish over MQTT: one message, one usage event, through ingest.

A message comes in on ``iotbill/{tenant}/devices/{device}/events`` and holds one
usage event as JSON. :func:`store_messages` takes a batch of them (from any
number of tenants and devices) and decides each one's fate:

* refused before storing, with the reason: a payload larger than
  ``max_payload`` bytes, one that is not JSON or not a usage event, an event
  whose ``device`` is not the device its topic names (a device only ever
  reports for itself: the broker let it publish on its own topic only), or a
  tenant that does not exist;
* otherwise stored by the same ingest service as files and HTTP batches
  (:func:`~iotbill.services.ingest.ingest`), a tenant at a time, each tenant's
  events in one transaction: the ingest's own rejections (unknown device, a
  meter refusing a value, ...) come back here with their reason.

An event id stored before is a duplicate: a broker that delivers a message
again after a crash stores nothing twice. Every refusal names the message by
its position in the batch, so the caller can tell the device (the rejected
topic) and acknowledge every message once its batch is committed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

from iotbill.domain.device_credentials import parse_events_topic
from iotbill.domain.errors import InvalidInput, NotFound
from iotbill.domain.events import SourcedEvent, UsageEvent
from iotbill.services.ingest import ingest
from iotbill.services.ports import (
    BatchReport,
    Clock,
    DeviceMessage,
    MessageRejection,
    UnitOfWorkFactory,
)

DEFAULT_MAX_PAYLOAD = 64 * 1024
"""Bytes: a usage event is a few hundred; anything near this is a mistake or an attack."""

Decoder = Callable[[bytes], UsageEvent]


def store_messages(
    uow_factory: UnitOfWorkFactory,
    messages: Sequence[DeviceMessage],
    *,
    clock: Clock,
    decode: Decoder,
    max_payload: int = DEFAULT_MAX_PAYLOAD,
) -> BatchReport:
    """Store the events of ``messages``; report what was stored and what was refused, and why.

    ``decode`` turns a payload into a usage event, raising
    :class:`~iotbill.domain.errors.InvalidInput` with the field and the reason.
    A failure of the store itself (the database is down) raises: nothing of the
    failing tenant's events is committed, and the caller delivers them again.
    """
    report = BatchReport()
    by_tenant: defaultdict[str, list[SourcedEvent]] = defaultdict(list)
    for index, message in enumerate(messages):
        named = parse_events_topic(message.topic)
        if named is None:
            report.rejected.append(
                MessageRejection(
                    index,
                    None,
                    None,
                    None,
                    f"topic: {message.topic!r} is not a"
                    " device's events topic (iotbill/{tenant}/devices/{device}/events)",
                )
            )
            continue
        tenant, device = named
        reason, event = _checked(message.payload, device, decode, max_payload)
        if reason:
            event_id = None if event is None else event.id
            report.rejected.append(MessageRejection(index, tenant, device, event_id, reason))
            continue
        assert event is not None
        by_tenant[tenant].append(SourcedEvent(event, index))
    for tenant, sourced in by_tenant.items():
        _store_tenant(uow_factory, tenant, sourced, clock, report)
    report.rejected.sort(key=lambda rejection: rejection.index)
    return report


def _checked(
    payload: bytes, device: str, decode: Decoder, max_payload: int
) -> tuple[str, UsageEvent | None]:
    """Why the payload may not be stored (``""``: it may), and its event if it has one."""
    if len(payload) > max_payload:
        return f"payload: {len(payload)} bytes, more than the {max_payload} allowed", None
    try:
        event = decode(payload)
    except InvalidInput as error:
        return "; ".join(str(problem) for problem in error.problems), None
    if event.device != device:
        return (
            f"device: the event names device {event.device!r}, but was published on the topic"
            f" of device {device!r} (a device reports only for itself)",
            event,
        )
    return "", event


def _store_tenant(
    uow_factory: UnitOfWorkFactory,
    tenant: str,
    sourced: list[SourcedEvent],
    clock: Clock,
    report: BatchReport,
) -> None:
    def rejection(index: int, reason: str) -> MessageRejection:
        event = sourced_by_index[index].event
        return MessageRejection(index, tenant, event.device, event.id, reason)

    sourced_by_index = {item.line: item for item in sourced}
    try:
        with uow_factory(tenant, read_only=True) as uow:
            uow.tenants.get(tenant)
    except NotFound as error:
        report.rejected.extend(rejection(item.line, f"tenant: {error}") for item in sourced)
        return
    done = ingest(uow_factory, tenant, sourced, clock=clock, batch_size=len(sourced), writers=1)
    report.stored += done.accepted
    report.duplicates += done.duplicates
    report.rejected.extend(rejection(found.line, found.reason) for found in done.rejected)
