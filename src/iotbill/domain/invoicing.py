"""Invoice lines and totals: rounding once per line, totals as exact sums.

Each line's ``amount`` is its ``exact_amount`` rounded once to the currency's
minor unit (:func:`~iotbill.domain.money.round_money`); detail amounts stay
exact. A subtotal is the exact sum of the rounded lines.

A line a subscription bills knows, while it is priced, its :class:`LineSource`:
the plan it bills and the billing period it covers (a period-close invoice bills
its period's usage and the next period's advance fees). Coupons read it to know
what they discount (:mod:`iotbill.domain.discounts`); it is not stored, since a
line's discount is priced with the line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from iotbill.domain.errors import InvalidInput
from iotbill.domain.input_rules import amount_problem
from iotbill.domain.money import Currency, format_money, round_money
from iotbill.domain.periods import Period
from iotbill.domain.pricing import Detail
from iotbill.domain.quantities import decimal_text

LineKind = Literal[
    "fixed_fee",
    "usage",
    "minimum",
    "commitment",
    "credit",
    "adjustment",
    "discount",
    "one_off",
    "credit_purchase",
]
UNTAXED: frozenset[LineKind] = frozenset({"credit_purchase"})
"""The kinds of line that tax does not apply to: prepaid credit bought (taxed when spent)."""


@dataclass(frozen=True, slots=True)
class LineSource:
    """What a subscription's line bills: a charge of plan ``plan`` over the billing
    period ``covers`` (or, on an interim invoice, the part of it so far)."""

    plan: str
    covers: Period


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """One charge (and group) on an invoice, rounded once."""

    charge: str
    kind: LineKind
    description: str
    quantity: Decimal
    unit_price: Decimal | None
    exact_amount: Decimal
    amount: Decimal
    group: str | None = None
    detail: tuple[Detail, ...] = ()
    source: LineSource | None = field(default=None, compare=False, repr=False)

    @classmethod
    def rounded(
        cls,
        currency: Currency,
        *,
        charge: str,
        kind: LineKind,
        description: str,
        quantity: Decimal,
        unit_price: Decimal | None,
        exact_amount: Decimal,
        group: str | None = None,
        detail: tuple[Detail, ...] = (),
        source: LineSource | None = None,
    ) -> InvoiceLine:
        """A line whose amount is ``exact_amount`` rounded by the one rule.

        :class:`InvalidInput` at the charge if the amount is not below
        :data:`~iotbill.domain.input_rules.MAX_AMOUNT` in magnitude.
        """
        wrong = amount_problem(exact_amount)
        if wrong is not None:
            raise InvalidInput.at(charge, wrong)
        return cls(
            charge,
            kind,
            description,
            quantity,
            unit_price,
            exact_amount,
            round_money(exact_amount, currency),
            group,
            detail,
            source,
        )

    def as_json(self, currency: Currency) -> dict[str, Any]:
        return {
            "charge": self.charge,
            "kind": self.kind,
            "description": self.description,
            "group": self.group,
            "quantity": decimal_text(self.quantity),
            "unit_price": None if self.unit_price is None else decimal_text(self.unit_price),
            "amount": format_money(self.amount, currency),
            "detail": [detail.as_json() for detail in self.detail],
        }


def subtotal(lines: Iterable[InvoiceLine]) -> Decimal:
    """The exact sum of the lines' rounded amounts."""
    return sum((line.amount for line in lines), Decimal(0))


def taxable(lines: Iterable[InvoiceLine]) -> Decimal:
    """The sum of the lines that tax applies to (all but :data:`UNTAXED` kinds)."""
    return subtotal(line for line in lines if line.kind not in UNTAXED)


def untaxed(lines: Iterable[InvoiceLine]) -> Decimal:
    """The sum of the :data:`UNTAXED` lines: the prepaid credit an invoice sells."""
    return subtotal(line for line in lines if line.kind in UNTAXED)
