"""Plan commitments: the least and the most a plan's charges bill together per period.

An outcome-based contract guarantees the supplier a minimum spend: a plan's
``minimum_commitment`` covers all its charges (the ``charges`` section; fixed
fees are not part of it) together, after each charge's own ``min_amount``. When
they bill less, a true-up line bills the difference. An optional ``maximum``
caps them: what they bill above it is credited on a line of its own.

Both are amounts per billing period. On a part of a period (the first or last
period of a subscription, a trial's end, a plan change, a pause) they are
prorated by the same rule as fixed fees, by the second
(:func:`~iotbill.domain.subscriptions.prorate`), and compared with the charges of
that part; the parts of one plan phase that a pause separates are one part.
Each line is rounded once. Examples:

* a commitment of 100.00, charges of 50.00: a true-up of 50.00;
* a UTC customer who starts on 16 April 2026: 100.00 x 1,296,000 / 2,592,000
  seconds = 50.00 is committed for April;
* a maximum of 400.00, charges of 430.00: a credit of -30.00.

Commitments come after each charge's minimum and before coupons, carried
credits and tax (the order of operations in docs/billing.md). Interim invoices
(progressive billing) leave them out: a commitment is settled when its period
closes.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

from iotbill.domain.catalog import Commitment
from iotbill.domain.invoicing import InvoiceLine
from iotbill.domain.money import Currency
from iotbill.domain.periods import Period
from iotbill.domain.pricing import Detail
from iotbill.domain.quantities import decimal_text
from iotbill.domain.subscriptions import exact_decimal, prorate, seconds

TRUE_UP = "minimum_commitment"
"""The charge code of a true-up line (a plan's charges and fees may not take it)."""
CAP_CREDIT = "maximum"
"""The charge code of the credit for charges above the maximum."""
DESCRIPTIONS = {
    TRUE_UP: "Minimum commitment true-up",
    CAP_CREDIT: "Credit: charges above the maximum",
}


def commitment_lines(
    commitment: Commitment,
    currency: Currency,
    charges: Sequence[InvoiceLine],
    used: Sequence[Period],
    period: Period,
) -> list[InvoiceLine]:
    """The true-up or the credit that brings ``charges`` (the lines a plan's charges
    billed for the parts ``used`` of ``period``) within the commitment: none, or one line.

    A difference that rounds to nothing (under half a minor unit, which only a prorated
    share can leave) gives no line.
    """
    billed = sum((line.amount for line in charges), Decimal(0))
    minimum, maximum = commitment.minimum, commitment.maximum
    if minimum is not None and billed < _share(minimum, used, period):
        found = _line(currency, TRUE_UP, minimum, billed, used, period)
    elif maximum is not None and billed > _share(maximum, used, period):
        found = _line(currency, CAP_CREDIT, maximum, billed, used, period)
    else:
        return []
    return [found] if found.amount else []


def _share(amount: Decimal, used: Sequence[Period], period: Period) -> Decimal:
    return amount if list(used) == [period] else prorate(amount, used, period)


def _line(
    currency: Currency,
    code: str,
    amount: Decimal,
    billed: Decimal,
    used: Sequence[Period],
    period: Period,
) -> InvoiceLine:
    """The line ``share - billed``: its detail shows the share (prorated) and the charges."""
    bound = _share(amount, used, period)
    name = "minimum" if code == TRUE_UP else "maximum"
    note = f"{name} {decimal_text(amount)}"
    if list(used) != [period]:
        used_seconds = decimal_text(
            exact_decimal(sum((seconds(span) for span in used), Fraction(0)))
        )
        period_seconds = decimal_text(exact_decimal(seconds(period)))
        note += f" x {used_seconds}/{period_seconds} seconds"
    return InvoiceLine.rounded(
        currency,
        charge=code,
        kind="commitment",
        description=DESCRIPTIONS[code],
        quantity=Decimal(1),
        unit_price=None,
        exact_amount=bound - billed,
        detail=(
            Detail(name, bound, note=note),
            Detail("charges", -billed, note="billed by the plan's charges"),
        ),
    )
