"""Leases: a contract term, what happens at its end, ending early, and buying the device out.

A plan's :class:`~iotbill.domain.catalog.ContractTerms` bind every subscription
that starts on it (the plan of its first phase; a later plan change keeps the
contract), unless the subscription was given terms of its own
(:func:`contract_of`):

* ``term``: a number of billing periods from the subscription's first one.
  ``at_term_end`` says what follows: ``renew`` (another term, and another),
  ``evergreen`` (period after period, no term any more) or ``cancel`` (service
  ends at term end: the subscription is created cancelled at that instant, and
  an earlier cancellation may replace it).
* ``early_termination_fee``: service that ends before the end of the term in
  force (the first term, or the current one when terms renew) bills the fee
  once, on the final invoice (the cancellation invoice of an immediate
  cancellation, the last period's close otherwise). A fixed ``amount``, or a
  ``percent`` of the fixed fees left in the term: the plan's fixed fees of each
  whole period of the term that starts at or after the instant service ends
  (none left: no fee). The period cut short is settled by the proration of any
  cancellation.
* ``buy_out``: the price at which the customer may buy the device, at or after
  the end of the first term. Buying it out ends service at that instant (an
  immediate cancellation of reason ``buy_out``: unused advance fees credited,
  no lease fee after), bills the price on that final invoice, and records that
  the customer owns the device.

Worked example: 36 months at 120.00 with a fee of 50 %, cancelled with effect
at the end of the 10th month: the 26 months from the 11th to the 36th are left,
and the fee is 0.5 x 26 x 120.00 = 1,560.00.

>>> from datetime import UTC, datetime
>>> from iotbill.domain.billing_cycles import BillingCycle
>>> cycle = BillingCycle.calendar("month", "UTC")
>>> start = datetime(2026, 1, 1, tzinfo=UTC)
>>> left = whole_periods(cycle, cycle.end_of_nth(start, 10), cycle.end_of_nth(start, 36))
>>> len(left), left[0].start.date().isoformat(), left[-1].end.date().isoformat()
(26, '2026-11-01', '2029-01-01')
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from iotbill.domain.billing_cycles import BillingCycle
from iotbill.domain.catalog import ContractTerms, Plan
from iotbill.domain.customers import Customer
from iotbill.domain.errors import Conflict
from iotbill.domain.invoicing import InvoiceLine
from iotbill.domain.periods import ONE_MICROSECOND, Period, require_aware
from iotbill.domain.pricing import Detail
from iotbill.domain.quantities import decimal_text
from iotbill.domain.subscriptions import Cancellation, Subscription

MAX_TERMS = 1200
"""Renewed terms are followed this far (beyond, the contract is taken as over)."""


def term_end(
    cycle: BillingCycle, start: datetime, terms: ContractTerms, at: datetime
) -> datetime | None:
    """The end of the term in force for service that ends at ``at``, from ``start``: the
    term holding the last instant before ``at``; ``None`` once the term is over and does
    not renew."""
    last = at - ONE_MICROSECOND
    end = cycle.end_of_nth(start, terms.term)
    for _ in range(MAX_TERMS):
        if last < end:
            return end
        if terms.at_term_end != "renew":
            return None
        end = cycle.end_of_nth(end, terms.term)
    return None


def whole_periods(cycle: BillingCycle, ended: datetime, until: datetime) -> list[Period]:
    """The periods that start at or after ``ended`` and before ``until``, in order."""
    period = cycle.period_containing(ended)
    if period.start < ended:
        period = cycle.next_period(period)
    found = []
    while period.start < until:
        found.append(period)
        period = cycle.next_period(period)
    return found


def contract_of(subscription: Subscription, plan: Plan) -> ContractTerms | None:
    """The lease terms binding ``subscription``, which started on ``plan``: its own, or the
    plan's."""
    return subscription.contract or plan.contract


def lease_lines(subscription: Subscription, customer: Customer, plan: Plan) -> list[InvoiceLine]:
    """What the final invoice of a subscription on a lease (from ``plan``, the plan it
    started on) bills: the early termination fee when service ends before the term, the
    buy-out price when bought out."""
    terms, cancellation = contract_of(subscription, plan), subscription.cancellation
    if terms is None or cancellation is None:
        return []
    if cancellation.reason == "buy_out" and terms.buy_out is not None:
        return [_buy_out_line(terms.buy_out, plan)]
    fee = terms.early_termination_fee
    if cancellation.reason != "requested" or fee is None:
        return []
    cycle = subscription.cycle(customer.timezone)
    ended = cancellation.effective_at
    until = term_end(cycle, subscription.start, terms, ended)
    if until is None:
        return []
    if fee.amount is not None:
        note = f"fixed, for ending before the term ends at {until.isoformat()}"
        return [_fee_line(plan, fee.amount, (Detail("early_termination", fee.amount, note=note),))]
    assert fee.percent is not None
    left = whole_periods(cycle, ended, until)
    if not left:
        return []
    per_period = sum((fixed.amount for fixed in plan.fixed_fees), Decimal(0))
    amount = fee.percent * len(left) * per_period / 100
    note = (
        f"{decimal_text(fee.percent)} % x {len(left)} periods x {decimal_text(per_period)}, "
        f"the fixed fees left in the term ({left[0].start.isoformat()} to {until.isoformat()})"
    )
    detail = Detail(
        "early_termination",
        amount,
        units=Decimal(len(left)),
        unit_price=per_period,
        rate=fee.percent,
        note=note,
    )
    return [_fee_line(plan, amount, (detail,))]


def buy_out(
    subscription: Subscription, customer: Customer, plan: Plan, at: datetime
) -> Subscription:
    """``subscription`` (which started on ``plan``) bought out at ``at``: service ends then,
    and the customer owns the device. :class:`Conflict` when its contract offers no
    buy-out, before the end of the first term, or once service has ended (or is bought out
    already)."""
    at = require_aware(at, "at")
    terms = contract_of(subscription, plan)
    if terms is None or terms.buy_out is None:
        raise Conflict(f"subscription {subscription.id!r} is offered no buy-out")
    offered = subscription.cycle(customer.timezone).end_of_nth(subscription.start, terms.term)
    if at < offered:
        raise Conflict(f"the buy-out is offered from the end of the term, {offered.isoformat()}")
    before = subscription.cancellation
    if before is not None and not (before.reason == "term_end" and at <= before.effective_at):
        what = "bought out" if before.reason == "buy_out" else "ended"
        raise Conflict(
            f"subscription {subscription.id!r} was {what} at {before.effective_at.isoformat()}"
        )
    return replace(subscription, cancellation=Cancellation("immediate", at, at, "buy_out"))


def owned_since(subscription: Subscription) -> datetime | None:
    """When the customer came to own the leased device (bought out), or ``None``."""
    cancellation = subscription.cancellation
    if cancellation is None or cancellation.reason != "buy_out":
        return None
    return cancellation.effective_at


def _fee_line(plan: Plan, amount: Decimal, detail: tuple[Detail, ...]) -> InvoiceLine:
    return InvoiceLine.rounded(
        plan.currency,
        charge="early_termination_fee",
        kind="one_off",
        description="Early termination fee",
        quantity=Decimal(1),
        unit_price=None,
        exact_amount=amount,
        detail=detail,
    )


def _buy_out_line(price: Decimal, plan: Plan) -> InvoiceLine:
    return InvoiceLine.rounded(
        plan.currency,
        charge="buy_out",
        kind="one_off",
        description="Buy-out: the device is now the customer's",
        quantity=Decimal(1),
        unit_price=price,
        exact_amount=price,
    )
