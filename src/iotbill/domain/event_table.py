"""A deduplicated, ordered, columnar view of a batch of usage events.

The table is what meters aggregate. Rows are unique by event id and sorted by
``(timestamp, id)``, so no result depends on the order events arrived in.
Each event type has a :class:`TypeView` whose property columns are decoded
once, on first use, into numpy arrays: exact nano-unit numbers
(:class:`NumberColumn`) or factorised scalar keys (:class:`KeyColumn`). After
that, selecting and aggregating a meter's events is vectorised.

A table is built from events (:meth:`EventTable.build`) or straight from columns
(:meth:`EventTable.from_columns`: a store's rows, a columnar file reader), in
which case no :class:`~iotbill.domain.events.UsageEvent` is made unless asked
for (:meth:`EventTable.event`). Both give the same table: the columnar one
takes its fast path only where it provably agrees (ids unique, no event naming
another) and otherwise makes the events and builds from them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, Inexact, localcontext
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from iotbill.domain.events import EventConflict, UsageEvent, counting
from iotbill.domain.periods import to_micros
from iotbill.domain.quantities import (
    INT64_MAX,
    UNIT,
    QuantityError,
    Scaled,
    decimal_text,
    from_scaled,
    to_scaled,
)

Rows = npt.NDArray[np.intp]

# Status of a value in a NumberColumn.
VALID, MISSING_VALUE, INVALID_VALUE = 0, 1, 2


@dataclass(frozen=True, slots=True)
class NumberColumn:
    """A numeric property of one event type: nano-unit values and their status.

    ``status`` is ``VALID``, ``MISSING_VALUE`` or ``INVALID_VALUE`` per row;
    ``errors`` says why each invalid row was refused.
    """

    values: Scaled
    status: npt.NDArray[np.int8]
    errors: dict[int, str]


@dataclass(frozen=True, slots=True)
class KeyColumn:
    """A scalar property of one event type, factorised: ``codes`` index ``labels``.

    Values compare as JSON values (``1`` equals ``1.0``; ``true`` is not ``1``);
    a missing or non-scalar value has code -1.
    """

    codes: npt.NDArray[np.int64]
    labels: list[str]
    code_of: dict[tuple[str, Any], int]

    def codes_for(self, values: Sequence[Any]) -> list[int]:
        """The codes of those ``values`` that occur in the column."""
        keys = (json_key(value) for value in values)
        return [self.code_of[key] for key in keys if key is not None and key in self.code_of]


def json_key(value: Any) -> tuple[str, Any] | None:
    """A hashable key under which equal JSON scalars meet; ``None`` for anything else."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, str):
        return ("text", value)
    if isinstance(value, int | Decimal):
        return ("number", Decimal(value).normalize())
    return None


def json_label(key: tuple[str, Any]) -> str:
    """The text of a key: the string itself, ``true``/``false``, or the exact number."""
    kind, value = key
    if kind == "bool":
        return "true" if value else "false"
    if kind == "number":
        return decimal_text(value)
    return str(value)


class PropertySource(Protocol):
    """Where a table's property values come from: decoded JSON objects, or columns."""

    def numbers(self, name: str, positions: Rows) -> NumberColumn:
        """The property ``name`` of the events at ``positions`` (source order), as numbers."""
        ...

    def keys(self, name: str, positions: Rows) -> KeyColumn:
        """The property ``name`` of the events at ``positions`` (source order), as keys."""
        ...


@dataclass(frozen=True, slots=True)
class DecodedProperties:
    """Properties as decoded JSON objects, one per event (``None``: no properties)."""

    objects: Sequence[dict[str, Any]]

    def numbers(self, name: str, positions: Rows) -> NumberColumn:
        return number_column(self._values(name, positions))

    def keys(self, name: str, positions: Rows) -> KeyColumn:
        return key_column(self._values(name, positions))

    def _values(self, name: str, positions: Rows) -> list[Any]:
        objects = self.objects
        return [objects[index].get(name) for index in positions.tolist()]


class MeasuredProperties:
    """Properties as a store measured them, the objects themselves read only when needed.

    ``measured`` holds, for some property names, each event's value in the exact
    form a store compares and sums: a number as its integer count of nano-units
    (what :func:`~iotbill.domain.quantities.to_scaled` gives), a string or a
    boolean as itself, and ``None`` when the value is missing or is anything
    else (a number with more than nine decimals, an object, ``null``).
    ``objects`` are the events' decoded properties; a store may decode them
    when first read, which happens only when a column cannot be taken from
    ``measured`` alone.

    A number column is taken from ``measured`` when every value there is an
    integer: then every property value was an exact number, and the column is
    the one :func:`number_column` makes of them. A key column is taken from it
    when every value is an integer or a string: they compare as the JSON values
    do, and the labels are the same. Anything else (a missing value, a boolean,
    a string where a number is read, a name not measured) is read from the
    objects, so each problem is reported exactly as before.

    >>> source = MeasuredProperties({"m3": [2500000000, 1]}, [{}, {}])
    >>> source.numbers("m3", np.arange(2)).values.tolist()
    [2500000000, 1]
    >>> source.keys("m3", np.arange(2)).labels
    ['2.5', '0.000000001']
    """

    __slots__ = ("_objects", "measured")

    def __init__(
        self, measured: Mapping[str, Sequence[Any]], objects: Sequence[dict[str, Any]]
    ) -> None:
        self.measured = measured
        self._objects = DecodedProperties(objects)

    def numbers(self, name: str, positions: Rows) -> NumberColumn:
        column = self.measured.get(name)
        if column is not None:
            raw = _at(column, positions)
            if set(map(type, raw)) <= {int}:
                return NumberColumn(np.array(raw, dtype=np.int64), np.zeros(len(raw), np.int8), {})
        return self._objects.numbers(name, positions)

    def keys(self, name: str, positions: Rows) -> KeyColumn:
        column = self.measured.get(name)
        if column is not None:
            raw = _at(column, positions)
            if set(map(type, raw)) <= {int, str}:
                return _measured_key_column(raw)
        return self._objects.keys(name, positions)


def _at(column: Sequence[Any], positions: Rows) -> Sequence[Any]:
    """The values of ``column`` at ``positions`` (distinct, increasing: source order): the
    column itself when they are all of its positions (an event type every event has)."""
    if positions.size == len(column) and (positions.size == 0 or positions[-1] == len(column) - 1):
        return column
    return [column[index] for index in positions.tolist()]


def _measured_key_column(raw: Sequence[int | str]) -> KeyColumn:
    """:func:`key_column` of the values whose measures are ``raw`` (integers: nano-units).

    Equal numbers have equal nano-units and a number never equals a string, so the
    codes are given in the same order; each number's key and label are those of its
    exact value.
    """
    seen: dict[int | str, int] = {}
    codes = np.array([seen.setdefault(value, len(seen)) for value in raw], dtype=np.int64)
    keys = [
        ("text", value) if isinstance(value, str) else ("number", from_scaled(value).normalize())
        for value in seen
    ]
    code_of = {key: code for code, key in enumerate(keys)}
    return KeyColumn(codes, [json_label(key) for key in keys], code_of)


@dataclass(frozen=True, slots=True)
class _EventProperties:
    """The properties of events, read where they lie."""

    events: Sequence[UsageEvent]

    def numbers(self, name: str, positions: Rows) -> NumberColumn:
        return number_column(self._values(name, positions))

    def keys(self, name: str, positions: Rows) -> KeyColumn:
        return key_column(self._values(name, positions))

    def _values(self, name: str, positions: Rows) -> list[Any]:
        events = self.events
        return [events[index].properties.get(name) for index in positions.tolist()]


@dataclass(eq=False)
class TypeView:
    """The rows of one event type, in table order, with property columns decoded on demand.

    Properties are read in the order the events arrived in (``arrival``, the
    source positions in increasing order), which is the order they lie in
    memory: reading them in that order and then permuting the finished numpy
    column (``to_table``) is several times faster than visiting millions of
    objects in timestamp order.
    """

    rows: Rows
    timestamps: npt.NDArray[np.int64]
    source: PropertySource
    arrival: Rows
    to_table: Rows
    _numbers: dict[str, NumberColumn] = field(default_factory=dict)
    _keys: dict[str, KeyColumn] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.rows.size)

    def numbers(self, name: str) -> NumberColumn:
        """The property ``name`` as exact nano-unit numbers (decoded once)."""
        column = self._numbers.get(name)
        if column is None:
            found = self.source.numbers(name, self.arrival)
            errors: dict[int, str] = {}
            if found.errors:
                # to_table[k] is the arrival position of table position k; invert it.
                at_table = np.empty_like(self.to_table)
                at_table[self.to_table] = np.arange(self.to_table.size)
                errors = {int(at_table[at]): text for at, text in found.errors.items()}
            column = NumberColumn(found.values[self.to_table], found.status[self.to_table], errors)
            self._numbers[name] = column
        return column

    def keys(self, name: str) -> KeyColumn:
        """The property ``name`` as factorised scalar keys (decoded once)."""
        column = self._keys.get(name)
        if column is None:
            found = self.source.keys(name, self.arrival)
            column = KeyColumn(found.codes[self.to_table], found.labels, found.code_of)
            self._keys[name] = column
        return column


@dataclass(frozen=True, slots=True)
class EventColumns:
    """Events as parallel columns, in source order: what a store or a columnar reader has.

    ``ids`` and ``device_of`` give text per position; ``type_codes`` index
    ``type_names`` (a name to its code); ``timestamps`` are microseconds since the
    epoch; ``properties`` the property values. ``naming`` is ``None`` when no event
    corrects or voids another, else per position the event's own naming (``None``,
    or ``("corrects" | "voids", id)``). ``make_event`` makes the event at a
    position, only for what needs one. ``ids_unique`` says that the ids are known
    to be unique (a store's key on them), so they are not read to check it: a
    store may then read them only when asked for (to order equal timestamps, to
    name an event in an error).
    """

    ids: Sequence[str]
    timestamps: npt.NDArray[np.int64]
    type_codes: npt.NDArray[np.int32]
    type_names: dict[str, int]
    properties: PropertySource
    make_event: Callable[[int], UsageEvent]
    naming: Sequence[tuple[str, str] | None] | None = None
    ids_unique: bool = False

    def __len__(self) -> int:
        return int(self.timestamps.size)


STORED = "stored event"
"""The source of events read from a store: a problem names such an event by its id."""


@dataclass(frozen=True, eq=False)
class EventTable:
    """Unique events in ``(timestamp, id)`` order, with columns for fast selection.

    Row ``r`` is the source event at position ``order[r]``; the events themselves
    are not copied into a new list (and, for a table made from columns, not made
    at all unless asked for).
    """

    ids: Sequence[str]
    """The id of each source event, in source order."""
    order: Rows
    lines: npt.NDArray[np.int64]
    timestamps: npt.NDArray[np.int64]
    type_codes: npt.NDArray[np.int32]
    type_names: dict[str, int]
    properties: PropertySource
    make_event: Callable[[int], UsageEvent]
    source: str = "events"
    duplicates: int = 0
    conflicts: tuple[EventConflict, ...] = ()
    _views: dict[str, TypeView] = field(default_factory=dict, repr=False)

    @classmethod
    def build(
        cls,
        events: Sequence[UsageEvent],
        lines: Sequence[int] | None = None,
        source: str = "events",
    ) -> EventTable:
        """Deduplicate ``events`` by id, keep those that count (see
        :func:`~iotbill.domain.events.counting`: no voids, no event corrected or
        voided by another of ``events``), and order them by ``(timestamp, id)``.

        ``lines`` gives each event's source line (1-based positions if omitted).
        """
        line_numbers = (
            np.arange(1, len(events) + 1, dtype=np.int64)
            if lines is None
            else np.asarray(lines, dtype=np.int64)
        )
        ids = [event.id for event in events]
        duplicates = 0
        conflicts: list[EventConflict] = []
        unique: Sequence[UsageEvent] = events
        if len(set(ids)) != len(ids):
            kept, duplicates, conflicts = _deduplicate(events, line_numbers.tolist())
            unique = [events[i] for i in kept]
            line_numbers = line_numbers[kept]
            ids = [event.id for event in unique]
        kept_counting = counting(unique)
        if kept_counting is not None:
            unique = [unique[i] for i in kept_counting]
            line_numbers = line_numbers[kept_counting]
            ids = [event.id for event in unique]
        timestamps = np.array([to_micros(event.timestamp) for event in unique], dtype=np.int64)
        type_names: dict[str, int] = {}
        codes = np.array(
            [type_names.setdefault(event.type, len(type_names)) for event in unique], np.int32
        )
        order = _order_by_time_then_id(timestamps, ids)
        return cls(
            ids=ids,
            order=order,
            lines=line_numbers[order],
            timestamps=timestamps[order],
            type_codes=codes[order],
            type_names=type_names,
            properties=_EventProperties(unique),
            make_event=unique.__getitem__,
            source=source,
            duplicates=duplicates,
            conflicts=tuple(conflicts),
        )

    @classmethod
    def from_columns(
        cls,
        columns: EventColumns,
        lines: npt.NDArray[np.int64],
        source: str = "events",
        order: Rows | None = None,
    ) -> EventTable:
        """The table of the events in ``columns`` (``lines`` their source lines), equal to
        :meth:`build` of those events, without making them.

        That holds where every id is unique and no event names another (a store's
        rows, mostly); otherwise the events are made and built. ``order``, when the
        caller knows it, is the ``(timestamp, id)`` order of the positions.
        """
        ids = columns.ids
        if columns.naming is not None or (not columns.ids_unique and len(set(ids)) != len(ids)):
            events = [columns.make_event(index) for index in range(len(columns))]
            return cls.build(events, lines.tolist(), source)
        if order is None:
            order = _order_by_time_then_id(columns.timestamps, ids)
        return cls(
            ids=ids,
            order=order,
            lines=np.asarray(lines, dtype=np.int64)[order],
            timestamps=columns.timestamps[order],
            type_codes=columns.type_codes[order],
            type_names=columns.type_names,
            properties=columns.properties,
            make_event=columns.make_event,
            source=source,
        )

    def __len__(self) -> int:
        return int(self.order.size)

    def event(self, row: int) -> UsageEvent:
        """The event at row ``row``."""
        return self.make_event(int(self.order[row]))

    @property
    def events(self) -> list[UsageEvent]:
        """Every event, in ``(timestamp, id)`` order."""
        return list(map(self.make_event, self.order.tolist()))

    @property
    def source_events(self) -> list[UsageEvent]:
        """Every event, in source order."""
        return list(map(self.make_event, range(len(self))))

    def view(self, event_type: str) -> TypeView:
        """The rows of ``event_type`` (an empty view for a type never seen)."""
        view = self._views.get(event_type)
        if view is None:
            code = self.type_names.get(event_type)
            rows = (
                np.flatnonzero(self.type_codes == code)
                if code is not None
                else np.empty(0, dtype=np.intp)
            )
            if rows.size == self.order.size:  # every row: no copies
                arrival, timestamps = self.order, self.timestamps
            else:
                arrival, timestamps = self.order[rows], self.timestamps[rows]
            in_arrival, to_table = _arrival_order(arrival)
            view = TypeView(rows, timestamps, self.properties, in_arrival, to_table)
            self._views[event_type] = view
        return view

    def location(self, row: int) -> str:
        """Where row ``row`` came from, for error messages: ``events.jsonl:12``."""
        if self.source == STORED:
            return f"{STORED} {self.ids[int(self.order[row])]!r}"  # to void or correct it by
        return f"{self.source}:{self.lines[row]}"


def _arrival_order(arrival: Rows) -> tuple[Rows, Rows]:
    """``arrival`` (distinct source positions) in increasing order, and for each of its
    entries the entry's place in that order.

    Where the positions are dense (a type that most events have), a scatter over them
    finds both in linear time; otherwise they are sorted.

    >>> ordered, places = _arrival_order(np.array([2, 0, 3]))
    >>> ordered.tolist(), places.tolist()
    ([0, 2, 3], [1, 0, 2])
    """
    size = int(arrival.max()) + 1 if arrival.size else 0
    if arrival.size == size:  # every position once: the order is 0, 1, 2, ...
        return np.arange(size, dtype=np.intp), arrival
    if 4 * arrival.size >= size:
        present = np.zeros(size, dtype=bool)
        present[arrival] = True
        place_of = np.cumsum(present, dtype=np.intp) - 1
        return np.flatnonzero(present), place_of[arrival]
    by_arrival = np.argsort(arrival)
    places = np.empty_like(by_arrival)
    places[by_arrival] = np.arange(by_arrival.size)
    return arrival[by_arrival], places


def _deduplicate(
    events: Sequence[UsageEvent], lines: list[int]
) -> tuple[list[int], int, list[EventConflict]]:
    first_index: dict[str, int] = {}
    kept: list[int] = []
    duplicates = 0
    conflicts: list[EventConflict] = []
    for index, event in enumerate(events):
        first = first_index.setdefault(event.id, index)
        if first == index:
            kept.append(index)
        elif events[first] == event:
            duplicates += 1
        else:
            conflicts.append(EventConflict(event.id, lines[first], lines[index]))
    return kept, duplicates, conflicts


def number_column(raw: list[Any]) -> NumberColumn:
    """JSON values as exact nano-unit numbers, in their order; ``None`` is a missing value.

    >>> column = number_column([Decimal("2.5"), None, "x"])
    >>> column.values.tolist(), column.status.tolist(), column.errors
    ([2500000000, 0, 0], [0, 1, 2], {2: "'x' is not a plain decimal number (like -12.50)"})
    """
    fast = _scaled_fast(raw)
    if fast is not None:
        return NumberColumn(fast, np.zeros(len(raw), np.int8), {})
    scaled: list[int] = []
    status = np.zeros(len(raw), np.int8)
    errors: dict[int, str] = {}
    for position, value in enumerate(raw):
        if value is None:
            status[position] = MISSING_VALUE
            scaled.append(0)
            continue
        try:
            scaled.append(to_scaled(value))
        except QuantityError as error:
            status[position] = INVALID_VALUE
            errors[position] = str(error)
            scaled.append(0)
    return NumberColumn(np.array(scaled, dtype=np.int64), status, errors)


_UNIT_DECIMAL = Decimal(UNIT)


def _scaled_fast(raw: list[Any]) -> Scaled | None:
    """Nano-unit counts of a column of ints and Decimals, fast; ``None`` if any is odd.

    Each product is taken whole with ``to_integral_exact``, which raises the
    context's Inexact flag if it had to round; the flag, like a product rounded
    by the multiplication itself, sends the whole column to the careful
    per-value path. So does anything else (missing values, strings, infinities,
    out of range, including -2^63, which int64 holds but :func:`to_scaled`
    refuses).
    """
    if not raw or not set(map(type, raw)) <= {int, Decimal}:
        return None
    with localcontext() as context:
        context.clear_flags()
        try:
            whole = [int((value * _UNIT_DECIMAL).to_integral_exact()) for value in raw]
            scaled: Scaled = np.array(whole, dtype=np.int64)
        except (ArithmeticError, OverflowError, ValueError):
            return None
        if context.flags[Inexact]:
            return None
    if bool((scaled < -INT64_MAX).any()):
        return None
    return scaled


def key_column(raw: list[Any]) -> KeyColumn:
    if set(map(type, raw)) <= {str, int, Decimal, type(None)}:
        # Python's own equality already matches JSON's for these types.
        seen: dict[Any, int] = {}
        raw_codes = [seen.setdefault(value, len(seen)) for value in raw]
        keys = [json_key(value) for value in seen]
        code_of = {key: code for code, key in enumerate(keys) if key is not None}
        codes = np.array(raw_codes, dtype=np.int64)
        if None in seen:
            codes[codes == seen[None]] = -1
    else:
        code_of = {}
        codes = np.array(
            [
                -1 if (key := json_key(value)) is None else code_of.setdefault(key, len(code_of))
                for value in raw
            ],
            dtype=np.int64,
        )
    labels = [""] * (max(code_of.values(), default=-1) + 1)
    for key, code in code_of.items():
        labels[code] = json_label(key)
    return KeyColumn(codes, labels, code_of)


def _order_by_time_then_id(timestamps: npt.NDArray[np.int64], ids: Sequence[str]) -> Rows:
    """The permutation sorting rows by timestamp, ties broken by id."""
    order = np.argsort(timestamps, kind="stable")
    ordered = timestamps[order]
    if ordered.size < 2:
        return order
    tied = np.flatnonzero(ordered[1:] == ordered[:-1])
    if tied.size == 0:
        return order
    # Runs of equal timestamps: a run starts at a tie not preceded by a tie.
    run_starts = tied[np.concatenate(([True], tied[1:] != tied[:-1] + 1))]
    run_ends = tied[np.concatenate((tied[1:] != tied[:-1] + 1, [True]))] + 2
    for start, end in zip(run_starts.tolist(), run_ends.tolist(), strict=True):
        segment = order[start:end]
        order[start:end] = sorted(segment.tolist(), key=ids.__getitem__)
    return order
