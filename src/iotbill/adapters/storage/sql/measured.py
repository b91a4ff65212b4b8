"""Quantities measured in SQL for pricing: a bill run's tables of quantities, not events.

A window of a bill run lists what pricing reads of it when that is quantities alone
(``EventWindow.measured``: each a meter over a part of the window's period, see
:func:`~iotbill.domain.subscription_billing.measured_usage`). Reading every event
into Python to sum it there cost most of a bill run; here the database sums them.
For each meter, one statement measures it over every window of the batch that reads
it: each window's events are aggregated by a subquery of their own (``LATERAL`` on
PostgreSQL; on SQLite a scalar subquery that gives its groups as one JSON array),
found by a range scan of the index on ``(tenant_id, customer_id, event_type,
occurred_at)``. The aggregate is :func:`~iotbill.adapters.storage.sql.aggregation.aggregate_query`,
the one the store's ``aggregate`` runs, so both are held to the pure core by the same
contract tests. A recurring ``sum`` is measured over every event up to the part's end, so a
bill run reads none of its history either.

A window is priced from its events as before, and the pure core says what is wrong
with them, where any of its quantities cannot be measured exactly:

- an aggregation this store does not write in SQL (``weighted_sum``, ``increase``,
  ``time_weighted_average``; the domain lists no other meter carrying a reading, a cap or
  peaks), or a meter it cannot express (a filter value with more than nine decimals, a
  property name with a double quote);
- an event the meter cannot take (a missing or non-numeric value, a missing group, a
  negative value the meter does not allow);
- an event in the window that corrects or voids another: which events count is the
  pure core's to say.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import msgspec
from sqlalchemy import Connection

from iotbill.adapters.storage.sql.aggregation import (
    PUSHED_DOWN,
    NotExpressible,
    Query,
    aggregate_query,
    group_quantities,
)
from iotbill.adapters.storage.sql.statistics import refresh_outgrown
from iotbill.adapters.storage.sql.tables import usage_events
from iotbill.adapters.storage.sql.windows import CHUNK, NEVER, WANTED, rows_of, wanted
from iotbill.domain.catalog import Meter
from iotbill.domain.metering.selection import (
    Measured,
    MeasuredTable,
    Measurement,
    counts_from_first,
)
from iotbill.domain.periods import Period, to_micros
from iotbill.services.ports import EventWindow

_MEASURED = {**WANTED, "devices": "text", "excluded": "text"}
"""A measured part's columns: a window's (:data:`WANTED`, its period the part's), and
its scope's devices and excluded devices as JSON arrays (``NULL``: none named)."""
_GROUPS = msgspec.json.Decoder(list[list[Any]])
FIRST = -(2**63)
"""The start of a part measured from the first event on."""


def measure_windows(
    connection: Connection, tenant_id: int, windows: Sequence[EventWindow]
) -> list[MeasuredTable | None]:
    """For each window, the table of the quantities it lists as ``measured``; ``None``
    where its events must be read instead (see the module's docstring)."""
    found: list[dict[Measurement, Measured] | None] = [
        {} if _measurable(window) else None for window in windows
    ]
    asks: defaultdict[Meter, list[tuple[int, Period]]] = defaultdict(list)
    for item, window in enumerate(windows):
        if found[item] is not None and window.measured is not None:
            for meter, part in window.measured:
                asks[meter].append((item, part))
    if asks:
        refresh_outgrown(connection, [usage_events], sum(len(parts) for parts in asks.values()))
    for meter, parts in asks.items():
        for start in range(0, len(parts), CHUNK):
            chunk = parts[start : start + CHUNK]
            try:
                measured = _measure(connection, tenant_id, windows, meter, chunk)
            except NotExpressible:
                measured = [None] * len(chunk)
            for (item, part), quantities in zip(chunk, measured, strict=True):
                if quantities is None:
                    found[item] = None
                elif (kept := found[item]) is not None:
                    kept[Measurement(meter, part)] = quantities
    return [None if quantities is None else MeasuredTable.of(quantities) for quantities in found]


def _measurable(window: EventWindow) -> bool:
    return window.measured is not None and all(
        meter.aggregation in PUSHED_DOWN for meter, _ in window.measured
    )


def _measure(
    connection: Connection,
    tenant_id: int,
    windows: Sequence[EventWindow],
    meter: Meter,
    parts: Sequence[tuple[int, Period]],
) -> list[Measured | None]:
    """``meter`` over each of ``parts`` (a window's position and a part of its period), in
    one statement: its groups' quantities, or ``None`` where its events must be read."""
    query = Query(connection.dialect.name, numbered=True)
    scopes = [windows[item].scope for item, _ in parts]
    since_first = counts_from_first(meter)  # a recurring sum: every event up to the part's end
    columns: list[list[Any]] = [
        list(range(len(parts))),
        [scope.customer for scope in scopes],
        [FIRST if since_first else part.start_micros for _, part in parts],
        [part.end_micros for _, part in parts],
        [_before(windows[item]) for item, _ in parts],
        [_listed(scope.devices) for scope in scopes],
        [_listed(scope.excluded_devices or None) for scope in scopes],
    ]
    conditions = [
        f"tenant_id = {query.bind(tenant_id)}",
        "customer_id = wanted.customer_id",
        f"event_type = {query.bind(meter.event_type)}",
        "occurred_at >= wanted.start_at",
        "occurred_at < wanted.end_at",
        "received_at < wanted.before_at",
    ]
    if any(scope.devices is not None for scope in scopes):
        conditions.append(
            f"(wanted.devices IS NULL OR device_id IN ({_elements(query, 'devices')}))"
        )
    if any(scope.excluded_devices for scope in scopes):
        conditions.append(
            f"(wanted.excluded IS NULL OR device_id NOT IN ({_elements(query, 'excluded')}))"
        )
    aggregate = aggregate_query(query, meter, " AND ".join(conditions))
    head = wanted(query, _MEASURED, columns)
    groups: list[list[Sequence[Any]]] = [[] for _ in parts]
    if query.dialect == "postgresql":
        statement = (
            f"{head} SELECT wanted.item, found.* FROM wanted "
            f"CROSS JOIN LATERAL ({aggregate}) AS found"
        )
        for index, *row in rows_of(connection, statement, query):
            groups[index].append(row)
    else:
        fields = ", ".join(
            f"found.{name}"
            for name in (
                "group_kind",
                "group_value",
                "events",
                "invalid",
                "quantity",
                "quantity_low",
                "smallest",
                "naming",
            )
        )
        statement = (
            f"{head} SELECT wanted.item, (SELECT json_group_array(json_array({fields})) "
            f"FROM ({aggregate}) AS found) FROM wanted"
        )
        for index, found in rows_of(connection, statement, query):
            groups[index] = _GROUPS.decode(found)
    return [group_quantities(meter, rows) for rows in groups]


def _before(window: EventWindow) -> int:
    return NEVER if window.received_before is None else to_micros(window.received_before)


def _listed(devices: frozenset[str] | None) -> str | None:
    return None if devices is None else msgspec.json.encode(sorted(devices)).decode()


def _elements(query: Query, column: str) -> str:
    """The texts of the JSON array in ``wanted``'s ``column``, as a subquery's rows."""
    if query.dialect == "postgresql":
        return f"SELECT jsonb_array_elements_text(CAST(wanted.{column} AS jsonb))"
    return f"SELECT value FROM json_each(wanted.{column})"
