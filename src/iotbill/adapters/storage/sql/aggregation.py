"""Meters pushed down to SQL: the queries, for SQLite and for PostgreSQL.

``sum``, ``count``, ``max``, ``min``, ``unique_count`` and ``latest`` are one
GROUP BY over the ``measures`` column (see ``tables``): numbers are integer
nano-units, so every figure is exact (SQLite's sum is split into 32-bit halves,
as :func:`~iotbill.domain.quantities.exact_sum` does, so it cannot overflow).
Values compare as the pure core compares them: ``1`` equals ``1.0``, ``true``
is not ``1``, the string ``"1"`` is not the number. Latest is by ``(timestamp,
id)`` with ids in code-point order (``COLLATE "C"`` on PostgreSQL).

Each query also counts the events the meter cannot take (a missing or
non-numeric value, a missing group) and the smallest value; when any is found,
or a meter cannot be written in SQL (a filter value with more than nine
decimals, a property name with a double quote), the caller falls back to the
pure core, which reports every problem exactly as ``preview`` does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import msgspec

from iotbill.adapters.storage.sql.measures import measure
from iotbill.domain.catalog import Meter
from iotbill.domain.metering import PropertyKind
from iotbill.services.ports import EventScope

PUSHED_DOWN = frozenset({"count", "sum", "max", "min", "unique_count", "latest"})
_SCALAR = (str, bool, int, Decimal)


class NotExpressible(Exception):
    """The meter cannot be written in SQL exactly; use the pure core."""


@dataclass
class Query:
    """SQL text being built, with its bound parameters."""

    dialect: str
    parameters: dict[str, Any] = field(default_factory=dict)

    def bind(self, value: Any) -> str:
        name = f"p{len(self.parameters)}"
        self.parameters[name] = value
        return f":{name}"

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


def aggregate_query(query: Query, meter: Meter, where: str) -> str:
    """One row per group: group kind and value, events, invalid events, quantity, smallest.

    The quantity is ``high, low`` halves of a sum on SQLite (two columns).
    """
    kind = meter.aggregator().property_kind
    valid = ["true"]
    number = "CAST(NULL AS BIGINT)"
    if kind is PropertyKind.NUMBER:
        assert meter.property is not None
        number = query.number(meter.property)
        valid.append(f"{number} IS NOT NULL")
    elif kind is PropertyKind.KEY:
        assert meter.property is not None
        valid.append(query.is_key(meter.property))
    group_columns = ["NULL AS group_kind", "NULL AS group_value"]
    if meter.group_by is not None:
        valid.append(query.is_key(meter.group_by))
        group_columns = [
            f"{query.kind(meter.group_by)} AS group_kind",
            f"{query.value(meter.group_by)} AS group_value",
        ]
    inner = [*group_columns, f"{number} AS number", f"({' AND '.join(valid)}) AS valid"]
    if kind is PropertyKind.KEY:
        assert meter.property is not None
        if query.dialect == "sqlite":
            key = f"{query.kind(meter.property)} || ':' || {query.value(meter.property)}"
        else:
            key = f"(measures -> {query.bind(meter.property)})"
        inner.append(f"{key} AS key")
    quantity = {
        "count": "COUNT(*), NULL",
        "max": "MAX(number), NULL",
        "min": "MIN(number), NULL",
        "unique_count": "COUNT(DISTINCT key), NULL",
        "latest": "MAX(CASE WHEN rank = 1 THEN number END), NULL",
        "sum": "SUM(number >> 32), SUM(number & 4294967295)"
        if query.dialect == "sqlite"
        else "SUM(number), NULL",
    }[meter.aggregation]
    selected = f"SELECT {', '.join(inner)}, occurred_at, event_id FROM usage_events WHERE {where}"
    if meter.aggregation == "latest":
        partition = "PARTITION BY group_kind, group_value " if meter.group_by else ""
        selected = (
            f"SELECT *, ROW_NUMBER() OVER ({partition}ORDER BY {query.latest_first()}) AS rank "
            f"FROM ({selected}) AS chosen"
        )
    grouping = " GROUP BY group_kind, group_value" if meter.group_by else ""
    groups = "group_kind, group_value" if meter.group_by else "NULL, NULL"
    return (
        f"SELECT {groups}, COUNT(*), "
        f"SUM(CASE WHEN valid THEN 0 ELSE 1 END), {quantity}, MIN(number) "
        f"FROM ({selected}) AS selected{grouping}"
    )


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
