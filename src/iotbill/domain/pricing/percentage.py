"""``percentage``: ``rate`` percent of a summed amount, plus ``fixed_fee`` per event.

The meter sums an amount property (a transaction's value, energy sold to the
grid in money). Events are taken in ``(timestamp, id)`` order:

* **The free allowance.** Up to ``free_events`` events and up to ``free_amount``
  of the amount are free: no percentage, no fee. Each limit is off when 0; with
  both, the allowance ends at whichever runs out first. An event whose amount
  brings the running total to ``free_amount`` or past it ends the allowance: it
  is a paid event, charged on its amount beyond what was left free.
* **Paid events** pay ``rate`` percent of their amount (the one that ended the
  allowance, of its part beyond it) and ``fixed_fee`` each.
* **Limits per event.** With ``min_per_event`` or ``max_per_event``, each paid
  event's percentage and fee together are raised to the minimum or cut to the
  maximum; the detail says by how much, over how many events.

Worked example (docs/plans.md): 1.2 %, a fee of 0.10, the first 3 events or 500
free; events of 200, 100, 100 and 50: the first three are free (400 of the 500),
the fourth pays 1.2 % of 50 and its fee: 0.60 + 0.10 = 0.70.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import ClassVar, Self

import numpy as np
import numpy.typing as npt

from iotbill.domain.fields import FieldReader
from iotbill.domain.pricing.base import HUNDRED, Detail, Rating, Usage, read_rate
from iotbill.domain.quantities import (
    SCALE,
    Scaled,
    decimal_text,
    exact_sum,
    from_scaled,
)

_INT64 = np.iinfo(np.int64)


@dataclass(frozen=True, slots=True)
class Percentage:
    rate: Decimal
    fixed_fee: Decimal = Decimal(0)
    free_events: int = 0
    free_amount: Decimal = Decimal(0)
    min_per_event: Decimal | None = None
    max_per_event: Decimal | None = None
    name: ClassVar[str] = "percentage"
    fields: ClassVar[tuple[str, ...]] = (
        "rate",
        "fixed_fee",
        "free_events",
        "free_amount",
        "min_per_event",
        "max_per_event",
    )
    reads_events: ClassVar[bool] = True

    @property
    def amount_property(self) -> str | None:
        return None

    def price(self, usage: Usage) -> Rating:
        values = usage.event_values
        free, covered = self._allowance(values)
        paid = values[free:]
        if covered:  # the event that ended the allowance: charged beyond what it used of it
            paid = paid.copy()
            paid[0] -= covered
        base = from_scaled(exact_sum(paid))
        events = Decimal(int(paid.size))
        share = base * self.rate / HUNDRED
        details = []
        if free:
            details.append(
                Detail("free_events", Decimal(0), units=Decimal(free), note="exempt events")
            )
        if self.free_amount:
            exempt = from_scaled(exact_sum(values[:free]) + covered)
            details.append(Detail("free_amount", Decimal(0), units=exempt, note="exempt amount"))
        details.append(Detail("percentage", share, units=base, rate=self.rate))
        amount = share
        if self.fixed_fee:
            fees = events * self.fixed_fee
            details.append(Detail("event_fees", fees, units=events, unit_price=self.fixed_fee))
            amount += fees
        for detail in self._limits(paid):
            details.append(detail)
            amount += detail.amount
        return Rating(amount, None, tuple(details))

    def _allowance(self, values: Scaled) -> tuple[int, int]:
        """How many of the first events are free, and how much of the next one's amount
        (nano-units) the allowance covered when that amount ended it (else 0)."""
        count = int(values.size)
        if not self.free_amount:
            return min(self.free_events, count), 0
        budget = int(self.free_amount.scaleb(SCALE))  # a plan number: whole nano-units
        total = 0
        for index, value in enumerate(values[: self.free_events or count].tolist()):
            total += value
            if total >= budget:
                return index, value - (total - budget)
        return min(self.free_events or count, count), 0

    def _limits(self, paid: Scaled) -> list[Detail]:
        """What raising each paid event to ``min_per_event`` and cutting it to
        ``max_per_event`` adds to the charge, exactly (an event's amount compared as
        nano-units with the exact bound where its percentage and fee reach the limit)."""
        found = []
        for limit, below, kind, verb in (
            (self.min_per_event, True, "per_event_minimum", "raised"),
            (self.max_per_event, False, "per_event_maximum", "cut"),
        ):
            if limit is None:
                continue
            beyond = self._beyond(paid, limit, below=below)
            count = int(np.count_nonzero(beyond))
            if count:
                unlimited = (
                    from_scaled(exact_sum(paid[beyond])) * self.rate / HUNDRED
                    + count * self.fixed_fee
                )
                note = f"each {verb} to {decimal_text(limit)}"
                found.append(
                    Detail(kind, count * limit - unlimited, units=Decimal(count), note=note)
                )
        return found

    def _beyond(self, paid: Scaled, limit: Decimal, *, below: bool) -> npt.NDArray[np.bool_]:
        """Which paid events' percentage and fee fall below ``limit`` (else rise above it).

        An event of ``v`` nano-units pays ``v * rate / 100 / 10^9 + fee``: it is below
        the limit where ``v < (limit - fee) * 10^11 / rate``, above where ``v`` is greater.
        """
        if not self.rate:
            beyond = self.fixed_fee < limit if below else self.fixed_fee > limit
            return np.full(paid.size, beyond, dtype=bool)
        bound = Fraction(limit - self.fixed_fee) * 100 * 10**SCALE / Fraction(self.rate)
        if below:  # v < bound, for a whole v: v < ceil(bound)
            edge = math.ceil(bound)
            if edge > _INT64.max:
                return np.ones(paid.size, dtype=bool)
            below_edge: npt.NDArray[np.bool_] = paid < max(edge, _INT64.min)
            return below_edge
        edge = math.floor(bound)  # v > bound: v > floor(bound)
        if edge < _INT64.min:
            return np.ones(paid.size, dtype=bool)
        above_edge: npt.NDArray[np.bool_] = paid > min(edge, _INT64.max)
        return above_edge

    @classmethod
    def parse(cls, reader: FieldReader) -> Self | None:
        rate = read_rate(reader)
        fixed_fee = reader.decimal("fixed_fee", required=False, default=Decimal(0))
        free_events = reader.integer("free_events")
        free_amount = reader.decimal("free_amount", required=False, default=Decimal(0))
        lowest = reader.decimal("min_per_event", required=False)
        highest = reader.decimal("max_per_event", required=False)
        if lowest is not None and highest is not None and lowest > highest:
            reader.problems.add(
                reader.path("max_per_event"),
                f"must be at least min_per_event ({lowest}), not {highest}",
            )
            return None
        unread = any(  # written, but refused (and named) by the reader
            reader.has(name) and value is None
            for name, value in (("min_per_event", lowest), ("max_per_event", highest))
        )
        if rate is None or fixed_fee is None or free_events is None or free_amount is None:
            return None
        return None if unread else cls(rate, fixed_fee, free_events, free_amount, lowest, highest)
