"""How coupons discount a subscription's lines: before tax, each as a line of its own.

A coupon redeemed on a subscription (a :class:`Discount`: the coupon and its
:class:`~iotbill.domain.coupons.Window`) discounts the lines it *targets*: lines
the subscription bills (fixed fees, their credits, usage, minimums and the plan's
commitment lines; never an adjustment, a carried credit or a one-off charge) whose
plan or charge it names (any, for a whole-invoice coupon) and whose billing period
is in its window. A line belongs to the period it covers: a period-close invoice bills its period's
usage and the next period's advance fee, and a 3-period coupon redeemed for
January discounts January's usage and February's and March's fees, not April's.

* **A percentage** is taken on each invoice, once per period its target lines
  cover there: ``-(rate x the lines' sum)``, rounded once. A credit for a
  discounted fee (a change or a cancellation) is reduced alike, so the customer
  gets back what they paid, not more.
* **A fixed amount** is taken once per period, on the invoice that closes it:
  at most the amount, and never more than what the target billed for the
  period over all its invoices (its advance fees, changes, cancellation credit,
  arrears and usage), so it never takes a target below zero. Nothing is taken
  for a period whose target billed nothing (or a net credit).

The discount lines come after the lines they discount and before any carried
credit, and tax applies to the result (:mod:`iotbill.domain.invoices`).

>>> from dataclasses import replace
>>> from datetime import UTC, datetime
>>> from iotbill.domain.billing_cycles import BillingCycle
>>> from iotbill.domain.invoicing import LineSource
>>> from iotbill.domain.money import currency
>>> usd, at = currency("USD"), datetime(2026, 1, 1, tzinfo=UTC)
>>> cycle = BillingCycle.calendar("month", "UTC")
>>> january = cycle.period_containing(at)
>>> fee = InvoiceLine.rounded(usd, charge="base", kind="fixed_fee", description="Base",
...     quantity=Decimal(1), unit_price=None, exact_amount=Decimal("31.00"))
>>> fee = replace(fee, source=LineSource("pump", january))
>>> coupon = Coupon.create(code="LAUNCH20", percent="20", periods=3, created_at=at)
>>> discount = Discount(coupon, Window(cycle, january, 3))
>>> [line] = percentage_lines([discount], [fee], usd, ZoneInfo("UTC"))
>>> line.description, str(line.amount)
('Coupon LAUNCH20 (20 % off every line, 2026-01-01 to 2026-02-01)', '-6.20')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from iotbill.domain.coupons import HUNDRED, Coupon, Window, window
from iotbill.domain.customers import Customer
from iotbill.domain.invoicing import InvoiceLine, LineKind
from iotbill.domain.money import Currency, format_money
from iotbill.domain.periods import Period
from iotbill.domain.pricing import Detail
from iotbill.domain.quantities import decimal_text
from iotbill.domain.subscription_billing import span_text
from iotbill.domain.subscriptions import Subscription

DISCOUNTED: frozenset[LineKind] = frozenset(
    {"fixed_fee", "credit", "usage", "minimum", "commitment"}
)
"""The kinds of line a coupon discounts."""


@dataclass(frozen=True, slots=True)
class Discount:
    """A coupon redeemed on a subscription, with the billing periods it discounts."""

    coupon: Coupon
    window: Window

    def targets(self, line: InvoiceLine) -> bool:
        """Whether the coupon discounts ``line``: a subscription's line of a kind it
        discounts, of its plan or charge, covering a period of its window."""
        source = line.source
        if source is None or line.kind not in DISCOUNTED:
            return False
        if not self.window.covers(source.covers.start):
            return False
        if self.coupon.plan is not None:
            return source.plan == self.coupon.plan
        if self.coupon.charge is not None:
            return line.charge == self.coupon.charge
        return True


def discounts_of(
    subscription: Subscription, customer: Customer, redeemed: Sequence[tuple[Coupon, datetime]]
) -> list[Discount]:
    """The discounts of the coupons ``redeemed`` on ``subscription`` (each with the instant
    of its redemption), in its customer's billing cycle."""
    cycle = subscription.cycle(customer.timezone)
    return [
        Discount(coupon, window(coupon, redeemed_at, subscription, cycle))
        for coupon, redeemed_at in redeemed
    ]


def percentage_lines(
    discounts: Sequence[Discount], lines: Sequence[InvoiceLine], money: Currency, zone: ZoneInfo
) -> list[InvoiceLine]:
    """The percentage coupons' lines for ``lines`` (one invoice's): one per coupon and
    period covered, in the order the periods first appear."""
    found: list[InvoiceLine] = []
    for discount in discounts:
        coupon = discount.coupon
        if coupon.kind != "percentage":
            continue
        by_period: dict[Period, list[InvoiceLine]] = {}
        for line in lines:
            if discount.targets(line):
                assert line.source is not None
                by_period.setdefault(line.source.covers, []).append(line)
        for covers, targeted in by_period.items():
            net = _sum(targeted)
            if net == 0:
                continue
            exact = -net * coupon.value / HUNDRED
            note = f"{decimal_text(coupon.value)} % of {format_money(net, money)}"
            found.append(_line(coupon, covers, exact, note, money, zone))
    return found


def amount_lines(
    discounts: Sequence[Discount],
    period: Period,
    covering: Sequence[InvoiceLine],
    money: Currency,
    zone: ZoneInfo,
) -> list[InvoiceLine]:
    """The fixed-amount coupons' lines on the invoice that closes ``period``: each takes
    its amount, at most what its target billed for the period (``covering``: every line
    the subscription bills for ``period``, whatever invoice carries it)."""
    found: list[InvoiceLine] = []
    for discount in discounts:
        coupon = discount.coupon
        if coupon.kind != "amount" or not discount.window.covers(period.start):
            continue
        net = _sum([line for line in covering if discount.targets(line)])
        if net <= 0:
            continue
        taken = min(coupon.value, net)
        note = f"{format_money(taken, money)} of {format_money(net, money)} billed for the period"
        found.append(_line(coupon, period, -taken, note, money, zone))
    return found


def _line(
    coupon: Coupon, covers: Period, exact: Decimal, note: str, money: Currency, zone: ZoneInfo
) -> InvoiceLine:
    return InvoiceLine.rounded(
        money,
        charge=coupon.code,
        kind="discount",
        description=f"Coupon {coupon.code} ({coupon.off} off {coupon.target}, "
        f"{span_text(covers, zone)})",
        quantity=Decimal(1),
        unit_price=None,
        exact_amount=exact,
        detail=(Detail("coupon", exact, note=note),),
    )


def _sum(lines: Sequence[InvoiceLine]) -> Decimal:
    return sum((line.amount for line in lines), Decimal(0))
