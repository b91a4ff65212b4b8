"""The ``measures`` column of ``usage_events`` (see ``tables``): each event's properties as
SQL compares and sums them exactly, computed a property at a time as a batch is prepared,
with the pure core's exact number conversion."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from itertools import repeat
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from iotbill.adapters.storage.sql import daily_sums
from iotbill.domain.event_table import VALID, number_column
from iotbill.domain.quantities import QuantityError, to_scaled

_ENCODER = msgspec.json.Encoder(decimal_format="number")


def measure(value: Any) -> Any:
    """A property value as SQL compares and sums it exactly (see ``tables``).

    Numbers become integer nano-units, exactly as the pure core reads them
    (:func:`~iotbill.domain.quantities.to_scaled`); strings and booleans stay;
    anything the pure core cannot hold exactly becomes ``None``.

    >>> measure(Decimal("2.5")), measure(3), measure("on"), measure(Decimal("1E-10"))
    (2500000000, 3000000000, 'on', None)
    """
    if isinstance(value, str | bool):
        return value
    if isinstance(value, int | Decimal):
        try:
            return to_scaled(value)
        except QuantityError:
            return None
    return None


def json_lines(values: Sequence[Any]) -> list[str]:
    """Each value as JSON text, all encoded in one call."""
    if not values:
        return []
    return _ENCODER.encode_lines(values).decode().split("\n")[:-1]


def measured(properties: list[dict[str, Any]]) -> tuple[list[str], daily_sums.Numbers]:
    """Each event's ``measures`` as JSON text, computed a property at a time, and the
    numbers among them, by property (for the roll-up).

    Events are grouped by the names of their properties (usually a handful of
    shapes in a batch); each property of a shape is one column of values.
    """
    names_of = list(map(tuple, properties))
    if not names_of:
        return [], {}
    if names_of.count(names_of[0]) == len(names_of):
        return _measure_objects(names_of[0], properties)
    shapes: dict[tuple[str, ...], list[int]] = {}
    for index, names in enumerate(names_of):
        shapes.setdefault(names, []).append(index)
    found = [""] * len(properties)
    positions: dict[str, list[npt.NDArray[np.intp]]] = {}
    values: dict[str, list[npt.NDArray[np.int64]]] = {}
    for names, members in shapes.items():
        texts, numbers = _measure_objects(names, [properties[index] for index in members])
        for index, text in zip(members, texts, strict=True):
            found[index] = text
        where = np.array(members, np.intp)
        for name, (at, numbered) in numbers.items():
            positions.setdefault(name, []).append(where[at])
            values.setdefault(name, []).append(numbered)
    return found, {
        name: (np.concatenate(positions[name]), np.concatenate(values[name])) for name in positions
    }


def _measure_objects(
    names: tuple[str, ...], properties: list[dict[str, Any]]
) -> tuple[list[str], daily_sums.Numbers]:
    """The measures of events whose properties all have ``names``, in that order, and the
    numbers among them, by property."""
    if not names:
        return ["{}"] * len(properties), {}
    pieces: list[Any] = []
    numbers: daily_sums.Numbers = {}
    for position, name in enumerate(names):
        key = _ENCODER.encode(name).decode()
        pieces.append(repeat(("{" if position == 0 else ",") + key + ":"))
        texts, numbers[name] = _measure_column([found[name] for found in properties])
        pieces.append(texts)
    pieces.append(repeat("}"))
    texts = list(map("".join, zip(*pieces, strict=False)))  # strict: the repeats are endless
    return texts, numbers


def _measure_column(
    values: list[Any],
) -> tuple[list[str], tuple[npt.NDArray[np.intp], npt.NDArray[np.int64]]]:
    """Each value's :func:`measure` as JSON text, numbers converted as one column; and the
    positions and nano-units of the values that are numbers (``int`` or ``Decimal`` in
    range: what ``measures`` holds as a number)."""
    if set(map(type, values)) <= {int, Decimal}:
        column = number_column(values)
        texts = list(map(str, column.values.tolist()))
        invalid = np.flatnonzero(column.status != VALID)
        for position in invalid.tolist():
            texts[position] = "null"
        if not len(invalid):
            return texts, (np.arange(len(values), dtype=np.intp), column.values)
        valid = np.flatnonzero(column.status == VALID)
        return texts, (valid, column.values[valid])
    numeric = np.array(
        [position for position, value in enumerate(values) if type(value) in (int, Decimal)],
        np.intp,
    )
    column = number_column([values[position] for position in numeric.tolist()])
    valid = np.flatnonzero(column.status == VALID)
    return json_lines([measure(value) for value in values]), (numeric[valid], column.values[valid])
