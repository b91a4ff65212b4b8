"""Late events: re-pricing a closed period and billing the difference as adjustments.

An event whose period was already invoiced (and finalized) is not dropped and
does not rewrite the old invoice. The closed period is priced again with every
event known now and with the events that were billed, exactly as it was priced
the first time (segments, full tiers, minimums); for each charge whose rounded
total changed, one ``adjustment`` line carries the difference to the next
invoice, labelled with the original invoice's number and the period. Under
volume tiers more usage can cost less, so an adjustment can be negative. A
voided or corrected event is handled the same way: the table of events known
now holds the void or correction, which keeps the earlier event's device,
type and timestamp, so the earlier event no longer counts there
(:func:`~iotbill.domain.events.counting`).

Which events "were billed" is the caller's to say: those counted by the
original invoice and by earlier adjustments for the same period, so each late
event is billed exactly once.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from iotbill.domain.commitments import DESCRIPTIONS
from iotbill.domain.customers import Customer
from iotbill.domain.event_table import EventTable
from iotbill.domain.invoicing import InvoiceLine
from iotbill.domain.money import format_money
from iotbill.domain.periods import Period
from iotbill.domain.pricing import Detail
from iotbill.domain.subscription_billing import (
    PlanVersions,
    committed_usage_lines,
    segments,
    span_text,
)
from iotbill.domain.subscriptions import Subscription


def late_usage_adjustments(
    subscription: Subscription,
    customer: Customer,
    plans: PlanVersions,
    period: Period,
    *,
    billed: EventTable,
    current: EventTable,
    original_number: str,
) -> list[InvoiceLine]:
    """One adjustment line per charge whose usage total for ``period`` changed.

    ``billed`` holds the events already invoiced for the period, ``current``
    every event known now. The adjustment is the difference of the rounded
    totals, so the original lines plus the adjustments add up to what the
    period costs with every event.
    """
    before = committed_usage_lines(subscription, customer, plans, period, billed)
    after = committed_usage_lines(subscription, customer, plans, period, current)
    names = dict(DESCRIPTIONS) | {
        charge.code: charge.name or charge.code
        for segment in segments(subscription, plans, period)
        for charge in segment.plan.charges
    }
    currency = customer.currency
    lines: list[InvoiceLine] = []
    for code in dict.fromkeys(line.charge for line in (*after, *before)):
        billed_amount = _amount(before, code)
        repriced_amount = _amount(after, code)
        difference = repriced_amount - billed_amount
        if difference == 0:
            continue
        description = (
            f"Late usage adjustment: {names.get(code, code)} for {original_number},"
            f" {span_text(period, customer.zone)}"
        )
        lines.append(
            InvoiceLine.rounded(
                currency,
                charge=code,
                kind="adjustment",
                description=description,
                quantity=_quantity(after, code) - _quantity(before, code),
                unit_price=None,
                exact_amount=difference,
                detail=(
                    Detail("repriced", repriced_amount, note="with the late events"),
                    Detail(
                        "billed",
                        -billed_amount,
                        note=f"{format_money(billed_amount, currency)} on {original_number}",
                    ),
                ),
            )
        )
    return lines


def _amount(lines: Iterable[InvoiceLine], code: str) -> Decimal:
    return sum((line.amount for line in lines if line.charge == code), Decimal(0))


def _quantity(lines: Iterable[InvoiceLine], code: str) -> Decimal:
    return sum(
        (line.quantity for line in lines if line.charge == code and line.kind == "usage"),
        Decimal(0),
    )
