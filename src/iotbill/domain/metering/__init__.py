"""Meters: one pure aggregation per file, registered here by name.

An aggregation turns the events of one meter (and one group) that fall in a
billing period into a quantity. It sees a :class:`Window`: the in-period
timestamps and values in ``(timestamp, id)`` order, and, for gauge and counter
meters, the last reading before the period. Quantities are exact
(:mod:`iotbill.domain.quantities`); only ``average``, ``time_weighted_average`` and
``weighted_sum`` divide, and are rounded half-even to nine fractional digits.

This package owns the arithmetic of aggregation; selecting a meter's events
from an :class:`~iotbill.domain.event_table.EventTable` lives in
:mod:`iotbill.domain.metering.selection`.
"""

from __future__ import annotations

from iotbill.domain.metering.average import Average
from iotbill.domain.metering.base import Aggregation, Carried, PropertyKind, Window
from iotbill.domain.metering.count import Count
from iotbill.domain.metering.increase import Increase
from iotbill.domain.metering.latest import Latest, RecurringLatest
from iotbill.domain.metering.max import Max
from iotbill.domain.metering.min import Min
from iotbill.domain.metering.sum import RecurringSum, Sum
from iotbill.domain.metering.time_weighted_average import TimeWeightedAverage
from iotbill.domain.metering.unique_count import UniqueCount
from iotbill.domain.metering.weighted_sum import RecurringWeightedSum, WeightedSum

AGGREGATIONS: dict[str, Aggregation] = {
    aggregation.name: aggregation
    for aggregation in (
        Count(),
        Sum(),
        Max(),
        Min(),
        UniqueCount(),
        Latest(),
        Average(),
        TimeWeightedAverage(),
        WeightedSum(),
        Increase(),
    )
}

RECURRING: dict[str, Aggregation] = {
    recurring.name: recurring
    for recurring in (RecurringSum(), RecurringWeightedSum(), RecurringLatest())
}
"""The aggregations a meter may make ``recurring``: their total (``sum``, ``weighted_sum``) or
their last value (``latest``) carries into the next period."""

__all__ = ["AGGREGATIONS", "RECURRING", "Aggregation", "Carried", "PropertyKind", "Window"]
