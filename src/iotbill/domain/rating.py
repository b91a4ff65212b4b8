"""Rating: a plan's charges and fees over one billing period, as invoice lines.

``rate_period`` is the pure heart of billing: given a plan, a table of usage
events and a period, it selects each meter's events, aggregates them (capped
in each local day or hour of the customer's zone where the meter has a cap),
prices each charge (per group) with its price model, multiplies the price by
the charge's risk factor, adds a true-up line where a charge's total falls
below its ``min_amount``, and rounds each line once. A plan's commitments,
which bound all its charges together, come after
(:mod:`iotbill.domain.commitments`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from zoneinfo import ZoneInfo

from iotbill.domain.catalog import Charge, FixedFee, Meter, Plan
from iotbill.domain.errors import InvalidInput, ProblemCollector
from iotbill.domain.event_table import EventTable
from iotbill.domain.invoicing import InvoiceLine, LineSource
from iotbill.domain.metering.selection import GroupUsage, Measurement, measurable, select
from iotbill.domain.metering.window_cap import CappedQuantity
from iotbill.domain.money import Currency
from iotbill.domain.periods import Period
from iotbill.domain.pricing import Detail, Rating, Usage
from iotbill.domain.quantities import decimal_text

UTC_ZONE = ZoneInfo("UTC")


@dataclass(frozen=True, slots=True)
class RatingOptions:
    """Which parts of a plan to rate: fees by timing, and usage charges."""

    advance_fees: bool = True
    arrears_fees: bool = True
    usage: bool = True


def rate_period(
    plan: Plan,
    table: EventTable,
    period: Period,
    options: RatingOptions = RatingOptions(),
    zone: ZoneInfo = UTC_ZONE,
) -> list[InvoiceLine]:
    """Every line ``plan`` bills for ``period``: fixed fees first, then charges in plan order.

    ``zone`` is the customer's: the local days and hours of meters' caps.
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
            lines.extend(charge_lines(plan, charge, table, period, zone))
        except InvalidInput as error:
            problems.extend(error.problems)
    problems.raise_if_any()
    return lines


def measurements(plan: Plan, period: Period) -> list[Measurement] | None:
    """What :func:`rate_period` of ``plan``'s usage over ``period`` reads of its table, when
    it reads quantities alone: each meter a charge prices or a risk factor reads, over
    ``period``. ``None`` when some charge reads more: the events themselves (a per-event
    price model) or a meter whose quantity is not one aggregate of stored events
    (:func:`~iotbill.domain.metering.selection.measurable`).
    """
    codes: dict[str, None] = {}  # in plan order, once each
    for charge in plan.charges:
        if charge.meter is not None:
            if charge.model.reads_events:
                return None
            codes[charge.meter] = None
        if charge.risk_factor is not None:
            codes[charge.risk_factor.events] = None
            codes[charge.risk_factor.exposure] = None
    meters = [plan.meter(code) for code in codes]
    if not all(measurable(meter) for meter in meters):
        return None
    return [Measurement(meter, period) for meter in meters]


def fee_line(
    fee: FixedFee,
    currency: Currency,
    description: str | None = None,
    source: LineSource | None = None,
) -> InvoiceLine:
    """A fixed fee for one full period (described by its name unless ``description``)."""
    return InvoiceLine.rounded(
        currency,
        charge=fee.code,
        kind="fixed_fee",
        description=fee.name or fee.code if description is None else description,
        quantity=Decimal(1),
        unit_price=fee.amount,
        exact_amount=fee.amount,
        detail=(Detail("fixed_fee", fee.amount, note=f"billed in {fee.timing}"),),
        source=source,
    )


def charge_lines(
    plan: Plan, charge: Charge, table: EventTable, period: Period, zone: ZoneInfo = UTC_ZONE
) -> list[InvoiceLine]:
    """The lines of one charge: one per group, then a minimum true-up if needed."""
    risk = _risk_detail(plan, charge, table, period, zone)
    if charge.meter is None:
        lines = [_priced_line(plan.currency, charge, Usage(Decimal(1)), None, risk)]
    else:
        meter = plan.meter(charge.meter)
        lines = [
            _metered_line(plan.currency, charge, meter, usage, zone, risk)
            for usage in select(table, meter, period, charge.model.amount_property)
        ]
    if charge.min_amount is not None:
        total = sum((line.amount for line in lines), Decimal(0))
        if total < charge.min_amount:
            lines.append(_true_up(plan.currency, charge, charge.min_amount, total))
    return lines


def _metered_line(
    currency: Currency,
    charge: Charge,
    meter: Meter,
    usage: GroupUsage,
    zone: ZoneInfo,
    risk: Detail | None,
) -> InvoiceLine:
    measured = meter.quantity(usage.window, zone)
    line = _priced_line(
        currency,
        charge,
        Usage(measured.quantity, usage.window.values, usage.amounts),
        usage.group,
        risk,
    )
    steps = []
    if measured.windows_capped:
        steps.append(_cap_detail(meter, measured))
    if measured.unrounded is not None:
        steps.append(_rounding_detail(meter, measured))
    if not steps:
        return line
    return replace(line, detail=(*steps, *line.detail))


def _cap_detail(meter: Meter, measured: CappedQuantity) -> Detail:
    """What the cap left out: ``150 not counted: at most 250 per day (1 day over)``."""
    assert meter.cap is not None
    over = measured.windows_capped
    windows = f"{over} {meter.cap.per}{'s' if over > 1 else ''} over"
    left_out = measured.uncapped - measured.counted
    return Detail(
        "window_cap",
        Decimal(0),
        units=left_out,
        note=(
            f"{decimal_text(left_out)} of {decimal_text(measured.uncapped)} not counted: at"
            f" most {decimal_text(meter.cap.max)} per {meter.cap.per} ({windows})"
        ),
    )


def _rounding_detail(meter: Meter, measured: CappedQuantity) -> Detail:
    """What the meter's rounding added (or took): ``1.2 rounded up to 0 decimals: 2``."""
    assert meter.rounding is not None and measured.unrounded is not None
    return Detail(
        "rounding",
        Decimal(0),
        units=measured.quantity - measured.unrounded,
        note=(
            f"{decimal_text(measured.unrounded)} {meter.rounding.describe()}:"
            f" {decimal_text(measured.quantity)}"
        ),
    )


def _risk_detail(
    plan: Plan, charge: Charge, table: EventTable, period: Period, zone: ZoneInfo
) -> Detail | None:
    """The charge's risk factor for ``period``, as the detail that shows it (``factor``)."""
    risk = charge.risk_factor
    if risk is None:
        return None
    events, exposure = (
        _quantity(plan.meter(code), table, period, zone) for code in (risk.events, risk.exposure)
    )
    number, band = risk.band(events, exposure)
    bound = "no bound" if band.up_to is None else f"up to {decimal_text(band.up_to)}"
    return Detail(
        "risk_factor",
        Decimal(0),
        factor=band.factor,
        note=(
            f"{decimal_text(events)} {risk.events} per {decimal_text(risk.per)}"
            f" {risk.exposure} over {decimal_text(exposure)}: ratio"
            f" {risk.ratio_text(events, exposure)}, row {number} ({bound})"
        ),
    )


def _quantity(meter: Meter, table: EventTable, period: Period, zone: ZoneInfo) -> Decimal:
    (usage,) = select(table, meter, period)  # a ratio's meters have no group_by
    return meter.quantity(usage.window, zone).quantity


def _priced_line(
    currency: Currency, charge: Charge, usage: Usage, group: str | None, risk: Detail | None
) -> InvoiceLine:
    rating = _scaled(charge.model.price(usage), risk)
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


def _scaled(rating: Rating, risk: Detail | None) -> Rating:
    """``rating`` with its amount and unit price multiplied by the risk factor."""
    if risk is None:
        return rating
    assert risk.factor is not None
    amount = rating.amount * risk.factor
    unit_price = None if rating.unit_price is None else rating.unit_price * risk.factor
    shown = replace(risk, amount=amount - rating.amount)
    return Rating(amount, unit_price, (*rating.detail, shown))


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
