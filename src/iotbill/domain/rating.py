"""Rating: a plan's charges and fees over one billing period, as invoice lines.

``rate_period`` is the pure heart of billing: given a plan, a table of usage
events and a period, it selects each meter's events, aggregates them, prices
each charge (per group) with its price model, adds a true-up line where a
charge's total falls below its ``min_amount``, and rounds each line once.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from iotbill.domain.catalog import Charge, FixedFee, Plan
from iotbill.domain.errors import InvalidInput, ProblemCollector
from iotbill.domain.event_table import EventTable
from iotbill.domain.invoicing import InvoiceLine
from iotbill.domain.metering.selection import select
from iotbill.domain.money import Currency
from iotbill.domain.periods import Period
from iotbill.domain.pricing import Detail, Usage


@dataclass(frozen=True, slots=True)
class RatingOptions:
    """Which parts of a plan to rate: fees by timing, and usage charges."""

    advance_fees: bool = True
    arrears_fees: bool = True
    usage: bool = True


def rate_period(
    plan: Plan, table: EventTable, period: Period, options: RatingOptions = RatingOptions()
) -> list[InvoiceLine]:
    """Every line ``plan`` bills for ``period``: fixed fees first, then charges in plan order.

    Raises :class:`InvalidInput` listing every event that a meter cannot take.
    """
    lines = [
        fee_line(fee, plan.currency)
        for fee in plan.fixed_fees
        if (options.advance_fees if fee.timing == "advance" else options.arrears_fees)
    ]
    if not options.usage:
        return lines
    problems = ProblemCollector()
    for charge in plan.charges:
        try:
            lines.extend(charge_lines(plan, charge, table, period))
        except InvalidInput as error:
            problems.extend(error.problems)
    problems.raise_if_any()
    return lines


def fee_line(fee: FixedFee, currency: Currency) -> InvoiceLine:
    """A fixed fee for one full period."""
    return InvoiceLine.rounded(
        currency,
        charge=fee.code,
        kind="fixed_fee",
        description=fee.name or fee.code,
        quantity=Decimal(1),
        unit_price=fee.amount,
        exact_amount=fee.amount,
        detail=(Detail("fixed_fee", fee.amount, note=f"billed in {fee.timing}"),),
    )


def charge_lines(
    plan: Plan, charge: Charge, table: EventTable, period: Period
) -> list[InvoiceLine]:
    """The lines of one charge: one per group, then a minimum true-up if needed."""
    if charge.meter is None:
        lines = [_priced_line(plan.currency, charge, Usage(Decimal(1)), None)]
    else:
        meter = plan.meter(charge.meter)
        aggregation = meter.aggregator()
        lines = [
            _priced_line(
                plan.currency,
                charge,
                Usage(aggregation.aggregate(usage.window), usage.window.values, usage.amounts),
                usage.group,
            )
            for usage in select(table, meter, period, charge.model.amount_property)
        ]
    if charge.min_amount is not None:
        total = sum((line.amount for line in lines), Decimal(0))
        if total < charge.min_amount:
            lines.append(_true_up(plan.currency, charge, charge.min_amount, total))
    return lines


def _priced_line(
    currency: Currency, charge: Charge, usage: Usage, group: str | None
) -> InvoiceLine:
    rating = charge.model.price(usage)
    description = charge.name or charge.code
    return InvoiceLine.rounded(
        currency,
        charge=charge.code,
        kind="usage",
        description=description if group is None else f"{description} ({group})",
        quantity=usage.quantity,
        unit_price=rating.unit_price,
        exact_amount=rating.amount,
        group=group,
        detail=rating.detail,
    )


def _true_up(currency: Currency, charge: Charge, minimum: Decimal, total: Decimal) -> InvoiceLine:
    shortfall = minimum - total
    return InvoiceLine.rounded(
        currency,
        charge=charge.code,
        kind="minimum",
        description=f"{charge.name or charge.code}: minimum charge true-up",
        quantity=Decimal(1),
        unit_price=None,
        exact_amount=shortfall,
        detail=(Detail("minimum_true_up", shortfall, note=f"minimum {minimum}, charged {total}"),),
    )
