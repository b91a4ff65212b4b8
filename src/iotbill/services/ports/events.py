"""The port of usage events: appended once each, read back by window for pricing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from iotbill.domain.catalog import Meter
from iotbill.domain.event_table import EventTable
from iotbill.domain.events import UsageEvent
from iotbill.domain.periods import Period
from iotbill.services.ports.values import (
    Appended,
    EventScope,
    EventWindow,
    GroupQuantity,
)


class PreparedEvents(Protocol):
    """Events made ready to be appended; only the store that prepared them reads them."""

    @property
    def count(self) -> int:
        """How many events."""
        ...


class EventStore(Protocol):
    """The tenant's usage events: append-only, unique by event id.

    An event's content never changes; only its owner can, when its device is
    moved from an instant before it (:meth:`reassign`).

    Quantities are the pure core's (:mod:`iotbill.domain.metering`) exactly;
    an adapter may compute them another way (SQL) only where the contract tests
    show the results equal.
    """

    def append(
        self, events: Sequence[UsageEvent], customers: Sequence[str], received_at: datetime
    ) -> int:
        """Store each event with its owner; returns how many were new.

        An event whose id is already stored is skipped (a duplicate), whatever
        its content: the first one stands.
        """
        ...

    def prepare(
        self, events: Sequence[UsageEvent], customers: Sequence[str], received_at: datetime
    ) -> PreparedEvents:
        """``events`` and their owners made ready for :meth:`append_prepared`, touching
        nothing stored: the work a bulk write does before its transaction, done in
        advance (on another unit of work, in another thread) so that the
        transaction is short."""
        ...

    def append_prepared(self, prepared: PreparedEvents) -> Appended:
        """:meth:`append` of events that :meth:`prepare` made ready (on this store), saying
        which were skipped: what an ingest reads back to tell a duplicate from a conflict."""
        ...

    def aggregate(self, meter: Meter, period: Period, scope: EventScope) -> list[GroupQuantity]:
        """The meter's quantity over ``period`` per group, as ``select`` and the aggregation
        give it: one ``None`` group without ``group_by``, else groups by label.

        :class:`~iotbill.domain.errors.InvalidInput` names every event the meter cannot
        take, as the pure core does.
        """
        ...

    def load(
        self,
        scope: EventScope,
        meters: Sequence[Meter],
        period: Period,
        received_before: datetime | None = None,
    ) -> EventTable:
        """The events that ``meters`` read for ``period``, as a table the pure core prices.

        That is every event of the meters' types in ``period`` and, for a meter that
        carries a reading into the period, at least the last reading before it per
        group, so ``select(table, meter, period)`` gives what the whole history
        would. With ``received_before``, only events stored before that instant
        (what an invoice issued then could see).
        """
        ...

    def load_many(self, windows: Sequence[EventWindow]) -> list[EventTable]:
        """:meth:`load` for each window, in order, read in as few queries as the store can."""
        ...

    def load_for_pricing(self, windows: Sequence[EventWindow]) -> list[EventTable]:
        """:meth:`load_many`, for tables used only while this unit of work is open: a
        store may leave out what pricing seldom reads (events' ids, devices and
        properties) and read it when a table first asks for it. For a window that lists
        what it is ``measured`` by, a store may give instead a table of those quantities
        alone (:class:`~iotbill.domain.metering.selection.MeasuredTable`), equal to what
        ``select`` gives of its events, where it can say them exactly; the events where
        it cannot (a value a meter cannot take, an event correcting or voiding another),
        so that pricing reports them as it does."""
        ...

    def count_many(self, windows: Sequence[EventWindow]) -> list[int]:
        """How many events each window holds: the meters' event types in its scope and
        period, stored before its ``received_before``; carried readings are not counted."""
        ...

    def count(self) -> int:
        """How many events the tenant has stored."""
        ...

    def find(self, ids: Sequence[str]) -> dict[str, UsageEvent]:
        """The stored events among ``ids``, whether they count or not (unknown ids left out)."""
        ...

    def replaced(self, ids: Sequence[str]) -> dict[str, str]:
        """Of ``ids``, those that a stored event corrects or voids, each with that event's id."""
        ...

    def earliest_of_device(self, device: str, owner: str, since: datetime) -> datetime | None:
        """When the first event of ``device`` attributed to ``owner`` at or after ``since``
        happened; ``None`` if there is none."""
        ...

    def reassign(self, device: str, owner: str, since: datetime, to: str) -> int:
        """Attribute the events of ``device`` at or after ``since`` that ``owner`` had
        to ``to`` instead (the device moved from ``since``, with those events already
        stored); returns how many. The only change ever made to a stored event."""
        ...

    def running_total(self, meter: Meter, span: Period, scope: EventScope) -> Decimal:
        """The quantity of a ``count`` or ``sum`` meter over ``span``, all groups together:
        what the pure core gives, read without rescanning the span's events where the
        store keeps a roll-up (the SQL stores: daily sums kept up at every append and
        reassignment, see ``sql/rollups``)."""
        ...
