"""Helpers shared by the pricing-core unit tests: events, tables, periods and plans in one line.

Times are whole hours after :data:`T0` (negative hours fall before it), so a test reads like the
timeline it describes. Every helper builds real domain values; nothing is mocked.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from iotbill.adapters.plan_files import parse_plan_text
from iotbill.domain.catalog import Meter, Plan
from iotbill.domain.errors import InvalidInput
from iotbill.domain.event_table import EventTable
from iotbill.domain.events import UsageEvent
from iotbill.domain.metering.selection import select
from iotbill.domain.periods import Period

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SOURCE = "events.jsonl"


def at(hours: int | float, *, seconds: int = 0) -> datetime:
    """The instant ``hours`` (and ``seconds``) after :data:`T0`."""
    return T0 + timedelta(hours=hours, seconds=seconds)


def event(
    event_id: str, hours: int | float, event_type: str = "reading", **properties: Any
) -> UsageEvent:
    """A usage event of ``event_type`` at ``hours`` after :data:`T0`."""
    return UsageEvent(event_id, event_type, "device-1", at(hours), properties)


def table(*events: UsageEvent) -> EventTable:
    """The events as a table read from :data:`SOURCE` (line n holds the n-th event)."""
    return EventTable.build(list(events), source=SOURCE)


def hours(start: int | float, end: int | float) -> Period:
    """The period ``[T0 + start h, T0 + end h)``."""
    return Period(at(start), at(end))


def meter(aggregation: str, property_name: str | None = "v", **options: Any) -> Meter:
    """A meter ``m`` over ``reading`` events."""
    return Meter("m", "reading", aggregation, property_name, **options)


def quantities(
    aggregation: str,
    events: list[UsageEvent],
    period: Period,
    property_name: str | None = "v",
    **options: Any,
) -> dict[str | None, Decimal]:
    """Each group's aggregate of ``events`` over ``period`` (the group is ``None`` without
    ``group_by``), through the real selection and the registered aggregation."""
    chosen = meter(aggregation, property_name, **options)
    usages = select(table(*events), chosen, period)
    return {usage.group: chosen.aggregator().aggregate(usage.window) for usage in usages}


def quantity(aggregation: str, events: list[UsageEvent], period: Period, **options: Any) -> Decimal:
    """The single (ungrouped) aggregate of ``events`` over ``period``."""
    (result,) = quantities(aggregation, events, period, **options).values()
    return result


def plan(text: str) -> Plan:
    """The plan in YAML ``text``, loaded as a user's file would be."""
    return parse_plan_text(text, "plan.yaml")


def problems_of(error: InvalidInput) -> list[str]:
    """Every problem of ``error`` as the text a user reads."""
    return [str(problem) for problem in error.problems]
