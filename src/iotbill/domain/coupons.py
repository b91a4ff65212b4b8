"""Coupons: a discount a subscription redeems for some billing periods, or forever.

A :class:`Coupon` takes a percentage (more than 0, at most 100) or a fixed
amount (in one currency) off a *target*: the subscription's whole invoice, the
lines of one plan, or the lines of one charge (a charge or fixed-fee code). It
lasts ``periods`` billing periods from its redemption, or forever (``None``),
and may be redeemed at most ``max_redemptions`` times (``None``: no limit).

A :class:`Redemption` applies a coupon to one subscription from an instant. Its
:func:`window` is a run of the subscription's billing periods: the first is the
first period that starts at or after the redemption (the subscription's first
period, when redeemed by its start), so every invoice that bills a period of
the window is issued after the redemption, and no invoice already issued
changes. How a coupon discounts the lines of those periods is
:mod:`iotbill.domain.discounts`.

>>> from datetime import UTC, datetime
>>> at = datetime(2026, 1, 1, tzinfo=UTC)
>>> coupon = Coupon.create(code="LAUNCH20", percent="20", periods=3, created_at=at)
>>> coupon.terms
'20 % off every line, for 3 periods'
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from iotbill.domain.billing_cycles import BillingCycle
from iotbill.domain.errors import InvalidInput, ProblemCollector
from iotbill.domain.input_rules import id_problem, text_problem
from iotbill.domain.money import Currency, currency, format_money, parse_decimal, round_money
from iotbill.domain.periods import Period, require_aware
from iotbill.domain.quantities import decimal_text
from iotbill.domain.subscriptions import Subscription

CouponKind = Literal["percentage", "amount"]
HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class Coupon:
    """A discount: ``value`` percent (``percentage``) or ``value`` in ``currency``
    (``amount``) off the lines of ``plan`` or of ``charge`` (neither: every line), for
    ``periods`` billing periods (``None``: forever), at most ``max_redemptions`` times."""

    code: str
    kind: CouponKind
    value: Decimal
    currency: Currency | None
    plan: str | None
    charge: str | None
    periods: int | None
    max_redemptions: int | None
    created_at: datetime
    name: str = ""

    @classmethod
    def create(
        cls,
        *,
        code: str,
        created_at: datetime,
        percent: object = None,
        amount: object = None,
        currency_code: str | None = None,
        plan: str | None = None,
        charge: str | None = None,
        periods: object = None,
        max_redemptions: object = None,
        name: str = "",
    ) -> Coupon:
        """A coupon from raw input; every problem is reported at once, each at its field."""
        problems = ProblemCollector()
        wrong = "must be a non-empty string" if not code.strip() else id_problem("code", code)
        if wrong:
            problems.add("code", wrong)
        wrong = text_problem(name)
        if wrong:
            problems.add("name", wrong)
        if (percent is None) == (amount is None):
            problems.add("percent", "give a percentage or an amount (exactly one)")
        money: Currency | None = None
        if amount is not None:
            if currency_code is None:
                problems.add("currency", "an amount needs its currency")
            else:
                try:
                    money = currency(currency_code)
                except InvalidInput as error:
                    problems.extend(error.problems)
        elif currency_code is not None:
            problems.add("currency", "only an amount has a currency")
        value = _percent(percent, problems) if percent is not None else None
        if amount is not None:
            value = _amount(amount, money, problems)
        if plan is not None and charge is not None:
            problems.add("charge", "a coupon targets one plan or one charge, not both")
        for field, target in (("plan", plan), ("charge", charge)):
            if target is not None:
                wrong = (
                    "must be a non-empty string"
                    if not target.strip()
                    else id_problem("plan" if field == "plan" else "code", target)
                )
                if wrong:
                    problems.add(field, wrong)
        counted = {
            field: _count(given, field, problems)
            for field, given in (("periods", periods), ("max_redemptions", max_redemptions))
        }
        try:
            created_at = require_aware(created_at, "created_at")
        except InvalidInput as error:
            problems.extend(error.problems)
        problems.raise_if_any()
        assert value is not None
        return cls(
            code=code,
            kind="percentage" if percent is not None else "amount",
            value=value,
            currency=money,
            plan=plan,
            charge=charge,
            periods=counted["periods"],
            max_redemptions=counted["max_redemptions"],
            created_at=created_at,
            name=name,
        )

    @property
    def target(self) -> str:
        """What it discounts, in words: ``every line``, ``plan pump``, ``charge water``."""
        if self.plan is not None:
            return f"plan {self.plan}"
        if self.charge is not None:
            return f"charge {self.charge}"
        return "every line"

    @property
    def off(self) -> str:
        """How much it takes off: ``20 %`` or ``10.00 USD``."""
        if self.currency is None:
            return f"{decimal_text(self.value)} %"
        return f"{format_money(self.value, self.currency)} {self.currency}"

    @property
    def terms(self) -> str:
        """The coupon in one phrase, for a line's description and the command line."""
        lasting = "forever" if self.periods is None else f"for {self.periods} periods"
        if self.periods == 1:
            lasting = "for 1 period"
        per = "" if self.currency is None else " per period"
        return f"{self.off} off {self.target}{per}, {lasting}"

    def as_json(self, redeemed: int) -> dict[str, Any]:
        """The coupon's JSON, with how many times it was ``redeemed``."""
        return {
            "code": self.code,
            "name": self.name,
            "kind": self.kind,
            "percent": decimal_text(self.value) if self.currency is None else None,
            "amount": None if self.currency is None else format_money(self.value, self.currency),
            "currency": None if self.currency is None else self.currency.code,
            "plan": self.plan,
            "charge": self.charge,
            "periods": self.periods,
            "max_redemptions": self.max_redemptions,
            "redeemed": redeemed,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class Redemption:
    """Coupon ``coupon`` applied to subscription ``subscription_id`` at ``redeemed_at``."""

    id: str
    coupon: str
    subscription_id: str
    customer_id: str
    redeemed_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "coupon": self.coupon,
            "subscription": self.subscription_id,
            "customer": self.customer_id,
            "redeemed_at": self.redeemed_at.isoformat(),
        }


def redemption_id(coupon: str, subscription_id: str, at: datetime) -> str:
    """A redemption's id: ``{subscription}/coupon/{code}/{instant}``."""
    return f"{subscription_id}/coupon/{coupon}/{at.isoformat()}"


@dataclass(frozen=True, slots=True)
class Window:
    """The billing periods a redemption discounts: from ``first`` on, ``periods`` of them
    (``None``: all), in ``cycle``."""

    cycle: BillingCycle
    first: Period
    periods: int | None

    @property
    def end(self) -> datetime | None:
        """The end of the window's last period (``None``: it never ends)."""
        if self.periods is None:
            return None
        period = self.first
        for _ in range(self.periods - 1):
            period = self.cycle.next_period(period)
        return period.end

    def overlaps(self, other: Window) -> bool:
        """Whether the two windows share a period."""
        end, other_end = self.end, other.end
        return (other_end is None or self.first.start < other_end) and (
            end is None or other.first.start < end
        )

    def covers(self, start: datetime) -> bool:
        """Whether the billing period that starts at ``start`` is one of the window's."""
        end = self.end
        return self.first.start <= start and (end is None or start < end)


def window(
    coupon: Coupon, redeemed_at: datetime, subscription: Subscription, cycle: BillingCycle
) -> Window:
    """The periods of ``subscription`` (on ``cycle``) that a redemption at ``redeemed_at``
    discounts: the first that starts at or after it (the first period, when redeemed by
    the subscription's start) and the ``coupon.periods - 1`` after it."""
    if redeemed_at <= subscription.start:
        first = cycle.period_containing(subscription.start)
    else:
        first = cycle.period_containing(redeemed_at)
        if first.start != redeemed_at:
            first = cycle.next_period(first)
    return Window(cycle, first, coupon.periods)


def _percent(given: object, problems: ProblemCollector) -> Decimal | None:
    try:
        value = parse_decimal(given, "percent")
    except InvalidInput as error:
        problems.extend(error.problems)
        return None
    if value <= 0 or value > HUNDRED:
        problems.add("percent", f"must be more than 0 and at most 100, not {decimal_text(value)}")
        return None
    return value


def _amount(given: object, money: Currency | None, problems: ProblemCollector) -> Decimal | None:
    try:
        value = parse_decimal(given, "amount")
    except InvalidInput as error:
        problems.extend(error.problems)
        return None
    if value <= 0:
        problems.add("amount", f"must be positive, not {decimal_text(value)}")
        return None
    if money is not None and round_money(value, money) != value:
        problems.add("amount", f"{decimal_text(value)} has more decimals than {money} allows")
        return None
    return value


def _count(given: object, field: str, problems: ProblemCollector) -> int | None:
    if given is None:
        return None
    if isinstance(given, bool) or not isinstance(given, int):
        problems.add(field, f"must be a whole number, not {given!r}")
        return None
    if given < 1:
        problems.add(field, f"must be at least 1, not {given}")
        return None
    return given
