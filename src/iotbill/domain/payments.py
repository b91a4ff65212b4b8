"""Payments, due dates and dunning: what happens to an invoice after it is finalized.

An invoice is finalized on a local date (the customer's zone); with the
customer's net terms it is due ``terms`` days later
(:meth:`~iotbill.domain.customers.Customer.due_on`). A finalized invoice with
something still due after its due date is *overdue*
(:meth:`~iotbill.domain.invoices.Invoice.is_overdue`).

Payments are recorded one at a time, each at most what is still due
(:meth:`~iotbill.domain.invoices.Invoice.pay`); the invoice is ``paid`` once
nothing is. A :class:`Payment` keeps each one.

A dunning schedule is a list of day counts after the due date (``(3, 10, 30)``):
on each of those days an invoice still overdue gets one reminder, and the day
after its due date one ``overdue`` notice. :func:`notices_due` says which a
bill run records on a given date; each is recorded once per invoice, so
running it again (or late, after several of those days) records each exactly
once, never a reminder for a day that has not come.

>>> from datetime import date
>>> notices_due(date(2026, 3, 3), date(2026, 3, 14), (3, 10, 30), recorded=frozenset())
['overdue', 'reminder+3', 'reminder+10']
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from iotbill.domain.errors import ProblemCollector

DEFAULT_DUNNING = (3, 10, 30)
OVERDUE = "overdue"


@dataclass(frozen=True, slots=True)
class Payment:
    """An amount received for an invoice at ``received_at``."""

    invoice_id: str
    amount: Decimal
    received_at: datetime


@dataclass(frozen=True, slots=True)
class Notice:
    """A notice recorded for an invoice: ``overdue`` or ``reminder+N`` (N days after its due
    date ``due_on``), at ``recorded_at``. The webhook outbox delivers them."""

    invoice_id: str
    kind: str
    due_on: date
    recorded_at: datetime


def dunning_schedule(days: Sequence[int]) -> tuple[int, ...]:
    """A schedule of reminder days after the due date: each at least 1, strictly increasing."""
    problems = ProblemCollector()
    for index, day in enumerate(days):
        if day < 1:
            problems.add(f"schedule[{index}]", f"must be at least 1 day, not {day}")
        elif index and day <= days[index - 1]:
            problems.add(f"schedule[{index}]", f"must come after {days[index - 1]}, not {day}")
    problems.raise_if_any()
    return tuple(days)


def notices_due(
    due_on: date, on: date, schedule: Sequence[int], *, recorded: Collection[str]
) -> list[str]:
    """The notices an invoice due on ``due_on``, still unpaid, gets by ``on``, less those
    ``recorded`` already: ``overdue`` from the day after its due date, then one
    ``reminder+N`` from N days after it."""
    if on <= due_on:
        return []
    kinds = [OVERDUE]
    kinds.extend(f"reminder+{days}" for days in schedule if due_on + timedelta(days=days) <= on)
    return [kind for kind in kinds if kind not in recorded]


def notice_order(notice: Notice) -> tuple[datetime, str, int, str]:
    """Notices in the order they were recorded, then by invoice and by day."""
    days = 0 if notice.kind == OVERDUE else int(notice.kind.removeprefix("reminder+"))
    return (notice.recorded_at, notice.invoice_id, days, notice.kind)
