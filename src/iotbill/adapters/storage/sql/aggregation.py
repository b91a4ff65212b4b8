"""Meters pushed down to SQL: the queries, for SQLite and for PostgreSQL.

``sum``, ``count``, ``average``, ``max``, ``min``, ``unique_count`` and ``latest``
are one GROUP BY over the ``measures`` column (see ``tables``): numbers are integer
nano-units, so every figure is exact (SQLite's sum is split into 32-bit halves,
as :func:`~iotbill.domain.quantities.exact_sum` does, so it cannot overflow; an
average is that sum divided by the number of events, in Python, exactly).
Values compare as the pure core compares them: ``1`` equals ``1.0``, ``true``
is not ``1``, the string ``"1"`` is not the number. Latest is by ``(timestamp,
id)`` with ids in code-point order (``COLLATE "C"`` on PostgreSQL).

Each query also counts the events the meter cannot take (a missing or
non-numeric value, a missing group), the smallest value, and the events that
correct or void another; when any is found, or a meter cannot be written in SQL
(a filter value with more than nine decimals, a property name with a double
quote), the caller falls back to the pure core, which decides which events count
and reports every problem exactly as ``preview`` does. The same query serves the
store's ``aggregate`` and a bill run's measured quantities
(:mod:`~iotbill.adapters.storage.sql.measured`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

import msgspec

from iotbill.adapters.storage.sql.measures import measure
from iotbill.domain.catalog import Meter
from iotbill.domain.metering import PropertyKind
from iotbill.domain.metering.selection import Measured
from iotbill.domain.quantities import decimal_text, from_scaled
from iotbill.services.ports import EventScope

PUSHED_DOWN = frozenset({"count", "sum", "average", "max", "min", "unique_count", "latest"})
_SCALAR = (str, bool, int, Decimal)


class NotExpressible(Exception):
    """The meter cannot be written in SQL exactly; use the pure core."""


@dataclass
class Query:
    """SQL text being built, with its bound parameters.

    ``numbered``: on SQLite, the parameters are written ``?1``, ``?2``... and given
    by position (:attr:`arguments`), for a statement run by the driver itself, which
    binds a tuple several times faster than a dict by name: a bill run's statement of
    3,500 values spent a third of its 40 ms binding them by name.
    """

    dialect: str
    parameters: dict[str, Any] = field(default_factory=dict)
    numbered: bool = False

    def bind(self, value: Any) -> str:
        name = f"p{len(self.parameters)}"
        self.parameters[name] = value
        if self.numbered and self.dialect == "sqlite":
            return f"?{len(self.parameters)}"
        return f":{name}"

    @property
    def arguments(self) -> dict[str, Any] | tuple[Any, ...]:
        """The parameters as the statement takes them: by position where ``numbered``."""
        if self.numbered and self.dialect == "sqlite":
            return tuple(self.parameters.values())
        return self.parameters

    def kind(self, name: str) -> str:
        """The JSON type of property ``name`` in ``measures``; NULL when it is missing."""
        if self.dialect == "sqlite":
            return f"json_type(measures, {self.bind(_json_path(name))})"
        return f"jsonb_typeof(measures -> {self.bind(name)})"

    def number(self, name: str) -> str:
        """Property ``name`` as integer nano-units; NULL unless it is an exact number."""
        if self.dialect == "sqlite":
            path = self.bind(_json_path(name))
            return (
                f"(CASE WHEN json_type(measures, {path}) = 'integer' "
                f"THEN json_extract(measures, {path}) END)"
            )
        key = self.bind(name)
        return (
            f"(CASE WHEN jsonb_typeof(measures -> {key}) = 'number' "
            f"THEN (measures ->> {key})::bigint END)"
        )

    def value(self, name: str) -> str:
        """Property ``name`` as SQL sees it: with :meth:`kind`, it identifies the JSON value."""
        if self.dialect == "sqlite":
            return f"json_extract(measures, {self.bind(_json_path(name))})"
        return f"(measures ->> {self.bind(name)})"

    def is_key(self, name: str) -> str:
        """Whether property ``name`` holds a scalar the pure core can compare."""
        kinds = (
            "('integer', 'text', 'true', 'false')"
            if self.dialect == "sqlite"
            else "('number', 'string', 'boolean')"
        )
        return f"COALESCE({self.kind(name)} IN {kinds}, false)"

    def equals(self, name: str, accepted: Any) -> str:
        """Whether property ``name`` equals the JSON scalar ``accepted``."""
        stored = measure(accepted)
        if stored is None or not isinstance(accepted, _SCALAR):
            raise NotExpressible(f"filter value {accepted!r}")
        if self.dialect == "postgresql":
            literal = self.bind(msgspec.json.encode(stored).decode())
            return f"(measures -> {self.bind(name)}) = CAST({literal} AS jsonb)"
        if isinstance(stored, bool):
            return f"{self.kind(name)} = {self.bind('true' if stored else 'false')}"
        expected = "text" if isinstance(stored, str) else "integer"
        return f"({self.kind(name)} = '{expected}' AND {self.value(name)} = {self.bind(stored)})"

    def scope(self, tenant_id: int, scope: EventScope, event_types: list[str]) -> str:
        """The WHERE conditions that select the scope's events of ``event_types``."""
        # No types selects nothing ("IN ()" is not SQL everywhere; nothing equals NULL).
        types = ", ".join(self.bind(event_type) for event_type in event_types) or "NULL"
        conditions = [
            f"tenant_id = {self.bind(tenant_id)}",
            f"customer_id = {self.bind(scope.customer)}",
            f"event_type IN ({types})",
        ]
        if scope.devices is not None:
            listed = ", ".join(self.bind(device) for device in sorted(scope.devices)) or "NULL"
            conditions.append(f"device_id IN ({listed})")
        if scope.excluded_devices:
            listed = ", ".join(self.bind(device) for device in sorted(scope.excluded_devices))
            conditions.append(f"device_id NOT IN ({listed})")
        return " AND ".join(conditions)

    def filters(self, meter: Meter) -> list[str]:
        return [
            "(" + " OR ".join(self.equals(name, value) for value in accepted) + ")"
            for name, accepted in meter.filters
        ]

    def latest_first(self) -> str:
        collation = ' COLLATE "C"' if self.dialect == "postgresql" else ""
        return f"occurred_at DESC, event_id{collation} DESC"


def _json_path(name: str) -> str:
    if '"' in name:
        raise NotExpressible(f"property name {name!r}")
    return f'$."{name}"'


COUNT_KEPT = "SUM(CASE WHEN kept THEN 1 ELSE 0 END)"


def aggregate_query(query: Query, meter: Meter, where: str) -> str:
    """One row per group: ``group_kind``, ``group_value``, ``events``, ``invalid`` (events
    the meter cannot take), the quantity (``quantity``, and ``quantity_low``: a sum's
    ``high, low`` halves on SQLite), ``smallest`` value, and ``naming``.

    ``where`` selects the events of the meter's type in its scope and period; the
    meter's filters then choose which of them count (``kept``). ``naming`` counts every
    selected event that corrects or voids another, kept or not: the pure core decides
    which events count before any filter (a correction the filters leave out still
    takes the place of the event it corrects), so with any such event the caller falls
    back to it. A group with no kept event has ``events`` 0.
    """
    kind = meter.aggregator().property_kind
    kept = " AND ".join(query.filters(meter)) or "true"
    readable = ["true"]
    number = "CAST(NULL AS BIGINT)"
    columns = ["NULL AS group_kind", "NULL AS group_value"]
    if meter.group_by is not None:
        readable.append(query.is_key(meter.group_by))
        columns = [
            f"{query.kind(meter.group_by)} AS group_kind",
            f"{query.value(meter.group_by)} AS group_value",
        ]
    if kind is PropertyKind.NUMBER:
        assert meter.property is not None
        number = query.number(meter.property)
    elif kind is PropertyKind.KEY:
        assert meter.property is not None
        readable.append(query.is_key(meter.property))
        if query.dialect == "sqlite":
            key = f"{query.kind(meter.property)} || ':' || {query.value(meter.property)}"
        else:
            key = f"(measures -> {query.bind(meter.property)})"
        columns.append(f"{key} AS key")
    if meter.aggregation == "latest":
        columns += ["occurred_at", "event_id"]
    invalid = "NOT readable" + (" OR number IS NULL" if kind is PropertyKind.NUMBER else "")
    # Each event's values are read from its measures once, in a subquery that is not
    # merged into the next (OFFSET 0, LIMIT -1): merged, each use of a value read it again.
    fence = " OFFSET 0" if query.dialect == "postgresql" else " LIMIT -1"
    selected = (
        f"SELECT {', '.join(columns)}, {number} AS number, ({' AND '.join(readable)}) AS readable, "
        f"({kept}) AS kept, replaces IS NOT NULL AS names FROM usage_events WHERE {where}{fence}"
    )
    kept_number = "CASE WHEN kept THEN number END"
    quantity = {  # an average is its sum, divided by the events' number in Python
        "count": (COUNT_KEPT, "NULL"),
        "max": (f"MAX({kept_number})", "NULL"),
        "min": (f"MIN({kept_number})", "NULL"),
        "unique_count": ("COUNT(DISTINCT CASE WHEN kept THEN key END)", "NULL"),
        "latest": ("MAX(CASE WHEN kept AND rank = 1 THEN number END)", "NULL"),
        "sum": (f"SUM(({kept_number}) >> 32)", f"SUM(({kept_number}) & 4294967295)")
        if query.dialect == "sqlite"
        else (f"SUM({kept_number})", "NULL"),
    }
    high, low = quantity[meter.aggregation if meter.aggregation != "average" else "sum"]
    if meter.aggregation == "latest":
        groups = "group_kind, group_value, " if meter.group_by else ""
        selected = (
            f"SELECT *, ROW_NUMBER() OVER (PARTITION BY {groups}kept "
            f"ORDER BY {query.latest_first()}) AS rank FROM ({selected}) AS chosen"
        )
    grouping = " GROUP BY group_kind, group_value" if meter.group_by else ""
    groups = (
        "group_kind, group_value" if meter.group_by else "NULL AS group_kind, NULL AS group_value"
    )
    return (  # (CASE, not FILTER: SQLite has FILTER only from 3.30)
        f"SELECT {groups}, {COUNT_KEPT} AS events, "
        f"SUM(CASE WHEN kept AND ({invalid}) THEN 1 ELSE 0 END) AS invalid, "
        f"{high} AS quantity, {low} AS quantity_low, MIN({kept_number}) AS smallest, "
        "SUM(CASE WHEN names THEN 1 ELSE 0 END) AS naming "
        f"FROM ({selected}) AS selected{grouping}"
    )


def group_quantities(meter: Meter, rows: Sequence[Sequence[Any]]) -> Measured | None:
    """The quantity per group of :func:`aggregate_query`'s ``rows``, ordered as the pure
    core orders groups; ``None`` if an event needs the pure core: one the meter cannot
    take (missing, not a number, negative where the meter does not allow it), or one that
    corrects or voids another."""
    number_kind = meter.aggregator().property_kind is PropertyKind.NUMBER
    found: list[tuple[tuple[str, str], tuple[str | None, Decimal]]] = []
    for group_kind, value, events, invalid, high, low, smallest, naming in rows:
        if invalid or naming:
            return None
        if number_kind and not meter.allow_negative and smallest is not None and smallest < 0:
            return None
        if meter.group_by is not None and not events:
            continue
        label = None if meter.group_by is None else _label(group_kind, value)
        quantity = _quantity(meter, high, low, events)
        found.append(((label or "", str(group_kind)), (label, quantity)))
    found.sort(key=lambda item: item[0])
    return tuple(group for _, group in found)


def _label(kind: str, value: Any) -> str:
    """The group label the pure core gives a JSON value (``json_label``)."""
    if kind in ("true", "false"):  # SQLite
        return kind
    if kind == "boolean":  # PostgreSQL
        return str(value)
    if kind in ("integer", "number"):
        return decimal_text(from_scaled(int(value)))
    return str(value)


def _quantity(meter: Meter, high: Any, low: Any, events: Any) -> Decimal:
    """A quantity as :func:`aggregate_query` gives it (a sum in halves on SQLite; no
    quantity, 0, over no events); an average is the exact sum over the number of events,
    rounded half-even to nine decimals as ``average`` rounds it."""
    if high is None:
        return Decimal(0)
    if meter.aggregation in ("count", "unique_count"):
        return Decimal(high)
    scaled = (int(high) << 32) + int(low) if low is not None else int(high)
    if meter.aggregation == "average":
        return from_scaled(round(Fraction(scaled, int(events))))
    return from_scaled(scaled)


def prior_readings_query(query: Query, meter: Meter, where: str) -> str:
    """The ``seq`` of the last event before the period per group of ``meter``.

    Events whose group value SQL cannot compare (missing, not a scalar, too many
    decimals) are all kept, so the pure core sees and judges each of them.
    """
    partition = ""
    if meter.group_by is not None:
        group = meter.group_by
        partition = (
            f"PARTITION BY {query.kind(group)}, {query.value(group)}, "
            f"CASE WHEN {query.is_key(group)} THEN NULL ELSE seq END "
        )
    return (
        f"SELECT seq FROM (SELECT seq, ROW_NUMBER() OVER ({partition}"
        f"ORDER BY {query.latest_first()}) AS rank FROM usage_events WHERE {where}) AS ranked "
        "WHERE rank = 1"
    )
