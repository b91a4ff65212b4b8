"""Selecting a meter's events from an event table, validated, split by group.

This is where event properties meet a meter's expectations: a selected event
must carry the meter's property as an exact number (or, for ``unique_count``,
a scalar), may not be negative unless the meter allows it, and must carry the
``group_by`` property. Every violation is reported with the event's file and
line and the property's name; nothing is guessed or skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from iotbill.domain.catalog import Meter
from iotbill.domain.errors import InvalidInput, Problem
from iotbill.domain.event_table import MISSING, EventTable, Rows
from iotbill.domain.metering.base import PropertyKind, Window
from iotbill.domain.periods import Period
from iotbill.domain.quantities import QuantityError, Scaled, decimal_text, to_scaled

MAX_REPORTED = 50
SCALARS = (str, int, Decimal, bool)


@dataclass(frozen=True, slots=True)
class GroupUsage:
    """One group's window, and the per-event amounts a ``dynamic`` model reads."""

    group: str | None
    window: Window
    amounts: Scaled


def select(
    table: EventTable, meter: Meter, period: Period, amount_property: str | None = None
) -> list[GroupUsage]:
    """The meter's events in ``period``: one :class:`GroupUsage` per group value.

    Without ``group_by`` there is exactly one group, labelled ``None``, even
    when no event matched. With it, groups are ordered by label.
    """
    problems = _Problems(table, meter.code)
    aggregation = meter.aggregator()
    kind = aggregation.property_kind
    rows = _matching_rows(table, meter)
    start, end = period.start_micros, period.end_micros
    all_times = table.timestamps[rows]
    stop = int(np.searchsorted(all_times, end, side="left"))
    first = int(np.searchsorted(all_times[:stop], start, side="left"))
    in_period = rows[first:stop]
    timestamps = all_times[first:stop]

    labels = _labels(table, meter, in_period, problems)
    prior_rows: dict[str | None, int] = {}
    if aggregation.carries_prior_reading and first > 0:
        earlier = rows[:first]
        for label, row in zip(
            reversed(_labels(table, meter, earlier, problems)),
            reversed(earlier.tolist()),
            strict=True,
        ):
            prior_rows.setdefault(label, row)
    values = _numbers(table, meter, meter.property, in_period, problems, kind)
    priors = _numbers(
        table, meter, meter.property, np.array(list(prior_rows.values()), np.intp), problems, kind
    )
    prior_values = dict(zip(prior_rows, priors.tolist(), strict=True))
    amounts = _numbers(table, meter, amount_property, in_period, problems, PropertyKind.NUMBER)
    keys = _keys(table, meter, in_period, problems) if kind is PropertyKind.KEY else []
    problems.raise_if_any()

    if meter.group_by is None:
        window = Window(start, end, timestamps, values, tuple(keys), prior_values.get(None))
        return [GroupUsage(None, window, amounts)]
    code_of: dict[str | None, int] = {}
    codes = np.array([code_of.setdefault(label, len(code_of)) for label in labels], np.intp)
    order = np.argsort(codes, kind="stable")
    bounds = np.concatenate(([0], np.cumsum(np.bincount(codes, minlength=len(code_of)))))
    result = []
    for label in sorted(code_of.keys() | prior_values.keys(), key=str):
        code = code_of.get(label)
        members = order[bounds[code] : bounds[code + 1]] if code is not None else order[:0]
        window = Window(
            start,
            end,
            timestamps[members],
            values[members] if values.size else values,
            tuple(keys[i] for i in members.tolist()) if keys else (),
            prior_values.get(label),
        )
        result.append(GroupUsage(label, window, amounts[members] if amounts.size else amounts))
    return result


class _Problems:
    """Problems with events, each located at its file and line; the first few are kept."""

    def __init__(self, table: EventTable, meter_code: str) -> None:
        self.table = table
        self.meter_code = meter_code
        self.problems: list[Problem] = []
        self.more = 0

    def add(self, row: int, field: str, message: str) -> None:
        if len(self.problems) >= MAX_REPORTED:
            self.more += 1
            return
        location = f"{self.table.location(row)}: properties.{field}"
        self.problems.append(Problem(location, f"{message} (meter {self.meter_code!r})"))

    def raise_if_any(self) -> None:
        if self.problems:
            if self.more:
                self.problems.append(Problem("", f"... and {self.more} more problems like these"))
            raise InvalidInput(self.problems)


def _matching_rows(table: EventTable, meter: Meter) -> Rows:
    rows = table.rows_of_type(meter.event_type)
    for name, accepted in meter.filters:
        if rows.size == 0:
            break
        keep = [_equals_any(value, accepted) for value in table.values(name, rows)]
        rows = rows[np.array(keep, dtype=bool)]
    return rows


def _equals_any(value: Any, accepted: tuple[Any, ...]) -> bool:
    """JSON equality: ``true`` is not ``1``, ``1.0`` is ``1``."""
    is_bool = type(value) is bool
    return any(is_bool == (type(option) is bool) and value == option for option in accepted)


def _labels(table: EventTable, meter: Meter, rows: Rows, problems: _Problems) -> list[str | None]:
    if meter.group_by is None:
        return [None] * int(rows.size)
    labels: list[str | None] = []
    for row, value in zip(rows.tolist(), table.values(meter.group_by, rows), strict=True):
        if value is MISSING or not isinstance(value, SCALARS):
            problems.add(row, meter.group_by, "is required as a scalar by group_by")
        labels.append(_label(value))
    return labels


def _label(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return decimal_text(value.normalize())
    return str(value)


def _numbers(
    table: EventTable,
    meter: Meter,
    name: str | None,
    rows: Rows,
    problems: _Problems,
    kind: PropertyKind,
) -> Scaled:
    if name is None or kind is not PropertyKind.NUMBER or rows.size == 0:
        return np.empty(0, dtype=np.int64)
    raw = table.values(name, rows)
    try:
        scaled = [
            value * 1_000_000_000 if type(value) is int else to_scaled(value) for value in raw
        ]
        column = np.array(scaled, dtype=np.int64)
    except (QuantityError, OverflowError, TypeError):
        scaled = []
        for row, value in zip(rows.tolist(), raw, strict=True):
            scaled.append(_checked(row, name, value, problems))
        column = np.array(scaled, dtype=np.int64)
    if not meter.allow_negative:
        for position in np.flatnonzero(column < 0).tolist():
            problems.add(
                int(rows[position]),
                name,
                f"negative value {decimal_text(Decimal(int(column[position])).scaleb(-9))} "
                "is not allowed (set allow_negative: true on the meter to accept it)",
            )
    return column


def _checked(row: int, name: str, value: Any, problems: _Problems) -> int:
    if value is MISSING:
        problems.add(row, name, "is required")
        return 0
    try:
        return to_scaled(value)
    except QuantityError as error:
        problems.add(row, name, str(error))
        return 0


def _keys(table: EventTable, meter: Meter, rows: Rows, problems: _Problems) -> list[Any]:
    assert meter.property is not None
    keys = table.values(meter.property, rows)
    for row, key in zip(rows.tolist(), keys, strict=True):
        if key is MISSING or not isinstance(key, SCALARS):
            problems.add(row, meter.property, "is required as a string, number or boolean")
    return keys
