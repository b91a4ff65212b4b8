"""One-off plan charges and their instalments: a price billed once per subscription.

A plan's ``one_off_charges`` (a device sold with the service, a setup fee)
are billed once for each subscription that starts on the plan, from its first
invoice. ``instalments: N`` splits a price into N parts, billed with the
advance fees of the subscription's first N billing periods: part 1 on the
opening invoice, part k on the invoice that closes period k-1 (which bills
period k in advance).

The parts add up to the price exactly: each is the price divided by N,
rounded *down* to the currency's minor unit, and what is left goes on the
first part (:func:`instalment_parts`). This is an allocation, not a rounding
of an amount: every part is already at the minor unit, so the one rounding
rule of each invoice line (:func:`~iotbill.domain.money.round_money`) leaves
it as it is.

When service ends (a cancellation) before the last part's period starts,
the plan's ``on_cancel`` decides: ``bill_remaining`` bills every part not
billed yet on the subscription's final invoice (the cancellation invoice of
an immediate cancellation; the close of the last period otherwise),
``forgive`` never bills them. Only the plan the subscription starts on bills
one-off charges; a later plan change does not bill its own, and the parts
still owed keep coming whatever plan is in force.

>>> from iotbill.domain.money import currency
>>> [str(part) for part in instalment_parts(Decimal("1000.00"), 3, currency("USD"))]
['333.34', '333.33', '333.33']
>>> [str(part) for part in instalment_parts(Decimal("1000"), 3, currency("JPY"))]
['334', '333', '333']
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from iotbill.domain.catalog import OneOffPlanCharge, Plan
from iotbill.domain.customers import Customer
from iotbill.domain.invoicing import InvoiceLine
from iotbill.domain.money import Currency
from iotbill.domain.periods import ONE_MICROSECOND, Period
from iotbill.domain.pricing import Detail
from iotbill.domain.quantities import decimal_text
from iotbill.domain.subscriptions import Subscription

MAX_INSTALMENTS = 1200
"""The most parts a price may be split into (a hundred years of months)."""


def instalment_parts(amount: Decimal, count: int, currency: Currency) -> tuple[Decimal, ...]:
    """``amount`` in ``count`` parts at the minor unit: ``amount / count`` rounded down,
    the remainder on the first part; they add up to ``amount`` exactly."""
    part = (amount / count).quantize(currency.quantum, rounding=ROUND_DOWN)
    return (amount - part * (count - 1), *([part] * (count - 1)))


@dataclass(frozen=True, slots=True)
class Instalment:
    """Part ``number`` (from 1) of ``charge``, billed with the advance fees of the
    subscription's ``number``-th billing period."""

    charge: OneOffPlanCharge
    number: int
    amount: Decimal

    def line(self, currency: Currency, note: str = "") -> InvoiceLine:
        charge = self.charge
        name = charge.name or charge.code
        count = charge.instalments
        description = name if count == 1 else f"{name} (instalment {self.number} of {count})"
        split = f"{decimal_text(charge.amount)} in {count} parts: part {self.number}{note}"
        detail = () if count == 1 else (Detail("instalment", self.amount, note=split),)
        return InvoiceLine.rounded(
            currency,
            charge=charge.code,
            kind="one_off",
            description=description,
            quantity=Decimal(1),
            unit_price=self.amount,
            exact_amount=self.amount,
            detail=detail,
        )


def instalments(plan: Plan) -> list[Instalment]:
    """Every part of every one-off charge of ``plan``, in the plan's order, by part."""
    return [
        Instalment(charge, number, amount)
        for charge in plan.one_off_charges
        for number, amount in enumerate(
            instalment_parts(charge.amount, charge.instalments, plan.currency), start=1
        )
    ]


def period_number(subscription: Subscription, customer: Customer, period: Period) -> int | None:
    """Which billing period of the subscription ``period`` is (1: the one it starts in), when
    it is among the first :data:`MAX_INSTALMENTS`; ``None`` otherwise."""
    cycle = subscription.cycle(customer.timezone)
    current = cycle.period_containing(subscription.start)
    for number in range(1, MAX_INSTALMENTS + 1):
        if current.start == period.start:
            return number
        if current.start > period.start:
            return None
        current = cycle.next_period(current)
    return None


def instalment_lines(
    subscription: Subscription, customer: Customer, plan: Plan, period: Period
) -> list[InvoiceLine]:
    """The parts billed with the advance fees of ``period``, on the plan the subscription
    started on: none once service has ended by the period's start."""
    end = subscription.end
    if not plan.one_off_charges or (end is not None and end <= period.start):
        return []
    number = period_number(subscription, customer, period)
    return [part.line(plan.currency) for part in instalments(plan) if part.number == number]


def remaining_lines(
    subscription: Subscription, customer: Customer, plan: Plan
) -> list[InvoiceLine]:
    """On the final invoice of a cancelled subscription: the parts of the periods that start
    at or after its end, for the charges that ``bill_remaining``."""
    end = subscription.end
    if end is None or not plan.one_off_charges:
        return []
    last = subscription.cycle(customer.timezone).period_containing(end - ONE_MICROSECOND)
    billed = period_number(subscription, customer, last) or MAX_INSTALMENTS
    return [
        part.line(plan.currency, ", billed as service ended")
        for part in instalments(plan)
        if part.charge.on_cancel == "bill_remaining" and part.number > billed
    ]
