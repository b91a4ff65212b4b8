"""Subscriptions: subscribe, change plan, cancel, migrate plan versions, list.

The rules are the domain's (:mod:`iotbill.domain.subscriptions`): a plan in
another currency than the customer's is refused, proration is by second,
changes and cancellations take effect immediately or at the period end. This
module finds what a request names, turns dates into instants (a date is local
midnight in the customer's zone, see :mod:`iotbill.services.moments`) and
stores the result. What each change bills is the bill run's business
(:mod:`iotbill.domain.subscription_billing`); nothing here issues invoices.

**Ids.** A subscription created without an ``id`` is named from the tenant's
``subscription`` sequence: ``sub-000001``, ``sub-000002``, ... (readable in
commands and on invoices; numbers taken by explicit ids are skipped).

Each function is one unit of work: it enters the (not yet entered) ``uow`` it
is given, validates the whole request, then writes; an error stores nothing.
Naming a customer, plan, version or device that does not exist is
:class:`~iotbill.domain.errors.InvalidInput` at that parameter; the
subscription (or, for a migration, the plan) a command acts on being unknown is
:class:`~iotbill.domain.errors.NotFound`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from iotbill.domain.billing_cycles import BillingMode
from iotbill.domain.customers import Customer
from iotbill.domain.errors import Conflict, InvalidInput, NotFound, ProblemCollector
from iotbill.domain.fields import FieldReader
from iotbill.domain.lease import buy_out
from iotbill.domain.pauses import pause, resume
from iotbill.domain.periods import local_instant
from iotbill.domain.sale_terms import parse_contract
from iotbill.domain.subscriptions import (
    CancelTiming,
    ChangeTiming,
    Subscription,
    cancel,
    change_plan,
    migrate,
    subscribe,
)
from iotbill.services.customers import find_customer
from iotbill.services.moments import Moment, collect_instant, instant_for
from iotbill.services.ports import Paging, StoredPlan, UnitOfWork

SUBSCRIPTION_SERIES = "subscription"
ID_PREFIX = "sub"


@dataclass(frozen=True, slots=True)
class Skipped:
    """A subscription that a migration left alone, and why."""

    subscription: str
    reason: str


@dataclass(frozen=True, slots=True)
class Migration:
    """What a migration did: the version moved to, the subscriptions moved and those left."""

    target: StoredPlan
    migrated: tuple[Subscription, ...]
    skipped: tuple[Skipped, ...]


def create_subscription(
    uow: UnitOfWork,
    *,
    customer: str,
    plan: str,
    start: Moment,
    plan_version: int | None = None,
    billing_mode: str = "calendar",
    trial_days: int | None = None,
    trial_end: Moment | None = None,
    device: str | None = None,
    id: str | None = None,
    contract: Mapping[str, Any] | None = None,
) -> Subscription:
    """Subscribe ``customer`` (or one of its devices) to ``plan`` from ``start``.

    The plan's latest version unless ``plan_version`` is given. A trial lasts
    ``trial_days`` local days from the start, or until ``trial_end``. A device
    subscription needs a device that ``customer`` owns at the start. ``contract``
    gives lease terms of its own, in place of the plan's, written as a plan's
    (``{"term", "at_term_end", "early_termination_fee", "buy_out"}``,
    :mod:`iotbill.domain.sale_terms`). Every problem is reported at once; an ``id``
    already taken is a :class:`Conflict`.
    """
    with uow:
        problems = ProblemCollector()
        owner = find_customer(uow, customer, "customer", problems)
        stored = find_plan(uow, plan, plan_version, problems)
        begins = collect_instant(start, owner, "start", problems)
        trial = _trial_end(owner, begins, trial_days, trial_end, problems)
        if device is not None:
            _check_device(uow, device, owner, begins, problems)
        terms = None
        if contract is not None and stored is not None:
            reader = FieldReader(contract, "", problems)
            terms = parse_contract(reader, stored.plan.currency, list(stored.plan.fixed_fees))
        subscription: Subscription | None = None
        if owner is not None and stored is not None and begins is not None:
            try:
                subscription = subscribe(
                    id=id if id is not None else _next_id(uow),
                    customer=owner,
                    plan=stored.plan,
                    plan_version=stored.version,
                    start=begins,
                    billing_mode=cast(BillingMode, billing_mode),
                    trial_end=trial,
                    device_id=device,
                    contract=terms,
                )
            except InvalidInput as error:
                problems.extend(error.problems)
        problems.raise_if_any()
        assert subscription is not None
        uow.subscriptions.add(subscription)
        uow.commit()
    return subscription


def change_subscription(
    uow: UnitOfWork,
    id: str,
    *,
    plan: str,
    timing: str,
    at: Moment,
    plan_version: int | None = None,
) -> Subscription:
    """Move subscription ``id`` to ``plan`` at ``at`` (``immediate``) or at its period end.

    ``period_end`` starts the new plan at the start of the period after the
    one containing ``at``; a later change replaces a scheduled one.
    """
    with uow:
        subscription = uow.subscriptions.get(id)
        customer = uow.customers.get(subscription.customer_id)
        problems = ProblemCollector()
        stored = find_plan(uow, plan, plan_version, problems)
        requested = collect_instant(at, customer, "at", problems)
        problems.raise_if_any()
        assert stored is not None and requested is not None
        changed = change_plan(
            subscription,
            customer,
            plan=stored.plan,
            plan_version=stored.version,
            at=requested,
            timing=cast(ChangeTiming, timing),
        )
        uow.subscriptions.save(changed)
        uow.commit()
    return changed


def buy_out_subscription(uow: UnitOfWork, id: str, *, at: Moment) -> Subscription:
    """Subscription ``id``'s leased device bought by its customer at ``at``: service ends
    then, the plan's buy-out price is billed on the final invoice, and the customer owns the
    device (:func:`~iotbill.domain.lease.buy_out`)."""
    with uow:
        subscription = uow.subscriptions.get(id)
        customer = uow.customers.get(subscription.customer_id)
        first = subscription.phases[0]
        plan = uow.plans.get(first.plan_code, first.plan_version).plan
        bought = buy_out(subscription, customer, plan, instant_for(at, customer, "at"))
        uow.subscriptions.save(bought)
        uow.commit()
    return bought


def cancel_subscription(uow: UnitOfWork, id: str, *, timing: str, at: Moment) -> Subscription:
    """Cancel subscription ``id``: service ends at ``at`` (``immediate``) or at its period end."""
    with uow:
        subscription = uow.subscriptions.get(id)
        customer = uow.customers.get(subscription.customer_id)
        cancelled = cancel(
            subscription,
            customer,
            timing=cast(CancelTiming, timing),
            at=instant_for(at, customer, "at"),
        )
        uow.subscriptions.save(cancelled)
        uow.commit()
    return cancelled


def pause_subscription(uow: UnitOfWork, id: str, *, at: Moment) -> Subscription:
    """Pause subscription ``id`` from ``at`` (:func:`iotbill.domain.pauses.pause`)."""
    return _pause_or_resume(uow, id, at, pause)


def resume_subscription(uow: UnitOfWork, id: str, *, at: Moment) -> Subscription:
    """Resume subscription ``id``, paused, at ``at`` (:func:`iotbill.domain.pauses.resume`)."""
    return _pause_or_resume(uow, id, at, resume)


def _pause_or_resume(
    uow: UnitOfWork, id: str, at: Moment, change: Callable[..., Subscription]
) -> Subscription:
    """``change`` (pause or resume) subscription ``id`` at ``at``: refused (:class:`Conflict`)
    when an invoice of the subscription was issued after ``at``, which it would change."""
    with uow:
        subscription = uow.subscriptions.get(id)
        customer = uow.customers.get(subscription.customer_id)
        instant = instant_for(at, customer, "at")
        changed = change(subscription, at=instant)
        issued = [
            summary
            for summary in uow.invoices.summaries([id])
            if summary.status != "void" and summary.issued_at > instant
        ]
        if issued:
            raise Conflict(
                f"subscription {id} has invoice {issued[0].id} issued after"
                f" {instant.isoformat()}; pause and resume before billing those periods"
            )
        uow.subscriptions.save(changed)
        uow.commit()
    return changed


def migrate_subscriptions(uow: UnitOfWork, plan: str, *, at: Moment) -> Migration:
    """Move every subscription on an older version of ``plan`` to its latest version from ``at``.

    A date is local midnight in each subscription's customer's zone. A
    migration inside a billing period is billed like an immediate change;
    later phases (a change scheduled after ``at``) are kept. Subscriptions that
    have ended by ``at``, start after it, or are on another plan then are left
    alone and listed in :attr:`Migration.skipped`. If any subscription cannot
    take the new version (its currency or interval changed), nothing is stored.
    """
    with uow:
        target = uow.plans.get(plan)
        if (archived := uow.plans.archived().get(plan)) is not None:
            raise InvalidInput.at("plan", _archived(plan, archived))
        customers: dict[str, Customer] = {}
        migrated: list[Subscription] = []
        skipped: list[Skipped] = []
        problems = ProblemCollector()
        for subscription in uow.subscriptions.list():
            if not any(
                phase.plan_code == plan and phase.plan_version < target.version
                for phase in subscription.phases
            ):
                continue
            if subscription.customer_id not in customers:
                customers[subscription.customer_id] = uow.customers.get(subscription.customer_id)
            customer = customers[subscription.customer_id]
            effective = instant_for(at, customer, "at")
            current = subscription.phase_at(effective)
            if current and current.plan_code == plan and current.plan_version >= target.version:
                continue  # on the latest version already
            reason = _not_migrated(subscription, plan, effective)
            if reason is not None:
                skipped.append(Skipped(subscription.id, reason))
                continue
            try:
                migrated.append(
                    migrate(
                        subscription,
                        customer,
                        plan=target.plan,
                        plan_version=target.version,
                        at=effective,
                    )
                )
            except InvalidInput as error:
                problems.extend(error.problems, prefix=subscription.id)
            except Conflict as error:
                skipped.append(Skipped(subscription.id, str(error)))
        problems.raise_if_any()
        for subscription in migrated:
            uow.subscriptions.save(subscription)
        uow.commit()
    return Migration(target, tuple(migrated), tuple(skipped))


def list_subscriptions(
    uow: UnitOfWork,
    *,
    customer: str | None = None,
    plan: str | None = None,
    paging: Paging[str] | None = None,
) -> list[Subscription]:
    """Every subscription (of ``customer``; with a phase on ``plan``), by id, or the page
    ``paging`` asks for."""
    with uow:
        return uow.subscriptions.list(customer, paging, plan=plan)


def get_subscription(uow: UnitOfWork, id: str) -> Subscription:
    """The subscription ``id``; :class:`NotFound` if there is none."""
    with uow:
        return uow.subscriptions.get(id)


def find_plan(
    uow: UnitOfWork, code: str, version: int | None, problems: ProblemCollector
) -> StoredPlan | None:
    """Version ``version`` (else the latest) of plan ``code``, or ``None`` after recording why."""
    try:
        versions = uow.plans.versions(code)
    except NotFound:
        problems.add("plan", f"unknown plan {code!r} (iotbill plans apply stores it)")
        return None
    if (archived := uow.plans.archived().get(code)) is not None:
        problems.add("plan", _archived(code, archived))
        return None
    if version is None:
        return versions[-1]
    for stored in versions:
        if stored.version == version:
            return stored
    problems.add(
        "plan_version", f"plan {code!r} has no version {version} (latest: {versions[-1].version})"
    )
    return None


def _archived(code: str, at: datetime) -> str:
    return f"plan {code!r} is archived since {at.isoformat()}: it takes no new subscriptions"


def _trial_end(
    owner: Customer | None,
    begins: datetime | None,
    days: int | None,
    until: Moment | None,
    problems: ProblemCollector,
) -> datetime | None:
    if days is not None and until is not None:
        problems.add("trial_days", "give trial_days or trial_end, not both")
        return None
    if until is not None:
        return collect_instant(until, owner, "trial_end", problems)
    if days is None:
        return None
    if days < 1:
        problems.add("trial_days", f"must be at least 1, not {days}")
        return None
    if owner is None or begins is None:
        return None
    wall = begins.astimezone(owner.zone).replace(tzinfo=None) + timedelta(days=days)
    return local_instant(wall, owner.zone)


def _check_device(
    uow: UnitOfWork,
    device: str,
    owner: Customer | None,
    begins: datetime | None,
    problems: ProblemCollector,
) -> None:
    found = uow.devices.find([device]).get(device)
    if found is None:
        problems.add("device", f"unknown device {device!r} (iotbill devices add creates it)")
        return
    if owner is None or begins is None:
        return
    holder = found.owner_at(begins)
    if holder != owner.id:
        whose = "no owner" if holder is None else f"belongs to {holder!r}"
        problems.add(
            "device",
            f"device {device!r} {whose} at {begins.isoformat()}, not to {owner.id!r}"
            " (a device subscription is for the customer's own device)",
        )


def _not_migrated(subscription: Subscription, plan: str, effective: datetime) -> str | None:
    """Why ``subscription`` is left on its version at ``effective``, or ``None``."""
    end = subscription.end
    if end is not None and effective >= end:
        return f"ended at {end.isoformat()}"
    current = subscription.phase_at(effective)
    if current is None:
        return f"starts at {subscription.start.isoformat()}, after {effective.isoformat()}"
    if current.plan_code != plan:
        return f"is on {current} at {effective.isoformat()}"
    return None


def _next_id(uow: UnitOfWork) -> str:
    """The next free ``sub-NNNNNN`` of the tenant's sequence."""
    while True:
        candidate = f"{ID_PREFIX}-{uow.invoices.next_number(SUBSCRIPTION_SERIES):06d}"
        try:
            uow.subscriptions.get(candidate)
        except NotFound:
            return candidate
