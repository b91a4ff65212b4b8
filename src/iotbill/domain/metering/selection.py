"""Selecting a meter's events from an event table, validated, split by group.

This is where event properties meet a meter's expectations: a selected event
must carry the meter's property as an exact number (or, for ``unique_count``,
a scalar), may not be negative unless the meter allows it, and must carry the
``group_by`` property. Every violation is reported with the event's file and
line and the property's name; nothing is guessed or skipped. Everything here
is vectorised over the table's columns; only bad rows are visited one by one.

:func:`meter_problems` runs the same checks over all of a meter's events,
whatever their period, and returns them instead of raising: ingestion uses it
to refuse an event that a subscription's meter could never bill.

A :class:`MeasuredTable` holds no events, only quantities a store measured (a bill
run's, where pricing reads quantities alone): :func:`select` gives those as
windows that carry their quantity, which ``Meter.quantity`` reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple, NoReturn

import numpy as np
import numpy.typing as npt

from iotbill.domain.catalog import Meter
from iotbill.domain.errors import InvalidInput, Problem
from iotbill.domain.event_table import (
    MISSING_VALUE,
    STORED,
    VALID,
    DecodedProperties,
    EventTable,
    TypeView,
)
from iotbill.domain.events import UsageEvent
from iotbill.domain.metering.base import Carried, PropertyKind, Window
from iotbill.domain.periods import Period
from iotbill.domain.quantities import Scaled, decimal_text, exact_sum, from_scaled

MAX_REPORTED = 50
Positions = npt.NDArray[np.intp]


class EventProblem(NamedTuple):
    """What is wrong with the event at table row ``row``: its property ``field``, and why."""

    row: int
    field: str
    message: str


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
    if isinstance(table, MeasuredTable):
        return table.usage(meter, period, amount_property)
    aggregation = meter.aggregator()
    if (
        aggregation.property_kind is PropertyKind.NUMBER
        and meter.group_by is None
        and not meter.filters
        and aggregation.carried is Carried.NOTHING
        and amount_property is None
    ):
        return [_plain_usage(table, meter, period)]
    return select_general(table, meter, period, amount_property)


def select_general(
    table: EventTable, meter: Meter, period: Period, amount_property: str | None = None
) -> list[GroupUsage]:
    """:func:`select` for any meter, step by step: what its shortcut for a plain numeric
    meter (:func:`_plain_usage`) is held to."""
    view = table.view(meter.event_type)
    problems = _Problems(view)
    aggregation = meter.aggregator()
    kind = aggregation.property_kind
    positions = _matching_positions(view, meter)
    start, end = period.start_micros, period.end_micros
    times = view.timestamps[positions]
    stop = int(np.searchsorted(times, end, side="left"))
    first = int(np.searchsorted(times[:stop], start, side="left"))
    in_period = positions[first:stop]
    carries = aggregation.carried is not Carried.NOTHING
    carried = positions[:first] if carries else positions[:0]

    groups = _group_codes(view, meter, in_period, problems)
    carried_groups = _group_codes(view, meter, carried, problems)
    number_name = meter.property if kind is PropertyKind.NUMBER else None
    values = _numbers(view, meter, number_name, in_period, problems)
    priors: dict[int, int]
    if aggregation.carried is Carried.TOTAL:  # every value before counts: checked, summed
        carried_values = _numbers(view, meter, number_name, carried, problems)
        priors = _totals_per_group(carried_groups, carried_values)
    else:
        prior_positions = _last_per_group(carried_groups, carried)
        prior_values = _numbers(view, meter, number_name, prior_positions[1], problems)
        priors = dict(zip(prior_positions[0].tolist(), prior_values.tolist(), strict=True))
    amounts = _numbers(view, meter, amount_property, in_period, problems)
    keys = _keys(view, meter, in_period, problems) if kind is PropertyKind.KEY else None
    problems.raise_if_any(table, meter.code)

    timestamps = view.timestamps[in_period]
    if meter.group_by is None:
        window = Window(start, end, timestamps, values, _or_empty(keys), priors.get(-1))
        return [GroupUsage(None, window, amounts)]
    labels = view.keys(meter.group_by).labels
    order = np.argsort(groups, kind="stable")
    bounds = np.searchsorted(groups[order], np.arange(len(labels) + 1))
    result = []
    for code in sorted(set(groups.tolist()) | priors.keys(), key=labels.__getitem__):
        members = order[bounds[code] : bounds[code + 1]]
        window = Window(
            start,
            end,
            timestamps[members],
            values[members] if values.size else values,
            _or_empty(keys)[members] if keys is not None else _or_empty(None),
            priors.get(code),
        )
        usage_amounts = amounts[members] if amounts.size else amounts
        result.append(GroupUsage(labels[code], window, usage_amounts))
    return result


def _plain_usage(table: EventTable, meter: Meter, period: Period) -> GroupUsage:
    """What :func:`select_general` finds for a numeric meter with no filters, no
    ``group_by`` and no reading carried into the period, when no amounts are asked for:
    the same window and problems, without the steps that keep or group nothing (a bill
    run selects once per subscription and charge)."""
    view = table.view(meter.event_type)
    problems = _Problems(view)
    start, end = period.start_micros, period.end_micros
    times = view.timestamps
    stop = int(np.searchsorted(times, end, side="left"))
    first = int(np.searchsorted(times[:stop], start, side="left"))
    in_period = np.arange(first, stop, dtype=np.intp)
    values = _numbers(view, meter, meter.property, in_period, problems)
    problems.raise_if_any(table, meter.code)
    window = Window(start, end, times[first:stop], values, _or_empty(None), None)
    return GroupUsage(None, window, np.empty(0, dtype=np.int64))


def measurable(meter: Meter) -> bool:
    """Whether the meter's quantity over a period is one aggregate of stored events, which a
    store may measure itself (:class:`MeasuredTable`): of the period's events, or, for a
    recurring ``sum``, of every event up to the period's end (:func:`counts_from_first`).
    Not a cap or peaks, counted event by event in local days or hours, nor any other reading
    carried into the period (a level's last reading, a weighted total's changes)."""
    if meter.cap is not None or meter.per is not None:
        return False
    return meter.aggregator().carried is Carried.NOTHING or counts_from_first(meter)


def counts_from_first(meter: Meter) -> bool:
    """Whether the meter's quantity over a period is the total of its events since the first
    one, the period's and every one before it: a recurring ``sum``."""
    return meter.aggregator().carried is Carried.TOTAL and meter.aggregation == "sum"


class Measurement(NamedTuple):
    """A meter's quantity over a period, which pricing reads from a :class:`MeasuredTable`."""

    meter: Meter
    period: Period


Measured = tuple[tuple[str | None, Decimal], ...]
"""A measurement's quantity per group: one ``None`` group without ``group_by``, else a
group per label, ordered by label, as :func:`select` gives them."""


@dataclass(frozen=True, eq=False)
class MeasuredTable(EventTable):
    """A table that holds no events, only the quantities a store measured for pricing
    (``quantities``): what :func:`select` gives for each of those meters and periods,
    where the store can say it exactly (every event valid, none correcting or voiding
    another). Asked for anything else, or for its events, it raises: pricing never reads
    a table it was not given."""

    quantities: Mapping[Measurement, Measured] = field(default_factory=dict)

    @classmethod
    def of(cls, quantities: Mapping[Measurement, Measured]) -> MeasuredTable:
        nothing = np.empty(0, dtype=np.int64)
        return cls(
            ids=(),
            order=np.empty(0, dtype=np.intp),
            lines=nothing,
            timestamps=nothing,
            type_codes=np.empty(0, dtype=np.int32),
            type_names={},
            properties=DecodedProperties(()),
            make_event=_no_event,
            source=STORED,
            quantities=quantities,
        )

    def usage(self, meter: Meter, period: Period, amount_property: str | None) -> list[GroupUsage]:
        """:func:`select` of a measured meter and period."""
        measured = self.quantities.get(Measurement(meter, period))
        if measured is None or amount_property is not None or not measurable(meter):
            raise LookupError(f"meter {meter.code!r} over {period} was not measured")
        start, end = period.start_micros, period.end_micros
        nothing = np.empty(0, dtype=np.int64)
        return [
            GroupUsage(group, Window(start, end, nothing, measured=quantity), nothing)
            for group, quantity in measured
        ]

    def view(self, event_type: str) -> TypeView:
        _no_event()

    @property
    def events(self) -> list[UsageEvent]:
        _no_event()

    @property
    def source_events(self) -> list[UsageEvent]:
        _no_event()


def measured_table(table: EventTable, measurements: Sequence[Measurement]) -> EventTable:
    """The :class:`MeasuredTable` of ``measurements`` over the events of ``table``: each
    meter's aggregate per group, as :func:`select` finds them; ``table`` itself when a
    meter cannot take one of its events, so that pricing reports it as it does."""
    quantities: dict[Measurement, Measured] = {}
    for measurement in measurements:
        meter, period = measurement
        try:
            found = select(table, meter, period)
        except InvalidInput:
            return table
        aggregation = meter.aggregator()
        quantities[measurement] = tuple(
            (usage.group, aggregation.aggregate(usage.window)) for usage in found
        )
    return MeasuredTable.of(quantities)


def _no_event(position: int = 0) -> NoReturn:
    raise LookupError("a table of measured quantities holds no events")


def _or_empty(keys: npt.NDArray[np.int64] | None) -> npt.NDArray[np.int64]:
    return np.empty(0, dtype=np.int64) if keys is None else keys


def meter_problems(
    table: EventTable, meter: Meter, amount_property: str | None = None
) -> list[EventProblem]:
    """Every problem :func:`select` would report with any of the meter's events, in any period.

    The same checks and messages as :func:`select` (which also reports the
    file, line and meter): a missing ``group_by`` value, a missing or bad
    number (or key), a negative value the meter does not allow, and the same
    of ``amount_property`` when given. Events the meter's filters leave out
    are not its business.
    """
    view = table.view(meter.event_type)
    problems = _Problems(view)
    positions = _matching_positions(view, meter)
    kind = meter.aggregator().property_kind
    _group_codes(view, meter, positions, problems)
    number_name = meter.property if kind is PropertyKind.NUMBER else None
    _numbers(view, meter, number_name, positions, problems)
    _numbers(view, meter, amount_property, positions, problems)
    if kind is PropertyKind.KEY:
        _keys(view, meter, positions, problems)
    return problems.found


class _Problems:
    """Problems with the events of one type, by table row, in the order they were found."""

    def __init__(self, view: TypeView) -> None:
        self.view = view
        self.found: list[EventProblem] = []

    def add(self, position: int, field: str, message: str) -> None:
        self.found.append(EventProblem(int(self.view.rows[position]), field, message))

    def raise_if_any(self, table: EventTable, meter_code: str) -> None:
        """:class:`InvalidInput` naming the first fifty, each at its file and line."""
        if not self.found:
            return
        problems = [
            Problem(
                f"{table.location(found.row)}: properties.{found.field}",
                f"{found.message} (meter {meter_code!r})",
            )
            for found in self.found[:MAX_REPORTED]
        ]
        more = len(self.found) - MAX_REPORTED
        if more > 0:
            problems.append(Problem("", f"... and {more} more problems like these"))
        raise InvalidInput(problems)


def _matching_positions(view: TypeView, meter: Meter) -> Positions:
    positions = np.arange(len(view), dtype=np.intp)
    for name, accepted in meter.filters:
        column = view.keys(name)
        wanted = column.codes_for(accepted)
        positions = positions[np.isin(column.codes[positions], wanted)]
    return positions


def _group_codes(
    view: TypeView, meter: Meter, positions: Positions, problems: _Problems
) -> npt.NDArray[np.int64]:
    """Each position's group code (-1 for every position without ``group_by``)."""
    if meter.group_by is None:
        return np.full(positions.size, -1, dtype=np.int64)
    codes = view.keys(meter.group_by).codes[positions]
    for position in positions[codes < 0].tolist():
        problems.add(position, meter.group_by, "is required as a scalar by group_by")
    return codes


def _last_per_group(
    codes: npt.NDArray[np.int64], positions: Positions
) -> tuple[npt.NDArray[np.int64], Positions]:
    """For each group code, the position of its last (latest) event."""
    if positions.size == 0:
        return codes[:0], positions
    reversed_codes = codes[::-1]
    unique, first_in_reversed = np.unique(reversed_codes, return_index=True)
    return unique, positions[::-1][first_in_reversed]


def _totals_per_group(codes: npt.NDArray[np.int64], values: Scaled) -> dict[int, int]:
    """For each group code, the exact total of its values (a Python integer)."""
    if values.size == 0:
        return {}
    order = np.argsort(codes, kind="stable")
    unique, starts = np.unique(codes[order], return_index=True)
    ordered = values[order]
    bounds = [*starts.tolist(), int(values.size)]
    return {
        int(code): exact_sum(ordered[begin:end])
        for code, begin, end in zip(unique.tolist(), bounds, bounds[1:], strict=False)
    }


def _numbers(
    view: TypeView, meter: Meter, name: str | None, positions: Positions, problems: _Problems
) -> Scaled:
    if name is None or positions.size == 0:
        return np.empty(0, dtype=np.int64)
    column = view.numbers(name)
    status = column.status[positions]
    for position in positions[status != VALID].tolist():
        if column.status[position] == MISSING_VALUE:
            problems.add(position, name, "is required")
        else:
            problems.add(position, name, column.errors[position])
    values = column.values[positions]
    if not meter.allow_negative:
        for position in positions[values < 0].tolist():
            value = decimal_text(from_scaled(int(column.values[position])))
            problems.add(
                position,
                name,
                f"negative value {value} is not allowed "
                "(set allow_negative: true on the meter to accept it)",
            )
    return values


def _keys(
    view: TypeView, meter: Meter, positions: Positions, problems: _Problems
) -> npt.NDArray[np.int64]:
    assert meter.property is not None
    codes = view.keys(meter.property).codes[positions]
    for position in positions[codes < 0].tolist():
        problems.add(position, meter.property, "is required as a string, number or boolean")
    return codes
