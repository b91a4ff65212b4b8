"""A price preview: one plan, one batch of events, one period, no storage.

What ``iotbill preview`` prints: the invoice lines the plan would bill for the
period, their total, and how many events were counted, duplicated or in
conflict. Fixed fees and the plan's commitments are billed for the full period
(not prorated).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from iotbill.domain.catalog import Plan
from iotbill.domain.commitments import commitment_lines
from iotbill.domain.event_table import EventTable
from iotbill.domain.events import EventConflict
from iotbill.domain.invoicing import InvoiceLine, subtotal
from iotbill.domain.money import format_money
from iotbill.domain.periods import Period
from iotbill.domain.rating import UTC_ZONE, rate_period


@dataclass(frozen=True, slots=True)
class Preview:
    plan: Plan
    period: Period
    lines: tuple[InvoiceLine, ...]
    counted: int
    duplicates: int
    conflicts: tuple[EventConflict, ...]

    @property
    def total(self) -> Decimal:
        return subtotal(self.lines)

    def as_json(self) -> dict[str, Any]:
        currency = self.plan.currency
        return {
            "plan": self.plan.code,
            "currency": currency.code,
            "from": self.period.start.isoformat(),
            "to": self.period.end.isoformat(),
            "lines": [line.as_json(currency) for line in self.lines],
            "total": format_money(self.total, currency),
            "events": {
                "counted": self.counted,
                "duplicates": self.duplicates,
                "conflicts": len(self.conflicts),
            },
        }


def preview(plan: Plan, table: EventTable, period: Period, zone: ZoneInfo = UTC_ZONE) -> Preview:
    """Price everything in ``table`` under ``plan`` for ``period`` as one billing period,
    for a customer in ``zone`` (whose local days and hours meters' caps count)."""
    lines = rate_period(plan, table, period, zone=zone)
    charges = [line for line in lines if line.kind != "fixed_fee"]
    lines += commitment_lines(plan.commitment, plan.currency, charges, [period], period)
    return Preview(plan, period, tuple(lines), len(table), table.duplicates, table.conflicts)
