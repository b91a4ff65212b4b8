"""What every aggregation sees and promises."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import ClassVar, Protocol

import numpy as np
import numpy.typing as npt

from iotbill.domain.quantities import Scaled


class Carried(Enum):
    """What the events before a period carry into it, for an aggregation."""

    NOTHING = "nothing"  # only the period's events count
    LAST = "last"  # the last reading: a level, a counter
    TOTAL = "total"  # the total of every value before the period: all of them count


class PropertyKind(Enum):
    """What an aggregation needs of the meter's ``property``."""

    NONE = "none"  # counts events; no property
    NUMBER = "number"  # exact numbers, as nano-unit counts
    KEY = "key"  # any scalar JSON value, compared for equality


def _no_values() -> Scaled:
    return np.empty(0, dtype=np.int64)


@dataclass(frozen=True, slots=True)
class Window:
    """The events of one meter and group inside a period ``[start, end)``.

    ``timestamps`` (microseconds since the epoch) and ``values`` (nano-units,
    for numeric meters) or ``keys`` (codes of the property's distinct values,
    for ``unique_count``) are in ``(timestamp, id)`` order. ``prior_value`` is
    what the events before ``start`` carry into the period, for the aggregations
    that carry one: the last reading (a level), or the total of every value
    before ``start`` for those that carry a total (:attr:`Carried.TOTAL`); ``None``
    when no event came before. ``measured`` is the aggregation's result where a
    store measured it (see :class:`~iotbill.domain.metering.selection.MeasuredTable`):
    the window then holds no events, and only ``Meter.quantity`` reads it.
    """

    start: int
    end: int
    timestamps: npt.NDArray[np.int64]
    values: Scaled = field(default_factory=_no_values)
    keys: npt.NDArray[np.int64] = field(default_factory=_no_values)
    prior_value: int | None = None
    measured: Decimal | None = None

    @property
    def count(self) -> int:
        return int(self.timestamps.size)


class Aggregation(Protocol):
    """A pure function from a :class:`Window` to an exact quantity."""

    name: ClassVar[str]
    property_kind: ClassVar[PropertyKind]
    carried: ClassVar[Carried]
    """What the events before the period carry into it: nothing, the last reading, or
    the total of them all."""

    def aggregate(self, window: Window) -> Decimal: ...
