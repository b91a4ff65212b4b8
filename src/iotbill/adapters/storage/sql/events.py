"""The event store on SQL: bulk appends, meters pushed down, windows loaded for the pure core."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy import Connection, func, select, text, update

from iotbill.adapters.storage.sql import aggregation, bulk, daily_sums, rollups
from iotbill.adapters.storage.sql.aggregation import NotExpressible, Query
from iotbill.adapters.storage.sql.measured import measure_windows
from iotbill.adapters.storage.sql.repository import chunks
from iotbill.adapters.storage.sql.tables import usage_events
from iotbill.adapters.storage.sql.windows import (
    ARRAY,
    JOINED,
    REPLACEMENT,
    VALUES,
    Reading,
    StoredRows,
    count_events,
    joined_properties,
    load_events,
    stored_event,
)
from iotbill.domain.catalog import Meter
from iotbill.domain.event_table import EventTable
from iotbill.domain.events import UsageEvent
from iotbill.domain.metering import Carried
from iotbill.domain.metering.selection import counts_from_first
from iotbill.domain.metering.selection import select as select_usage
from iotbill.domain.periods import Period, from_micros, to_micros
from iotbill.services.ports import (
    Appended,
    EventScope,
    EventWindow,
    GroupQuantity,
    PreparedEvents,
)

_PROPERTIES = msgspec.json.Decoder(dict[str, Any], float_hook=Decimal)


class SqlEventStore:
    """One tenant's events in ``usage_events``, on the unit of work's connection."""

    def __init__(self, connection: Callable[[], Connection], tenant_id: Callable[[], int]):
        self._connection = connection
        self._tenant_id = tenant_id

    def append(
        self, events: Sequence[UsageEvent], customers: Sequence[str], received_at: datetime
    ) -> int:
        # Prepared before the first statement: on SQLite that statement takes the write lock.
        return self.append_prepared(self.prepare(events, customers, received_at)).stored

    def prepare(
        self, events: Sequence[UsageEvent], customers: Sequence[str], received_at: datetime
    ) -> PreparedEvents:
        return bulk.prepare(self._connection().dialect.name, events, customers, received_at)

    def append_prepared(self, prepared: PreparedEvents) -> Appended:
        if not isinstance(prepared, bulk.PreparedBatch):
            raise TypeError("events prepared by another kind of store")
        connection = self._connection()
        if prepared.dialect != connection.dialect.name:
            raise TypeError(
                f"events prepared for {prepared.dialect}, not {connection.dialect.name}"
            )
        tenant_id = self._tenant_id()
        written = bulk.append_rows(connection, tenant_id, prepared)
        appended = Appended(written.stored, written.skipped)
        if not written.stored:
            return appended
        # The new events that name no other add their sums (those stored already left
        # out); the days of those that name another are recomputed (which events count
        # there is for the events to say).
        days, hours = prepared.sums.increments(written.skipped) if prepared.sums else ((), ())
        if prepared.replacing:  # a refresh follows: all it and the add touch, held alone
            series = {(row[0], row[1]) for row in days}
            series |= {(row["customer_id"], row["event_type"]) for row in prepared.replacing}
            rollups.hold(connection, tenant_id, series)
        rollups.add(connection, tenant_id, days, hours, alone=bool(prepared.replacing))
        if prepared.replacing:
            named = [
                (row["customer_id"], row["event_type"], row["occurred_at"] // daily_sums.DAY)
                for row in prepared.replacing
            ]
            rollups.refresh(connection, tenant_id, named, naming=True)
        return appended

    def count(self) -> int:
        statement = select(func.count()).where(usage_events.c.tenant_id == self._tenant_id())
        return int(self._connection().execute(statement).scalar_one())

    def find(self, ids: Sequence[str]) -> dict[str, UsageEvent]:
        found: dict[str, UsageEvent] = {}
        if self._connection().dialect.name == "sqlite":
            return self._find_sqlite(ids) if ids else found
        for chunk in chunks(ids):
            query = Query(self._connection().dialect.name)
            statement = (
                "SELECT e.event_id, e.event_type, e.device_id, e.occurred_at, e.properties, "
                f"{REPLACEMENT} FROM usage_events AS e "
                f"WHERE e.tenant_id = {query.bind(self._tenant_id())} "
                f"AND e.event_id IN ({', '.join(query.bind(id) for id in chunk)})"
            )
            for id, kind, device, at, doc, named in self._connection().execute(
                text(statement), query.parameters
            ):
                found[id] = stored_event(id, kind, device, at, _PROPERTIES.decode(doc), named)
        return found

    def _find_sqlite(self, ids: Sequence[str]) -> dict[str, UsageEvent]:
        """:meth:`find` on SQLite: the ids in as one JSON array, the events out as one
        row of arrays (the properties as stored, joined), decoded in one call each. Row
        by row, each row waited its turn for Python's interpreter lock behind the thread
        preparing the next batch of an ingest, which reads back what it skipped."""
        columns = ("e.event_id", "e.event_type", "e.device_id", "e.occurred_at", REPLACEMENT)
        statement = (
            f"SELECT {', '.join(ARRAY['sqlite'].format(column) for column in columns)}, "
            f"{JOINED['sqlite']} FROM usage_events AS e WHERE e.tenant_id = ? "
            "AND e.event_id IN (SELECT value FROM json_each(?))"
        )
        driver: Any = self._connection().connection.dbapi_connection
        cursor = driver.cursor()
        try:
            cursor.execute(statement, (self._tenant_id(), msgspec.json.encode(list(ids)).decode()))
            (*gathered, properties) = cursor.fetchone()
        finally:
            cursor.close()
        if properties is None:  # no event found
            return {}
        found_ids, types, devices, micros, named = map(VALUES.decode, gathered)
        return {
            id: stored_event(id, kind, device, at, doc, replacement)
            for id, kind, device, at, doc, replacement in zip(
                found_ids,
                types,
                devices,
                micros,
                joined_properties(properties),
                named,
                strict=True,
            )
        }

    def replaced(self, ids: Sequence[str]) -> dict[str, str]:
        columns = usage_events.c
        found: dict[str, str] = {}
        for chunk in chunks(ids):
            statement = select(columns.replaces, columns.event_id).where(
                columns.tenant_id == self._tenant_id(), columns.replaces.in_(chunk)
            )
            found.update({target: by for target, by in self._connection().execute(statement)})
        return found

    def earliest_of_device(self, device: str, owner: str, since: datetime) -> datetime | None:
        statement = select(func.min(usage_events.c.occurred_at)).where(
            *self._of_device(device, owner, since)
        )
        found = self._connection().execute(statement).scalar_one()
        return None if found is None else from_micros(found)

    def reassign(self, device: str, owner: str, since: datetime, to: str) -> int:
        """Pass the events to ``to``, and recompute the roll-up of the days they leave
        and enter."""
        connection = self._connection()
        columns = usage_events.c
        hours = select(columns.event_type, columns.occurred_at).where(
            *self._of_device(device, owner, since)
        )
        moved = [(kind, at) for kind, at in connection.execute(hours)]
        statement = (
            update(usage_events)
            .where(*self._of_device(device, owner, since))
            .values(customer_id=to)
        )
        count = int(connection.execute(statement).rowcount)
        if moved:
            touched = {
                (customer, kind, at // daily_sums.DAY)
                for kind, at in moved
                for customer in (owner, to)
            }
            rollups.refresh(connection, self._tenant_id(), touched, naming=self._names_any())
        return count

    def running_total(self, meter: Meter, span: Period, scope: EventScope) -> Decimal:
        """From the roll-up and the partial days at the ends (``rollups``). The roll-up
        keeps customers' totals, without filters: a meter with filters, or a scope of some
        devices, is pushed down whole."""
        if meter.aggregation not in ("count", "sum"):
            raise ValueError(f"meter {meter.code!r} aggregates by {meter.aggregation}, not summed")
        if scope.devices is not None or scope.excluded_devices or meter.filters:
            return self._total(meter, span, scope)
        return rollups.running_total(
            self._connection(), self._tenant_id(), meter, scope.customer, span
        )

    def _total(self, meter: Meter, span: Period, scope: EventScope) -> Decimal:
        return sum((group.quantity for group in self.aggregate(meter, span, scope)), Decimal(0))

    def _of_device(self, device: str, owner: str, since: datetime) -> list[Any]:
        """The events of ``device`` owned by ``owner`` from ``since``: found through the
        customer index, so only the owner's events are read, not the tenant's."""
        columns = usage_events.c
        return [
            columns.tenant_id == self._tenant_id(),
            columns.customer_id == owner,
            columns.device_id == device,
            columns.occurred_at >= to_micros(since),
        ]

    def _names_any(self) -> bool:
        """Whether any event of the tenant corrects or voids another: one look at an index
        that holds only such events, so the usual answer, no, costs next to nothing."""
        statement = select(usage_events.c.seq).where(
            usage_events.c.tenant_id == self._tenant_id(), usage_events.c.replaces.is_not(None)
        )
        return self._connection().execute(statement.limit(1)).first() is not None

    def aggregate(self, meter: Meter, period: Period, scope: EventScope) -> list[GroupQuantity]:
        if meter.aggregation in aggregation.PUSHED_DOWN and (
            not meter.recurring or counts_from_first(meter)
        ):
            try:
                found = self._pushed_down(meter, period, scope)
            except NotExpressible:
                found = None
            if found is not None:
                return found
        table = self.load(scope, [meter], period)
        aggregator = meter.aggregator()
        return [
            GroupQuantity(usage.group, aggregator.aggregate(usage.window))
            for usage in select_usage(table, meter, period)
        ]

    def _pushed_down(
        self, meter: Meter, period: Period, scope: EventScope
    ) -> list[GroupQuantity] | None:
        """The quantities computed in SQL, or ``None`` if an event needs the pure core: one
        it cannot read in SQL, or one that corrects or voids another (which counts is the
        pure core's to say)."""
        query = Query(self._connection().dialect.name)
        where = [query.scope(self._tenant_id(), scope, [meter.event_type])]
        if not counts_from_first(meter):  # a recurring sum: every event up to the end
            where.append(f"occurred_at >= {query.bind(period.start_micros)}")
        where.append(f"occurred_at < {query.bind(period.end_micros)}")
        statement = aggregation.aggregate_query(query, meter, " AND ".join(where))
        rows = self._connection().execute(text(statement), query.parameters).all()
        found = aggregation.group_quantities(meter, rows)
        if found is None:
            return None
        return [GroupQuantity(group, quantity) for group, quantity in found]

    def load(
        self,
        scope: EventScope,
        meters: Sequence[Meter],
        period: Period,
        received_before: datetime | None = None,
    ) -> EventTable:
        connection = self._connection()
        tenant_id = self._tenant_id()
        types = sorted({meter.event_type for meter in meters})
        query = Query(connection.dialect.name)
        conditions = [
            query.scope(tenant_id, scope, types),
            f"occurred_at >= {query.bind(period.start_micros)}",
            f"occurred_at < {query.bind(period.end_micros)}",
            *_received_before(query, received_before),
        ]
        seqs = [f"SELECT seq FROM usage_events WHERE {' AND '.join(conditions)}"]
        carried = [m for m in meters if m.aggregator().carried is not Carried.NOTHING]
        naming = bool(carried) and self._names_any()
        for meter in carried:
            seqs.append(
                _prior_readings(query, tenant_id, scope, meter, period, received_before, naming)
            )
        statement = (
            "SELECT e.seq, e.event_id, e.event_type, e.device_id, e.occurred_at, e.properties, "
            f"{REPLACEMENT} FROM usage_events AS e WHERE e.seq IN ({' UNION '.join(seqs)})"
        )
        found = StoredRows.empty()
        ids: list[str] = []
        devices: list[str] = []
        replacements: list[str | None] = []
        properties = []
        for seq, event_id, event_type, device, occurred, doc, named in connection.execute(
            text(statement), query.parameters
        ):
            found.seqs.append(seq)
            ids.append(event_id)
            found.types.append(event_type)
            devices.append(device)
            found.micros.append(occurred)
            properties.append(_PROPERTIES.decode(doc))
            replacements.append(named)
        found.ids, found.devices, found.replacements = ids, devices, replacements
        found.properties = properties
        return found.table()

    def load_many(self, windows: Sequence[EventWindow]) -> list[EventTable]:
        """One query for the windows whose meters read only their period (see
        :mod:`~iotbill.adapters.storage.sql.windows`), and one more for the columns pricing
        seldom reads; :meth:`load` for the others, whose readings carried into the period
        take queries of their own."""
        return self._load_many(windows, "all")

    def load_for_pricing(self, windows: Sequence[EventWindow]) -> list[EventTable]:
        """A table of quantities measured in SQL for each window that lists what it is
        ``measured`` by, where they can be (:mod:`~iotbill.adapters.storage.sql.measured`);
        for the others, :meth:`load_many`, but the columns pricing seldom reads are read
        for a window only when its table asks for them (two events at one instant, a
        value that ``measures`` cannot give, an event named in an error)."""
        measured = measure_windows(self._connection(), self._tenant_id(), windows)
        unmeasured = [
            window for window, table in zip(windows, measured, strict=True) if table is None
        ]
        loaded = iter(self._load_many(unmeasured, "when_asked") if unmeasured else ())
        return [next(loaded) if table is None else table for table in measured]

    def _load_many(self, windows: Sequence[EventWindow], reading: Reading) -> list[EventTable]:
        found = iter(
            load_events(
                self._connection(),
                self._tenant_id(),
                [window for window in windows if not _carries_readings(window)],
                reading,
            )
        )
        tables = []
        for window in windows:
            if _carries_readings(window):
                scope, period = window.scope, window.period
                tables.append(self.load(scope, window.meters, period, window.received_before))
            else:
                tables.append(next(found).table())
        return tables

    def count_many(self, windows: Sequence[EventWindow]) -> list[int]:
        return count_events(self._connection(), self._tenant_id(), windows)


def _carries_readings(window: EventWindow) -> bool:
    return any(meter.aggregator().carried is not Carried.NOTHING for meter in window.meters)


def _prior_readings(
    query: Query,
    tenant_id: int,
    scope: EventScope,
    meter: Meter,
    period: Period,
    received_before: datetime | None,
    naming: bool,
) -> str:
    """The ``seq`` of the readings a meter carries into ``period``: the last per group, or,
    where the meter cannot be written in SQL or an earlier event corrects or voids another
    (then which reading came last is the pure core's to say), every earlier event of its
    type; every one too for a meter that carries the total of them all."""
    before = [
        query.scope(tenant_id, scope, [meter.event_type]),
        f"occurred_at < {query.bind(period.start_micros)}",
        *_received_before(query, received_before),
    ]
    everything = f"SELECT seq FROM usage_events WHERE {' AND '.join(before)}"
    if meter.aggregator().carried is Carried.TOTAL:
        return everything
    try:
        filters = query.filters(meter)
        last = aggregation.prior_readings_query(query, meter, " AND ".join(before + filters))
    except NotExpressible:
        return everything
    if not naming:  # no event of the tenant names another
        return last
    return f"{last} UNION {everything} AND EXISTS ({everything} AND replaces IS NOT NULL)"


def _received_before(query: Query, instant: datetime | None) -> list[str]:
    return [] if instant is None else [f"received_at < {query.bind(to_micros(instant))}"]
