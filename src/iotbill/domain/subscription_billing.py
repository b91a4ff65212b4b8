"""What a subscription bills: the invoice lines of its periods, changes and cancellation.

Each function here is a pure function of the subscription's current state, so
an invoice computed late, or again, says the same thing. The pieces:

* :func:`opening_lines` -- on subscribing: the advance fees of the first period,
  prorated by second from the start (or the trial's end), and the first part of
  the plan's one-off charges (:mod:`iotbill.domain.instalments`).
* :func:`period_close_lines` -- when a period ends: its arrears (usage, arrears
  fees) and the next period's advance fees with the one-off charges' parts due
  then, unless service ends by then; :func:`final_lines` when it ends.
* :func:`change_lines` -- a phase that starts inside a period (an immediate plan
  change or a migration): a credit for the unused part of the old plan's
  advance fees and a charge for the rest of the period on the new plan's.
* :func:`cancellation_lines` -- an immediate cancellation (or a buy-out): a
  credit for the unused part of the advance fees, and :func:`final_lines`: the
  one-off charges' parts still owed, a lease's early termination fee or buy-out.
* :func:`lines_covering` -- all of the above that cover one period, whatever
  invoice carries them (what a fixed-amount coupon takes from).

A period is split into :class:`Segment` s at phase changes. Usage is rated on
each segment on its own, with its plan's full tiers (``rate_period`` over the
segment, so tiers are never prorated; a charge's flat amount, tier flat fees
and minimum apply on each segment as if it stood alone). Fixed fees are
prorated by second (:func:`~iotbill.domain.subscriptions.prorate`) over the
billing period. A plan's commitments (:mod:`iotbill.domain.commitments`) bound
each segment's charges, prorated by second like fixed fees; interim invoices
leave them out (:func:`usage_lines`), the period's close settles them
(:func:`committed_usage_lines`). Time inside a trial, before the start or after
the end of service is never billed. Advance fees are billed on the phase in force at the
period's start; the later change or cancellation lines settle the rest, so the
sum of all lines is the same whatever order things were invoiced in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, time
from decimal import Decimal
from functools import lru_cache
from itertools import groupby
from zoneinfo import ZoneInfo

from iotbill.domain.catalog import FixedFee, Plan
from iotbill.domain.commitments import commitment_lines
from iotbill.domain.customers import Customer
from iotbill.domain.errors import InvalidInput, NotFound
from iotbill.domain.event_table import EventTable
from iotbill.domain.instalments import instalment_lines, remaining_lines
from iotbill.domain.invoicing import InvoiceLine, LineKind, LineSource
from iotbill.domain.lease import lease_lines
from iotbill.domain.metering.selection import Measurement
from iotbill.domain.money import Currency
from iotbill.domain.pauses import paused_at, unpaused_spans
from iotbill.domain.periods import Period
from iotbill.domain.pricing import Detail
from iotbill.domain.quantities import decimal_text
from iotbill.domain.rating import RatingOptions, fee_line, measurements, rate_period
from iotbill.domain.subscriptions import (
    Pause,
    Phase,
    PlanKey,
    Subscription,
    exact_decimal,
    prorate,
    seconds,
)

PlanVersions = Mapping[PlanKey, Plan]
USAGE_ONLY = RatingOptions(advance_fees=False, arrears_fees=False, usage=True)


@dataclass(frozen=True, slots=True)
class Segment:
    """The part ``span`` of one billing period during which ``phase`` is in force.

    ``billable`` is ``span`` without the trial (``None`` if the whole span is in it).
    """

    phase: Phase
    plan: Plan
    span: Period
    billable: Period | None


def billing_periods(
    subscription: Subscription, customer: Customer, *, until: datetime
) -> list[Period]:
    """The periods of ``subscription`` that overlap its service and end at or before ``until``."""
    end = until if subscription.end is None else min(until, subscription.end)
    if end <= subscription.start:
        return []
    cycle = subscription.cycle(customer.timezone)
    periods = cycle.periods_overlapping(Period(subscription.start, end))
    return [period for period in periods if period.end <= until]


def segments(subscription: Subscription, plans: PlanVersions, period: Period) -> list[Segment]:
    """``period`` within the subscription's service, split at phase changes, without the
    time it is paused."""
    start = max(period.start, subscription.start)
    end = period.end if subscription.end is None else min(period.end, subscription.end)
    result: list[Segment] = []
    phases = subscription.phases
    for index, phase in enumerate(phases):
        phase_end = phases[index + 1].start if index + 1 < len(phases) else end
        span_start, span_end = max(start, phase.start), min(end, phase_end)
        if span_start >= span_end:
            continue
        for span in unpaused_spans(subscription.pauses, Period(span_start, span_end)):
            billable_start = max(span.start, subscription.billable_from)
            billable = Period(billable_start, span.end) if billable_start < span.end else None
            result.append(Segment(phase, _plan(plans, phase), span, billable))
    return result


def measured_usage(
    subscription: Subscription, plans: PlanVersions, period: Period
) -> tuple[Measurement, ...] | None:
    """What pricing ``period``'s usage reads of its table (each billable segment rated on
    its own plan), when it reads quantities alone (:func:`~iotbill.domain.rating.measurements`);
    ``None`` when it reads events."""
    found: list[Measurement] = []
    for segment in segments(subscription, plans, period):
        if segment.billable is None:
            continue
        read = measurements(segment.plan, segment.billable)
        if read is None:
            return None
        found.extend(read)
    return tuple(dict.fromkeys(found))


def usage_lines(
    subscription: Subscription,
    customer: Customer,
    plans: PlanVersions,
    period: Period,
    table: EventTable,
) -> list[InvoiceLine]:
    """The usage charges of ``period`` (or of its part so far, for an interim invoice):
    each billable segment rated on its own plan, without commitments."""
    return [
        line
        for segment in segments(subscription, plans, period)
        for line in _segment_charges(segment, period, table, customer)
    ]


def committed_usage_lines(
    subscription: Subscription,
    customer: Customer,
    plans: PlanVersions,
    period: Period,
    table: EventTable,
) -> list[InvoiceLine]:
    """What ``period``'s usage bills when it closes: each billable segment's charges, and
    after each phase's segments its plan's commitment line."""
    lines: list[InvoiceLine] = []
    for phase_segments in _by_phase(segments(subscription, plans, period)):
        charges = [
            line
            for segment in phase_segments
            for line in _segment_charges(segment, period, table, customer)
        ]
        lines += [*charges, *_commitment(phase_segments, charges, period, customer)]
    return lines


def arrears_lines(
    subscription: Subscription,
    customer: Customer,
    plans: PlanVersions,
    period: Period,
    table: EventTable,
) -> list[InvoiceLine]:
    """What ``period`` bills at its end: per segment, prorated arrears fees then usage;
    after each phase's segments, its plan's commitment line."""
    return _arrears(segments(subscription, plans, period), customer, period, table)


def _arrears(
    found: list[Segment], customer: Customer, period: Period, table: EventTable
) -> list[InvoiceLine]:
    """:func:`arrears_lines` of the period's segments ``found``."""
    lines: list[InvoiceLine] = []
    for phase_segments in _by_phase(found):
        charges: list[InvoiceLine] = []
        for segment in phase_segments:
            if segment.billable is None:
                continue
            for fee in segment.plan.fixed_fees:
                if fee.timing == "arrears":
                    lines.append(
                        _fee_line(fee, segment, segment.billable, period, customer, "fixed_fee")
                    )
            segment_charges = _segment_charges(segment, period, table, customer)
            charges += segment_charges
            lines += segment_charges
        lines += _commitment(phase_segments, charges, period, customer)
    return lines


def advance_lines(
    subscription: Subscription, customer: Customer, plans: PlanVersions, period: Period
) -> list[InvoiceLine]:
    """The advance fees for ``period``, on the phase in force at its start (or the start).

    Prorated from the subscription's start or trial end when they fall inside;
    nothing if service ends at or before the period starts.
    """
    end = subscription.end
    if subscription.start >= period.end or (end is not None and end <= period.start):
        return []
    first = max(period.start, subscription.start)
    billable_start = max(first, subscription.billable_from)
    if billable_start >= period.end or _paused_into(subscription, first):
        return []
    phase = subscription.phase_at(first)
    assert phase is not None
    segment = _segment_at(phase, plans, Period(billable_start, period.end))
    return [
        _fee_line(fee, segment, segment.span, period, customer, "fixed_fee", in_advance=True)
        for fee in segment.plan.fixed_fees
        if fee.timing == "advance"
    ]


def opening_lines(
    subscription: Subscription, customer: Customer, plans: PlanVersions
) -> list[InvoiceLine]:
    """What subscribing bills at once: the advance fees of the first period, and the first
    part of each of its plan's one-off charges."""
    first = subscription.cycle(customer.timezone).period_containing(subscription.start)
    return [
        *advance_lines(subscription, customer, plans, first),
        *instalment_lines(subscription, customer, _first_plan(subscription, plans), first),
    ]


def period_close_lines(
    subscription: Subscription,
    customer: Customer,
    plans: PlanVersions,
    period: Period,
    table: EventTable,
) -> list[InvoiceLine]:
    """The period-close invoice's lines: ``period`` in arrears, the next period in advance
    (with the one-off charges' parts due then).

    ``period`` must be one of the subscription's billing periods; nothing is
    billed for a period outside its service. When service ends with ``period``
    (a cancellation at period end), its :func:`final_lines`.
    """
    cycle = subscription.cycle(customer.timezone)
    following = cycle.next_period(period)
    found = segments(subscription, plans, period)
    if not found:
        return []
    first_plan = _first_plan(subscription, plans)
    cancellation = subscription.cancellation
    final = (
        cancellation is not None
        and cancellation.timing != "immediate"
        and period.start < cancellation.effective_at <= period.end
    )
    return [
        *_arrears(found, customer, period, table),
        *advance_lines(subscription, customer, plans, following),
        *instalment_lines(subscription, customer, first_plan, following),
        *(final_lines(subscription, customer, plans) if final else ()),
    ]


def lines_covering(
    subscription: Subscription,
    customer: Customer,
    plans: PlanVersions,
    period: Period,
    table: EventTable,
) -> list[InvoiceLine]:
    """Every line the subscription bills for ``period``, whatever invoice carries it: its
    advance fees (on the opening or the previous period's close), the changes and the
    immediate cancellation inside it, and its arrears (``table``: its events)."""
    lines = advance_lines(subscription, customer, plans, period)
    for phase in subscription.phases[1:]:
        if period.start < phase.start < period.end:
            lines.extend(change_lines(subscription, customer, plans, phase.start))
    cancellation = subscription.cancellation
    if (
        cancellation is not None
        and cancellation.timing == "immediate"
        and period.start < cancellation.effective_at < period.end
    ):
        lines.extend(cancellation_lines(subscription, customer, plans))
    for pause in subscription.pauses:
        if period.start <= pause.start < period.end:
            lines.extend(pause_lines(subscription, customer, plans, pause))
        if pause.end is not None and period.start <= pause.end < period.end:
            lines.extend(resume_lines(subscription, customer, plans, pause))
    lines.extend(arrears_lines(subscription, customer, plans, period, table))
    return lines


def change_lines(
    subscription: Subscription, customer: Customer, plans: PlanVersions, at: datetime
) -> list[InvoiceLine]:
    """The credit and charge of the phase that starts at ``at``, when ``at`` is inside a period.

    Credits the old phase's advance fees and charges the new phase's, both for
    the billable part of ``[at, period end)``. Nothing for a change on a period
    boundary (the next advance fees are already on the new plan) or after the
    end of service.
    """
    index = next((i for i, phase in enumerate(subscription.phases) if phase.start == at), None)
    if index is None or index == 0:
        raise InvalidInput.at("at", f"no plan change of the subscription starts at {at}")
    period = subscription.cycle(customer.timezone).period_containing(at)
    end = subscription.end
    unused_start = max(at, subscription.billable_from)
    if at == period.start or (end is not None and end <= at) or unused_start >= period.end:
        return []
    unused = Period(unused_start, period.end)
    old = _segment_at(subscription.phases[index - 1], plans, unused)
    new = _segment_at(subscription.phases[index], plans, unused)
    return [
        *_advance_credits(old, period, customer),
        *(
            _fee_line(fee, new, unused, period, customer, "fixed_fee", in_advance=True)
            for fee in new.plan.fixed_fees
            if fee.timing == "advance"
        ),
    ]


def cancellation_lines(
    subscription: Subscription, customer: Customer, plans: PlanVersions
) -> list[InvoiceLine]:
    """After an immediate cancellation: the credit for the unused part of the advance fees,
    and the :func:`final_lines`."""
    end = subscription.end
    if end is None:
        return []
    closing = final_lines(subscription, customer, plans)
    period = subscription.cycle(customer.timezone).period_containing(end)
    unused_start = max(end, subscription.billable_from)
    if end == period.start or unused_start >= period.end:
        return closing
    if paused_at(subscription.pauses, end) is not None:
        return closing  # the pause credited the rest of the period
    phase = subscription.phase_at(end)
    assert phase is not None
    credits = _advance_credits(
        _segment_at(phase, plans, Period(unused_start, period.end)), period, customer
    )
    return [*credits, *closing]


def pause_lines(
    subscription: Subscription, customer: Customer, plans: PlanVersions, pause: Pause
) -> list[InvoiceLine]:
    """The credit of the advance fees from ``pause`` to the end of its period."""
    period = subscription.cycle(customer.timezone).period_containing(pause.start)
    unused_start = max(pause.start, subscription.billable_from)
    if unused_start >= period.end:
        return []
    phase = subscription.phase_at(pause.start)
    assert phase is not None
    segment = _segment_at(phase, plans, Period(unused_start, period.end))
    return _advance_credits(segment, period, customer, reason="paused")


def resume_lines(
    subscription: Subscription, customer: Customer, plans: PlanVersions, pause: Pause
) -> list[InvoiceLine]:
    """The advance fees from the end of ``pause`` to the end of its period."""
    assert pause.end is not None
    period = subscription.cycle(customer.timezone).period_containing(pause.end)
    first = max(pause.end, subscription.billable_from)
    end = subscription.end
    if first >= period.end or (end is not None and end <= pause.end):
        return []
    phase = subscription.phase_at(pause.end)
    assert phase is not None
    segment = _segment_at(phase, plans, Period(first, period.end))
    return [
        _fee_line(fee, segment, segment.span, period, customer, "fixed_fee", in_advance=True)
        for fee in segment.plan.fixed_fees
        if fee.timing == "advance"
    ]


def _paused_into(subscription: Subscription, instant: datetime) -> bool:
    """Whether a pause that started before ``instant`` lasts until it (or ends exactly
    then): the advance fee of a period that starts so is billed on resumption."""
    return any(
        pause.start < instant and (pause.end is None or instant <= pause.end)
        for pause in subscription.pauses
    )


def span_text(span: Period, in_zone: ZoneInfo) -> str:
    """``span`` in local time for a line's description: dates, or dates and times."""
    return f"{_local_text(span.start, in_zone)} to {_local_text(span.end, in_zone)}"


def _local_text(instant: datetime, in_zone: ZoneInfo) -> str:
    local = instant.astimezone(in_zone)
    if local.time() == time(0):
        return local.date().isoformat()
    return local.strftime("%Y-%m-%d %H:%M:%S" if local.second else "%Y-%m-%d %H:%M")


def _plan(plans: PlanVersions, phase: Phase) -> Plan:
    try:
        return plans[phase.plan_key]
    except KeyError:
        raise NotFound(f"plan {phase.plan_code!r} version {phase.plan_version}") from None


def final_lines(
    subscription: Subscription, customer: Customer, plans: PlanVersions
) -> list[InvoiceLine]:
    """What the final invoice of a subscription whose service ends bills besides its own
    lines: the one-off charges' parts still owed, then its lease's early termination fee
    or buy-out (:mod:`iotbill.domain.lease`), on the plan it started on."""
    plan = _first_plan(subscription, plans)
    return [
        *remaining_lines(subscription, customer, plan),
        *lease_lines(subscription, customer, plan),
    ]


def _first_plan(subscription: Subscription, plans: PlanVersions) -> Plan:
    """The plan the subscription started on: the one whose one-off charges it bills."""
    return _plan(plans, subscription.phases[0])


def _segment_at(phase: Phase, plans: PlanVersions, span: Period) -> Segment:
    return Segment(phase, _plan(plans, phase), span, span)


def _by_phase(found: list[Segment]) -> list[list[Segment]]:
    """``found`` in runs of the same phase (a pause splits a phase into several)."""
    return [list(run) for _, run in groupby(found, key=lambda segment: segment.phase)]


def _commitment(
    phase_segments: list[Segment], charges: list[InvoiceLine], period: Period, customer: Customer
) -> list[InvoiceLine]:
    """The commitment line that bounds a phase's ``charges`` in ``period``: its plan's
    commitment prorated over the phase's billable time (a pause's time is not committed)."""
    billed = [segment.billable for segment in phase_segments if segment.billable is not None]
    if not billed:
        return []
    first = phase_segments[0]
    plan = first.plan
    lines = commitment_lines(plan.commitment, plan.currency, charges, billed, period)
    return _labelled(lines, first.phase, billed, period, customer)


def _segment_charges(
    segment: Segment, period: Period, table: EventTable, customer: Customer
) -> list[InvoiceLine]:
    if segment.billable is None:
        return []
    lines = rate_period(segment.plan, table, segment.billable, USAGE_ONLY, customer.zone)
    return _labelled(lines, segment.phase, [segment.billable], period, customer)


def _labelled(
    lines: list[InvoiceLine],
    phase: Phase,
    spans: list[Period],
    period: Period,
    customer: Customer,
) -> list[InvoiceLine]:
    """``lines`` of a phase's plan over ``spans`` of ``period``, saying which plan and spans
    when they cover only part of it."""
    source = LineSource(phase.plan_code, period)
    if spans == [period]:
        return [replace(line, source=source) for line in lines]
    label = ", ".join([str(phase), *(span_text(span, customer.zone) for span in spans)])
    return [
        replace(line, description=f"{line.description} ({label})", source=source) for line in lines
    ]


def _advance_credits(
    segment: Segment, period: Period, customer: Customer, reason: str = "unused"
) -> list[InvoiceLine]:
    return [
        _fee_line(
            fee, segment, segment.span, period, customer, "credit", in_advance=True, reason=reason
        )
        for fee in segment.plan.fixed_fees
        if fee.timing == "advance"
    ]


def _fee_line(
    fee: FixedFee,
    segment: Segment,
    used: Period,
    period: Period,
    customer: Customer,
    kind: LineKind,
    *,
    in_advance: bool = False,
    reason: str = "unused",
) -> InvoiceLine:
    """``fee`` for the part ``used`` of ``period``, prorated by second; negative as a credit.

    Remembered (:func:`_phase_fee_line`): the subscriptions of a plan whose periods
    coincide bill the same fee lines, and a bill run asks for them again for each.
    """
    return _phase_fee_line(
        fee,
        str(fee.amount),  # (equal amounts may differ in their digits: 31.0, 31.00)
        segment.phase.plan_code,
        str(segment.phase),
        segment.plan.currency,
        used,
        period,
        customer.zone,
        kind,
        in_advance,
        reason,
    )


@lru_cache(maxsize=4096)
def _phase_fee_line(
    fee: FixedFee,
    amount_digits: str,
    plan_code: str,
    phase: str,
    currency: Currency,
    used: Period,
    period: Period,
    zone: ZoneInfo,
    kind: LineKind,
    in_advance: bool,
    reason: str,
) -> InvoiceLine:
    """The line of :func:`_fee_line`: a pure function of immutable values, each of which
    says all it depends on (``phase`` as its label; instants, not their offsets)."""
    name = fee.name or fee.code
    label = f"{phase}, {span_text(used, zone)}"
    if kind == "credit":
        description = f"Credit: {name} ({label}, {reason}, billed in advance)"
    else:
        description = f"{name} ({label}, in advance)" if in_advance else f"{name} ({label})"
    source = LineSource(plan_code, period)
    if used == period and kind != "credit":
        return fee_line(fee, currency, description if in_advance else name, source=source)
    sign = -1 if kind == "credit" else 1
    amount = prorate(fee.amount * sign, used, period)
    note = f"{decimal_text(fee.amount)} x {_seconds_text(used)}/{_seconds_text(period)} seconds"
    return InvoiceLine.rounded(
        currency,
        charge=fee.code,
        kind=kind,
        description=description,
        quantity=Decimal(1),
        unit_price=None,
        exact_amount=amount,
        detail=(
            Detail(
                "proration",
                amount,
                units=exact_decimal(seconds(used)),
                note=f"{note} of {span_text(period, zone)}, billed in {fee.timing}",
            ),
        ),
        source=source,
    )


def _seconds_text(span: Period) -> str:
    return decimal_text(exact_decimal(seconds(span)))
