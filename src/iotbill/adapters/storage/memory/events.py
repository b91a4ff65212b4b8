"""Usage events, in memory: kept in the order they arrived, metered by the pure core over the
whole history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from iotbill.adapters.storage.memory.base import StoredEvent, _Repository
from iotbill.domain.catalog import Meter
from iotbill.domain.event_table import STORED, EventTable
from iotbill.domain.events import UsageEvent
from iotbill.domain.metering.selection import measured_table, select
from iotbill.domain.periods import Period
from iotbill.services.ports import (
    Appended,
    EventScope,
    EventWindow,
    GroupQuantity,
    PreparedEvents,
)


@dataclass(frozen=True, slots=True)
class _Reassignment:
    """Events of ``device`` at or after ``since`` pass from ``owner`` to ``to``."""

    device: str
    owner: str
    since: datetime
    to: str

    def applies_to(self, stored: StoredEvent) -> bool:
        return (
            stored.event.device == self.device
            and stored.customer == self.owner
            and stored.event.timestamp >= self.since
        )

    def apply(self, events: list[StoredEvent]) -> list[StoredEvent]:
        return [
            replace(stored, customer=self.to) if self.applies_to(stored) else stored
            for stored in events
        ]


@dataclass(frozen=True, slots=True)
class _PreparedEvents:
    events: Sequence[UsageEvent]
    customers: Sequence[str]
    received_at: datetime

    @property
    def count(self) -> int:
        return len(self.events)


class MemoryEventStore(_Repository):
    def prepare(
        self, events: Sequence[UsageEvent], customers: Sequence[str], received_at: datetime
    ) -> PreparedEvents:
        return _PreparedEvents(events, customers, received_at)

    def append_prepared(self, prepared: PreparedEvents) -> Appended:
        if not isinstance(prepared, _PreparedEvents):
            raise TypeError("events prepared by another kind of store")
        seen = self._data().event_ids
        skipped = tuple(event.id for event in prepared.events if event.id in seen)
        stored = self.append(prepared.events, prepared.customers, prepared.received_at)
        return Appended(stored, skipped)

    def append(
        self, events: Sequence[UsageEvent], customers: Sequence[str], received_at: datetime
    ) -> int:
        data = self._data()
        pending = self._unit._pending
        seen = data.event_ids
        added = 0
        for event, customer in zip(events, customers, strict=True):
            if event.id not in seen:
                seen.add(event.id)
                seq = len(data.events) + len(pending) + 1
                pending.append(StoredEvent(event, customer, received_at, seq))
                added += 1
        return added

    def count(self) -> int:
        return len(self._data().events) + len(self._unit._pending)

    def find(self, ids: Sequence[str]) -> dict[str, UsageEvent]:
        wanted = set(ids)
        return {s.event.id: s.event for s in self._stored() if s.event.id in wanted}

    def replaced(self, ids: Sequence[str]) -> dict[str, str]:
        wanted = set(ids)
        return {
            s.event.replaces: s.event.id
            for s in self._stored()
            if s.event.replaces is not None and s.event.replaces in wanted
        }

    def earliest_of_device(self, device: str, owner: str, since: datetime) -> datetime | None:
        reassignment = _Reassignment(device, owner, since, owner)
        found = [s.event.timestamp for s in self._stored() if reassignment.applies_to(s)]
        return min(found, default=None)

    def reassign(self, device: str, owner: str, since: datetime, to: str) -> int:
        reassignment = _Reassignment(device, owner, since, to)
        data, unit = self._data(), self._unit
        moved = sum(map(reassignment.applies_to, self._stored()))
        if moved:
            data.events = reassignment.apply(data.events)  # a copy: others share the list
            unit._pending = reassignment.apply(unit._pending)
            unit._reassignments.append(reassignment)
        return moved

    def _stored(self) -> list[StoredEvent]:
        return [*self._data().events, *self._unit._pending]

    def aggregate(self, meter: Meter, period: Period, scope: EventScope) -> list[GroupQuantity]:
        table = self.load(scope, [meter], period)
        aggregator = meter.aggregator()
        return [
            GroupQuantity(usage.group, aggregator.aggregate(usage.window))
            for usage in select(table, meter, period)
        ]

    def running_total(self, meter: Meter, span: Period, scope: EventScope) -> Decimal:
        """The pure core's quantity: the reference that the SQL roll-up is tested against."""
        if meter.aggregation not in ("count", "sum"):
            raise ValueError(f"meter {meter.code!r} aggregates by {meter.aggregation}, not summed")
        return sum((group.quantity for group in self.aggregate(meter, span, scope)), Decimal(0))

    def load(
        self,
        scope: EventScope,
        meters: Sequence[Meter],
        period: Period,
        received_before: datetime | None = None,
    ) -> EventTable:
        chosen = self._chosen(EventWindow(scope, tuple(meters), period, received_before))
        return EventTable.build(
            [stored.event for stored in chosen], [stored.seq for stored in chosen], STORED
        )

    def load_many(self, windows: Sequence[EventWindow]) -> list[EventTable]:
        return [
            self.load(window.scope, window.meters, window.period, window.received_before)
            for window in windows
        ]

    def load_for_pricing(self, windows: Sequence[EventWindow]) -> list[EventTable]:
        """:meth:`load_many`, each window that lists what it is measured by as a table of
        those quantities (measured by the pure core from its events)."""
        return [
            table if window.measured is None else measured_table(table, window.measured)
            for window, table in zip(windows, self.load_many(windows), strict=True)
        ]

    def count_many(self, windows: Sequence[EventWindow]) -> list[int]:
        return [
            sum(1 for stored in self._chosen(window) if stored.event.timestamp in window.period)
            for window in windows
        ]

    def _chosen(self, window: EventWindow) -> list[StoredEvent]:
        """The window's events up to the end of its period (the whole history before it)."""
        scope, received_before = window.scope, window.received_before
        types = {meter.event_type for meter in window.meters}
        return [
            stored
            for stored in self._stored()
            if stored.customer == scope.customer
            and stored.event.type in types
            and stored.event.timestamp < window.period.end
            and (scope.devices is None or stored.event.device in scope.devices)
            and stored.event.device not in scope.excluded_devices
            and (received_before is None or stored.received_at < received_before)
        ]
