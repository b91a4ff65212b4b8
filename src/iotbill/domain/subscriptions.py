"""Subscriptions: a customer (or one device) on a plan version from an instant.

A :class:`Subscription` starts at an instant, is billed every ``interval`` in
the customer's zone (calendar or anniversary periods, see
:mod:`~iotbill.domain.billing_cycles`), may have a free trial until
``trial_end`` and may be cancelled. Its ``phases`` say which plan version is in
force when: each :class:`Phase` lasts until the next one starts. A plan change
(:func:`change_plan`) or a version migration (:func:`migrate`) adds a phase;
nothing else changes the plan. All instants are whole seconds of UTC.

Rules
-----
* **One plan per currency**: a plan in another currency than the customer's is
  :class:`~iotbill.domain.errors.InvalidInput`; so is a plan with another
  billing interval than the subscription's (cancel and subscribe anew).
* **Proration is by second**: a fixed fee for part of a billing period costs
  ``amount x seconds used / seconds in the period``, exactly (a fraction of
  elapsed UTC seconds, so a 23-hour DST day or a 743-hour March counts as it
  really lasts). The seconds used are those of ``[from, to)``: the first second
  counts, the last does not; a change at 10:00:00 bills the old plan up to
  09:59:59 and the new one from 10:00:00. The proration is exact: a fraction
  that ends is kept whole (``15.5``), one that repeats is kept to
  :data:`PRORATION_PLACES` decimal places (enough that rounding it to any
  currency's minor unit gives the rounding of the exact fraction), and the line
  is rounded once by :func:`~iotbill.domain.money.round_money`.
* **Trials** bill nothing for time inside the trial: no fixed fee, no usage.
* **Immediate changes** start the new phase at the change instant. **Changes
  at period end** start it at the start of the next billing period. A new
  change replaces any phase scheduled after it.
* **Cancellation** at period end ends the subscription at the end of the
  period containing the request; an immediate one ends it at the request.
* **Pauses** (:mod:`~iotbill.domain.pauses`) stop service for a while: nothing
  is billed while paused, and no period or end moves.
* An instant exactly on a period boundary belongs to the period that starts
  there: an "immediate" change or cancellation at a boundary is the same as one
  at the end of the previous period.

What each of these bills is computed by :mod:`~iotbill.domain.subscription_billing`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from iotbill.domain.billing_cycles import BILLING_MODES, BillingCycle, BillingMode
from iotbill.domain.catalog import INTERVALS, ContractTerms, Interval, Plan
from iotbill.domain.customers import Customer
from iotbill.domain.errors import Conflict, InvalidInput, Problem, ProblemCollector
from iotbill.domain.input_rules import id_problem
from iotbill.domain.periods import ONE_MICROSECOND, Period, require_aware

PlanKey = tuple[str, int]
CancelTiming = Literal["period_end", "immediate"]
CancelReason = Literal["requested", "term_end", "buy_out"]
ChangeTiming = Literal["immediate", "period_end"]
TIMINGS: tuple[ChangeTiming, ...] = ("immediate", "period_end")
PRORATION_PLACES = 15


@dataclass(frozen=True, slots=True)
class Phase:
    """Plan ``plan_code`` version ``plan_version`` is in force from ``start``."""

    plan_code: str
    plan_version: int
    start: datetime

    @property
    def plan_key(self) -> PlanKey:
        return (self.plan_code, self.plan_version)

    def __str__(self) -> str:
        return f"{self.plan_code} v{self.plan_version}"


@dataclass(frozen=True, slots=True)
class Cancellation:
    """A cancellation asked for at ``requested_at``; service ends at ``effective_at``.

    ``reason``: asked for by the customer (``requested``), the end of a contract's term
    with ``at_term_end: cancel`` (``term_end``, replaced by an earlier cancellation), or a
    lease bought out (``buy_out``: the customer owns the device from ``effective_at``).
    """

    timing: CancelTiming
    requested_at: datetime
    effective_at: datetime
    reason: CancelReason = "requested"


@dataclass(frozen=True, slots=True)
class Pause:
    """Service paused from ``start`` until ``end`` (``None``: not resumed yet); see
    :mod:`iotbill.domain.pauses`."""

    start: datetime
    end: datetime | None = None

    def holds(self, instant: datetime) -> bool:
        """Whether service is paused at ``instant``: ``[start, end)``."""
        return self.start <= instant and (self.end is None or instant < self.end)


@dataclass(frozen=True, slots=True)
class Subscription:
    """A customer (or one of its devices) on a sequence of plan versions."""

    id: str
    customer_id: str
    interval: Interval
    start: datetime
    phases: tuple[Phase, ...]
    billing_mode: BillingMode = "calendar"
    device_id: str | None = None
    trial_end: datetime | None = None
    cancellation: Cancellation | None = None
    pauses: tuple[Pause, ...] = ()
    contract: ContractTerms | None = None
    """Lease terms agreed for this subscription, in place of its first plan's
    (:mod:`iotbill.domain.lease`); ``None``: the plan's, if any."""

    def __post_init__(self) -> None:
        problems = ProblemCollector()
        problems.extend(_subscription_problems(self))
        problems.raise_if_any()

    @property
    def end(self) -> datetime | None:
        """When service ends (cancellation), or ``None`` while it runs on."""
        return None if self.cancellation is None else self.cancellation.effective_at

    @property
    def billable_from(self) -> datetime:
        """The first instant that is billed: the start, or the end of the trial."""
        return self.start if self.trial_end is None else max(self.start, self.trial_end)

    def phase_at(self, instant: datetime) -> Phase | None:
        """The phase in force at ``instant`` (ignoring cancellation); ``None`` before the start."""
        found: Phase | None = None
        for phase in self.phases:
            if phase.start > instant:
                break
            found = phase
        return found

    def cycle(self, timezone: str) -> BillingCycle:
        """The billing periods of this subscription in the zone ``timezone``."""
        if self.billing_mode == "calendar":
            return BillingCycle.calendar(self.interval, timezone)
        return BillingCycle.anniversary(self.interval, timezone, self.start)


def subscribe(
    *,
    id: str,
    customer: Customer,
    plan: Plan,
    plan_version: int,
    start: datetime,
    billing_mode: BillingMode = "calendar",
    trial_end: datetime | None = None,
    device_id: str | None = None,
    contract: ContractTerms | None = None,
) -> Subscription:
    """A new subscription of ``customer`` to ``plan`` (version ``plan_version``) from ``start``.

    ``contract``: lease terms of its own, in place of the plan's; a term binds fixed fees,
    so the plan must have some. Instants are truncated to whole seconds. Every problem is
    reported at once.
    """
    problems = ProblemCollector()
    problems.extend(_plan_problems(plan, customer, plan.interval))
    begins = _instant(start, "start", problems)
    trial = None if trial_end is None else _instant(trial_end, "trial_end", problems)
    subscription: Subscription | None = None
    if begins is not None and (trial_end is None or trial is not None):
        try:
            subscription = Subscription(
                id=id,
                customer_id=customer.id,
                interval=plan.interval,
                start=begins,
                phases=(Phase(plan.code, plan_version, begins),),
                billing_mode=billing_mode,
                device_id=device_id,
                trial_end=trial,
                contract=contract,
            )
        except InvalidInput as error:
            problems.extend(error.problems)
    if contract is not None and not plan.fixed_fees:
        problems.add("term", f"binds fixed fees, and plan {plan.code!r} has none")
    problems.raise_if_any()
    assert subscription is not None
    contract = contract or plan.contract
    if contract is not None and contract.at_term_end == "cancel":
        ends = subscription.cycle(customer.timezone).end_of_nth(subscription.start, contract.term)
        term_end = Cancellation("period_end", subscription.start, ends, "term_end")
        subscription = replace(subscription, cancellation=term_end)
    return subscription


def change_plan(
    subscription: Subscription,
    customer: Customer,
    *,
    plan: Plan,
    plan_version: int,
    at: datetime,
    timing: ChangeTiming,
) -> Subscription:
    """``subscription`` moved to ``plan`` at ``at`` (immediate) or at the next period start.

    Phases scheduled at or after the new phase's start are replaced by it.
    :class:`Conflict` if the subscription has ended by then; :class:`InvalidInput`
    for a plan in another currency or interval, a change before the start, or a
    change to the plan already in force.
    """
    problems = ProblemCollector()
    if timing not in TIMINGS:
        problems.add("timing", f"must be one of {', '.join(TIMINGS)}, not {timing!r}")
    problems.extend(_plan_problems(plan, customer, subscription.interval))
    requested = _instant(at, "at", problems)
    problems.raise_if_any()
    assert requested is not None
    _require_after_start(subscription, requested)
    effective = (
        requested
        if timing == "immediate"
        else subscription.cycle(customer.timezone).period_containing(requested).end
    )
    if effective == subscription.start:
        raise InvalidInput.at(
            "at", "must be after the subscription starts (to start on another plan, subscribe)"
        )
    _require_running(subscription, effective)
    _require_unpaused(subscription, effective)
    kept = tuple(phase for phase in subscription.phases if phase.start < effective)
    new_phase = Phase(plan.code, plan_version, effective)
    if kept and kept[-1].plan_key == new_phase.plan_key:
        raise InvalidInput.at("plan", f"the subscription is already on {kept[-1]} then")
    return replace(subscription, phases=(*kept, new_phase))


def migrate(
    subscription: Subscription,
    customer: Customer,
    *,
    plan: Plan,
    plan_version: int,
    at: datetime,
) -> Subscription:
    """``subscription`` moved to a newer version of the plan in force at ``at``, from ``at``.

    Later phases are kept. A migration inside a billing period is billed like an
    immediate change (credit and charge of the advance fees).
    """
    problems = ProblemCollector()
    problems.extend(_plan_problems(plan, customer, subscription.interval))
    effective = _instant(at, "at", problems)
    problems.raise_if_any()
    assert effective is not None
    _require_after_start(subscription, effective)
    _require_running(subscription, effective)
    _require_unpaused(subscription, effective)
    current = subscription.phase_at(effective)
    assert current is not None
    if current.plan_code != plan.code:
        raise InvalidInput.at(
            "plan", f"the subscription is on {current.plan_code!r} then, not {plan.code!r}"
        )
    if plan_version <= current.plan_version:
        raise InvalidInput.at(
            "plan_version", f"must be newer than {current}, the version in force then"
        )
    if current.start == effective:
        raise Conflict(f"a phase ({current}) already starts at {effective.isoformat()}")
    phases = sorted(
        (*subscription.phases, Phase(plan.code, plan_version, effective)),
        key=lambda phase: phase.start,
    )
    return replace(subscription, phases=tuple(phases))


def cancel(
    subscription: Subscription, customer: Customer, *, timing: CancelTiming, at: datetime
) -> Subscription:
    """``subscription`` cancelled at ``at`` (immediate) or at the end of the period containing it.

    :class:`Conflict` if it is already cancelled, unless only by the end of its term
    (``at_term_end: cancel``) and this ends it sooner.
    """
    problems = ProblemCollector()
    if timing not in ("period_end", "immediate"):
        problems.add("timing", f"must be period_end or immediate, not {timing!r}")
    requested = _instant(at, "at", problems)
    problems.raise_if_any()
    assert requested is not None
    _require_after_start(subscription, requested)
    effective = (
        requested
        if timing == "immediate"
        else subscription.cycle(customer.timezone).period_containing(requested).end
    )
    before = subscription.cancellation
    if before is not None and not (before.reason == "term_end" and effective < before.effective_at):
        raise Conflict(
            f"subscription {subscription.id!r} is already cancelled, effective"
            f" {before.effective_at.isoformat()}"
        )
    return replace(subscription, cancellation=Cancellation(timing, requested, effective))


def seconds(span: Period) -> Fraction:
    """The length of ``span`` in seconds, exactly."""
    return Fraction(span.duration // ONE_MICROSECOND, 1_000_000)


def prorate(amount: Decimal, used: Period | Sequence[Period], period: Period) -> Decimal:
    """``amount x seconds(used) / seconds(period)``: the one proration rule (see above).
    ``used`` may be several spans (a phase that a pause splits): their seconds add up.

    >>> from datetime import UTC
    >>> february = Period(datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC))
    >>> second_half = Period(datetime(2026, 2, 15, tzinfo=UTC), february.end)
    >>> prorate(Decimal("31.00"), second_half, february)
    Decimal('15.5')
    """
    spans = [used] if isinstance(used, Period) else used
    used_seconds = sum((seconds(span) for span in spans), Fraction(0))
    return exact_decimal(Fraction(amount) * used_seconds / seconds(period))


def exact_decimal(value: Fraction) -> Decimal:
    """``value`` as a Decimal: exactly if its decimal expansion ends, else to PRORATION_PLACES."""
    denominator = value.denominator
    places = 0
    for prime in (2, 5):
        count = 0
        while denominator % prime == 0:
            denominator //= prime
            count += 1
        places = max(places, count)
    if denominator != 1:
        places = PRORATION_PLACES
    scaled = round(value * 10**places)  # exact when the expansion ends; half-even otherwise
    return Decimal(f"{scaled}E-{places}") if places else Decimal(scaled)


def _instant(value: datetime, location: str, problems: ProblemCollector) -> datetime | None:
    """``value`` as a whole second of UTC, or ``None`` after recording why not."""
    try:
        return require_aware(value, location).replace(microsecond=0)
    except InvalidInput as error:
        problems.extend(error.problems)
        return None


def _require_after_start(subscription: Subscription, instant: datetime) -> None:
    if instant < subscription.start:
        raise InvalidInput.at(
            "at", f"must not be before the subscription starts ({subscription.start.isoformat()})"
        )


def _require_unpaused(subscription: Subscription, at: datetime) -> None:
    """:class:`Conflict` if ``subscription`` is paused at ``at`` (resume it first)."""
    if any(found.holds(at) for found in subscription.pauses):
        raise Conflict(
            f"subscription {subscription.id} is paused at {at.isoformat()}; resume it first"
        )


def _require_running(subscription: Subscription, instant: datetime) -> None:
    end = subscription.end
    if end is not None and instant >= end:
        raise Conflict(f"subscription {subscription.id!r} ends at {end.isoformat()}")


def _plan_problems(plan: Plan, customer: Customer, interval: Interval) -> list[Problem]:
    problems: list[Problem] = []
    if plan.currency != customer.currency:
        problems.append(
            Problem(
                "plan",
                f"plan {plan.code!r} bills in {plan.currency} but customer {customer.id!r}"
                f" pays in {customer.currency} (one plan per currency: use the"
                f" {customer.currency} plan)",
            )
        )
    if plan.interval != interval:
        problems.append(
            Problem(
                "plan",
                f"plan {plan.code!r} bills every {plan.interval}, the subscription every"
                f" {interval} (cancel and subscribe anew to change the interval)",
            )
        )
    return problems


def _subscription_problems(subscription: Subscription) -> list[Problem]:
    problems = ProblemCollector()
    for name, kind in (("id", "subscription"), ("customer_id", "customer")):
        if not getattr(subscription, name).strip():
            problems.add(name, "must be a non-empty string")
        elif (wrong := id_problem(kind, getattr(subscription, name))) is not None:
            problems.add(name, wrong)
    if subscription.device_id is not None and not subscription.device_id.strip():
        problems.add("device_id", "must be a non-empty string or absent")
    if subscription.interval not in INTERVALS:
        problems.add("interval", f"must be one of {', '.join(INTERVALS)}")
    if subscription.billing_mode not in BILLING_MODES:
        problems.add("billing_mode", f"must be one of {', '.join(BILLING_MODES)}")
    instants: list[tuple[str, datetime]] = [("start", subscription.start)]
    instants += [(f"phases[{i}].start", p.start) for i, p in enumerate(subscription.phases)]
    if subscription.trial_end is not None:
        instants.append(("trial_end", subscription.trial_end))
    if subscription.cancellation is not None:
        instants.append(("cancellation.effective_at", subscription.cancellation.effective_at))
    for index, pause in enumerate(subscription.pauses):
        instants.append((f"pauses[{index}].start", pause.start))
        if pause.end is not None:
            instants.append((f"pauses[{index}].end", pause.end))
    for location, instant in instants:
        try:
            require_aware(instant, location)
        except InvalidInput as error:
            problems.extend(error.problems)
            return problems.problems
        if instant.microsecond:
            problems.add(location, "must be a whole second")
    for index, phase in enumerate(subscription.phases):
        if not phase.plan_code.strip():
            problems.add(f"phases[{index}].plan_code", "must be a non-empty string")
        if phase.plan_version < 1:
            problems.add(f"phases[{index}].plan_version", "must be a positive whole number")
    if not subscription.phases or subscription.phases[0].start != subscription.start:
        problems.add("phases", "the first phase must start when the subscription starts")
    for index, (before, after) in enumerate(
        zip(subscription.phases, subscription.phases[1:], strict=False), start=1
    ):
        if after.start <= before.start:
            problems.add(f"phases[{index}].start", "must be after the previous phase's start")
    if subscription.trial_end is not None and subscription.trial_end <= subscription.start:
        problems.add("trial_end", "must be after the start")
    if subscription.cancellation is not None and subscription.cancellation.effective_at < (
        subscription.start
    ):
        problems.add("cancellation.effective_at", "must not be before the start")
    problems.extend(_pause_problems(subscription))
    return problems.problems


def _pause_problems(subscription: Subscription) -> list[Problem]:
    """Pauses start at or after the start, each after the one before has ended; only the
    last may be open."""
    problems = ProblemCollector()
    previous_end: datetime | None = subscription.start
    for index, pause in enumerate(subscription.pauses):
        if index == 0 and pause.start < subscription.start:
            problems.add("pauses[0].start", "must not be before the start")
        elif previous_end is None or pause.start < previous_end:
            problems.add(f"pauses[{index}].start", "must not be before the previous pause's end")
        if pause.end is not None and pause.end <= pause.start:
            problems.add(f"pauses[{index}].end", "must be after the pause's start")
        previous_end = pause.end
    return problems.problems
