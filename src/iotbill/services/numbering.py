"""Taking document numbers: the one way the services do it.

The rule (which series, what a number looks like) is the domain's,
:mod:`iotbill.domain.numbering`; the next free place in a series is the
store's. :func:`take_numbers` is called inside an open unit of work, and the
documents numbered are stored in that same unit of work before it commits: the
numbers roll back with it, so a failure leaves no gap.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from iotbill.domain.numbering import NumberSeries, Series, series_for
from iotbill.services.ports import UnitOfWork


def take_numbers(uow: UnitOfWork, series: NumberSeries, count: int = 1) -> list[str]:
    """The next ``count`` numbers of ``series``, in order (none when ``count`` is 0)."""
    if count < 0:
        raise ValueError(f"count must not be negative, not {count}")
    if count == 0:
        return []
    return [series.number(sequence) for sequence in uow.invoices.next_numbers(series.name, count)]


def take_number(uow: UnitOfWork, kind: Series, at: datetime, timezone: ZoneInfo) -> str:
    """The number of a document of ``kind`` made final ``at``, for a customer in ``timezone``."""
    [number] = take_numbers(uow, series_for(kind, at, timezone))
    return number
