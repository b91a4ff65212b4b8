"""The SLA credit: a late visit credits part of the period's service fees (service model).

A plan's service terms may promise a response time (:class:`SlaTerms`): the
technician on site within ``on_site_within`` of the work order's opening. Its
credit table (:class:`CreditTier`, thresholds increasing) says what a late visit
earns: a visit on site **more than** a tier's threshold after opening earns that
tier's percent (the last tier it passes). With the table of the template,

=====================================  =========
on site after                          credit
=====================================  =========
at most 4 h (on time; exactly 4 h too)  0 %
more than 4 h, at most 8 h              10 %
more than 8 h                           25 %
=====================================  =========

The rules, each decided once here:

- **Response time** runs from the work order's opening (``opened_at``: when it was
  opened by hand, or by the alert job) to the technician's arrival (``on_site_at``).
- **Which period**: a breach belongs to the billing period, of the subscription
  that covers the device, in which its work order was *opened*: the period whose
  fees bought the promise.
- **Service fees** of a period are the recurring fees the plan bills for it: its
  fixed fees (advance or arrears, prorated as billed, less the credits of a plan
  change or pause inside it), before tax and before coupons. Labour, parts, usage
  and one-off charges are not service fees: they pay for work done and goods
  fitted, which a late visit still delivered.
- **Several breaches** in one period add their percents; a period's credits never
  exceed 100 % of its service fees.
- **Settled**: a breach is known once the arrival is recorded, or once more than
  the table's last threshold has passed since opening without one: its tier can
  then no longer change (a work order never on site by its period's end is
  credited at the top tier once that time has passed, or at its arrival's tier
  when the arrival comes first). An arrival recorded after its breach was credited
  at the top tier changes nothing.
- **Rounding**: a period's credit is ``fees x min(sum of percents, 100) / 100``
  rounded once by the one rule (:func:`~iotbill.domain.money.round_money`). When
  its breaches are credited on more than one invoice (one settled later), each
  credit line is the rounded total so far less the rounded total credited before,
  so the lines of a period add up to exactly the one rounding of its total.

Worked example: service fees 49.00; one work order on site after 9 h 30 min
(25 %) and one after 5 h (10 %) in the same month: 35 % of 49.00 = 17.15. Five
visits after more than 8 h (125 %) credit 100 %: 49.00.

>>> from datetime import timedelta
>>> from decimal import Decimal
>>> terms = SlaTerms(timedelta(hours=4), (CreditTier(timedelta(hours=4), Decimal(10)),
...                                      CreditTier(timedelta(hours=8), Decimal(25))))
>>> [str(terms.percent_for(timedelta(hours=h))) for h in (4, 5, 8, 9)]
['0', '10', '10', '25']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from iotbill.domain.invoicing import InvoiceLine
from iotbill.domain.money import Currency, format_money, round_money
from iotbill.domain.periods import Period
from iotbill.domain.pricing import Detail
from iotbill.domain.quantities import decimal_text

if TYPE_CHECKING:
    from iotbill.domain.models.work_orders import WorkOrder

HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class CreditTier:
    """On site more than ``over`` after opening: ``percent`` of the period's service fees."""

    over: timedelta
    percent: Decimal


@dataclass(frozen=True, slots=True)
class SlaTerms:
    """The response-time promise: on site within ``on_site_within``; ``tiers`` by
    increasing threshold, the first at or after the promise."""

    on_site_within: timedelta
    tiers: tuple[CreditTier, ...]

    def percent_for(self, response: timedelta) -> Decimal:
        """The percent a visit on site ``response`` after opening earns (0: on time)."""
        earned = Decimal(0)
        for tier in self.tiers:
            if response > tier.over:
                earned = tier.percent
        return earned

    @property
    def settled_after(self) -> timedelta:
        """Once this has passed since opening without an arrival, the tier is the last."""
        return self.tiers[-1].over if self.tiers else self.on_site_within


@dataclass(frozen=True, slots=True)
class Breach:
    """A work order's settled response: ``percent`` earned (0 when on time); ``response``
    the time to arrival, or the time waited when ``arrived`` is false."""

    work_order: str
    opened_at: datetime
    response: timedelta
    arrived: bool
    percent: Decimal


def settled(order: WorkOrder, terms: SlaTerms, at: datetime) -> Breach | None:
    """The response of ``order`` as known at ``at``; ``None`` while its tier can still
    change (not on site, and the last threshold not passed)."""
    if order.on_site_at is not None and order.on_site_at <= at:
        response = order.on_site_at - order.opened_at
        return Breach(order.id, order.opened_at, response, True, terms.percent_for(response))
    waited = at - order.opened_at
    if waited > terms.settled_after:
        return Breach(order.id, order.opened_at, waited, False, terms.percent_for(waited))
    return None


def capped(percents: Sequence[Decimal]) -> Decimal:
    """The percents of a period's breaches added, at most 100."""
    return min(sum(percents, Decimal(0)), HUNDRED)


def period_credit(
    fees: Decimal, before: Sequence[Decimal], new: Sequence[Decimal], currency: Currency
) -> Decimal:
    """What a period's ``new`` breaches credit (positive), after ``before`` were credited:
    the rounded total with them, less the rounded total without."""
    if fees <= 0:
        return Decimal(0)
    with_new = round_money(fees * capped([*before, *new]) / HUNDRED, currency)
    without = round_money(fees * capped(before) / HUNDRED, currency)
    return with_new - without


def credit_line(
    period: Period,
    period_text: str,
    fees: Decimal,
    before: Sequence[Decimal],
    breaches: Sequence[Breach],
    currency: Currency,
) -> InvoiceLine | None:
    """The credit line (kind ``credit``, before tax) for ``breaches`` of ``period``, the
    ``before`` percents of that period credited already; ``None`` when it is zero."""
    late = [breach for breach in breaches if breach.percent > 0]
    amount = period_credit(fees, before, [breach.percent for breach in late], currency)
    if amount == 0:
        return None
    percents = [*before, *(breach.percent for breach in late)]
    total = capped(percents)
    cap = " (capped at 100 %)" if sum(percents, Decimal(0)) > HUNDRED else ""
    earlier = f", {decimal_text(capped(before))} % credited before" if before else ""
    return InvoiceLine.rounded(
        currency,
        charge=f"sla/{period.start.isoformat()}",
        kind="credit",
        description=(
            f"SLA credit for {period_text}: {decimal_text(total)} % of service fees "
            f"{format_money(fees, currency)}{cap}{earlier}"
        ),
        quantity=Decimal(1),
        unit_price=None,
        exact_amount=-amount,
        detail=tuple(
            Detail(
                "sla_breach",
                fees * breach.percent / HUNDRED,
                rate=breach.percent,
                note=f"{breach.work_order}: {_response_text(breach)}",
            )
            for breach in late
        ),
    )


def _response_text(breach: Breach) -> str:
    minutes = int(breach.response.total_seconds() // 60)
    hours, rest = divmod(minutes, 60)
    waited = f"{hours} h {rest:02d} min"
    if breach.arrived:
        return f"on site after {waited}: {decimal_text(breach.percent)} %"
    return f"not on site after {waited}: {decimal_text(breach.percent)} %"
