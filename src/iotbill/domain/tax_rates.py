"""A customer's tax rate over time: changes, each in force from an instant.

The rule: an invoice is taxed, whole, at the rate in force at its ``issued_at``
(its tax point), whatever period its lines cover. A customer at 19 % whose rate
becomes 21 % from 1 March at its midnight pays 19 % on January's invoice (issued
1 February) and 21 % on February's (issued 1 March, at the change itself):

>>> from datetime import UTC, datetime
>>> changes = (TaxRateChange(datetime(2026, 3, 1, tzinfo=UTC), Decimal("21")),)
>>> rate_at(Decimal("19"), changes, datetime(2026, 2, 1, tzinfo=UTC))
Decimal('19')
>>> rate_at(Decimal("19"), changes, datetime(2026, 3, 1, tzinfo=UTC))
Decimal('21')
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from iotbill.domain.errors import Problem

MAX_TAX_RATE = Decimal(100)


@dataclass(frozen=True, slots=True)
class TaxRateChange:
    """The customer's tax rate is ``rate`` percent from ``start`` on."""

    start: datetime
    rate: Decimal


def rate_at(base: Decimal, changes: tuple[TaxRateChange, ...], instant: datetime) -> Decimal:
    """The rate in force at ``instant``: the latest change from or before it, else ``base``."""
    rate = base
    for change in changes:
        if change.start > instant:
            break
        rate = change.rate
    return rate


def changes_problems(changes: tuple[TaxRateChange, ...]) -> list[Problem]:
    """What is wrong with ``changes``: each a percentage from 0 to 100, aware, in strictly
    increasing order of ``start``."""
    problems: list[Problem] = []
    previous: datetime | None = None
    for index, change in enumerate(changes):
        at = f"tax_rates[{index}]"
        if change.start.tzinfo is None:
            problems.append(Problem(f"{at}.from", "must be an aware instant"))
            continue
        if not (change.rate.is_finite() and Decimal(0) <= change.rate <= MAX_TAX_RATE):
            problems.append(
                Problem(f"{at}.rate", f"must be a percentage from 0 to 100, not {change.rate}")
            )
        if previous is not None and change.start <= previous:
            problems.append(
                Problem(f"{at}.from", f"must be after the change before ({previous.isoformat()})")
            )
        previous = change.start
    return problems
