"""Entitlements: answering checks, and recording the alerts that usage reaches.

:func:`check_entitlement` answers whether a customer may use a feature at an
instant (the rules are :mod:`~iotbill.domain.entitlement_checks`'). A metered
feature's usage is read with
:meth:`~iotbill.services.ports.EventStore.running_total`, which the SQL
stores answer from a daily roll-up kept up at ingest, so a check reads one row
a day and at most half a day of events at each end of the window, whether the
period holds a thousand events or a million.

:func:`record_alerts` records, for each metered feature with ``alerts`` on the
plans in force, the percentages its usage has reached, once per period and
subscription, and queues one ``entitlement.threshold_crossed`` webhook for
each alert newly recorded, in the caller's transaction. The ingest service
calls it after storing events of customers on such plans.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from iotbill.domain.catalog import Plan
from iotbill.domain.customers import Customer
from iotbill.domain.entitlement_checks import (
    EntitlementAlert,
    EntitlementCheck,
    alerts_reached,
    metered_answer,
    refused,
    running_at,
    static_answer,
    usage_window,
)
from iotbill.domain.entitlements import Feature, MeteredFeature
from iotbill.domain.errors import InvalidInput, ProblemCollector
from iotbill.domain.input_rules import ID_LIMITS, text_problem
from iotbill.domain.periods import require_aware
from iotbill.domain.quantities import decimal_text
from iotbill.domain.subscriptions import PlanKey, Subscription
from iotbill.services.billing import event_scopes
from iotbill.services.ports import EventScope, UnitOfWork
from iotbill.services.webhooks import emit_many

ALERT_EVENT = "entitlement.threshold_crossed"


def check_entitlement(
    uow: UnitOfWork, *, customer: str, feature: str, as_of: datetime
) -> EntitlementCheck:
    """Whether ``customer`` may use ``feature`` at ``as_of``; nothing is written.

    The customer's subscriptions running at ``as_of`` are looked at, the
    customer's own before its devices', earliest first; the first whose plan in
    force lists the feature answers. None listing it answers no, saying why.
    :class:`~iotbill.domain.errors.NotFound` for an unknown customer.
    """
    problems = ProblemCollector()
    try:
        as_of = require_aware(as_of, "as_of")
    except InvalidInput as error:
        problems.extend(error.problems)
    if (wrong := text_problem(feature, ID_LIMITS["code"])) is not None:
        problems.add("feature", wrong)
    problems.raise_if_any()
    with uow:
        owner = uow.customers.get(customer)
        subscriptions = uow.subscriptions.list(customer)
        scopes = event_scopes(subscriptions)
        plans: dict[PlanKey, Plan] = {}
        for subscription, plan, found in _granting(uow, subscriptions, as_of, plans):
            if found.code != feature:
                continue
            window = usage_window(subscription, plan, owner.timezone, as_of)
            if not isinstance(found, MeteredFeature):
                return static_answer(owner.id, found, window)
            used = uow.events.running_total(
                plan.meter(found.meter), window.counted, scopes[subscription.id]
            )
            return metered_answer(found, window, used, owner.id)
    running = any(running_at(subscription, as_of) for subscription in subscriptions)
    reason = (
        f"no plan in force lists feature {feature!r}"
        if running
        else f"customer {customer!r} has no subscription running then"
    )
    return refused(owner.id, feature, as_of, reason)


def record_alerts(
    uow: UnitOfWork, latest: Mapping[str, datetime], *, at: datetime
) -> list[EntitlementAlert]:
    """Record the alerts reached by the usage of each customer of ``latest`` as of the
    instant given for it (its latest event: so a batch that arrives after its period
    ended is looked at in that period), each once, as reached ``at``; queue a webhook
    for each newly recorded. The caller commits. Returns the new ones."""
    subscriptions = uow.subscriptions.for_customers(sorted(latest))
    if not subscriptions:
        return []
    owners = uow.customers.find(sorted({s.customer_id for s in subscriptions}))
    scopes = event_scopes(subscriptions)
    reached: list[EntitlementAlert] = []
    plans: dict[PlanKey, Plan] = {}
    for subscription in subscriptions:
        as_of = latest[subscription.customer_id]
        for _, plan, found in _granting(uow, [subscription], as_of, plans):
            if not isinstance(found, MeteredFeature) or not found.alerts:
                continue
            owner = owners[subscription.customer_id]
            scope = scopes[subscription.id]
            reached += _reached(uow, subscription, plan, found, owner, scope, as_of, at)
    new = uow.entitlement_alerts.add_new(reached)
    emit_many(uow, ALERT_EVENT, [(alert_subject(a), alert_json(a), a.reached_at) for a in new])
    return new


def list_alerts(uow: UnitOfWork, customer: str | None = None) -> list[EntitlementAlert]:
    """The alerts recorded (for ``customer``), oldest first."""
    with uow:
        if customer is not None:
            uow.customers.get(customer)
        return uow.entitlement_alerts.list(customer)


def alert_subject(alert: EntitlementAlert) -> str:
    """What a webhook message about ``alert`` is about: its key, as one text."""
    return (
        f"{alert.subscription_id}/{alert.feature}/{alert.counted_from.isoformat()}/"
        f"{decimal_text(alert.percent)}"
    )


def alert_json(alert: EntitlementAlert) -> dict[str, Any]:
    """An alert as the command line's ``--json``, the API and webhooks show it."""
    return {
        "subscription": alert.subscription_id,
        "customer": alert.customer_id,
        "feature": alert.feature,
        "counted_from": alert.counted_from.isoformat(),
        "percent": decimal_text(alert.percent),
        "used": decimal_text(alert.used),
        "allowance": decimal_text(alert.allowance),
        "reached_at": alert.reached_at.isoformat(),
    }


def check_json(check: EntitlementCheck) -> dict[str, Any]:
    """A check's answer as the command line's ``--json`` and the API show it."""
    window = check.window

    def number(value: Any) -> str | None:
        return None if value is None else decimal_text(value)

    value = check.value
    return {
        "customer": check.customer_id,
        "feature": check.feature,
        "kind": check.kind,
        "has_access": check.has_access,
        "as_of": check.as_of.isoformat(),
        "value": value if value is None or isinstance(value, str) else decimal_text(value),
        "used": number(check.used),
        "limit": number(check.limit),
        "remaining": number(check.remaining),
        "overage": check.overage,
        "subscription": None if window is None else window.subscription_id,
        "plan": None if window is None else window.plan_code,
        "period": None
        if window is None
        else {"start": window.period.start.isoformat(), "end": window.period.end.isoformat()},
        "counted_from": None if window is None else window.counted_from.isoformat(),
        "reason": check.reason,
    }


def _granting(
    uow: UnitOfWork,
    subscriptions: Sequence[Subscription],
    at: datetime,
    plans: dict[PlanKey, Plan],
) -> list[tuple[Subscription, Plan, Feature]]:
    """Each feature of the plan in force at ``at`` on each running subscription: the
    customer's own subscriptions before its devices', earliest first."""
    found: list[tuple[Subscription, Plan, Feature]] = []
    ordered = sorted(subscriptions, key=lambda s: (s.device_id is not None, s.start, s.id))
    for subscription in ordered:
        phase = subscription.phase_at(at)
        if phase is None or not running_at(subscription, at):
            continue
        if phase.plan_key not in plans:
            plans[phase.plan_key] = uow.plans.get(*phase.plan_key).plan
        plan = plans[phase.plan_key]
        found += [(subscription, plan, feature) for feature in plan.features]
    return found


def _reached(
    uow: UnitOfWork,
    subscription: Subscription,
    plan: Plan,
    feature: MeteredFeature,
    owner: Customer,
    scope: EventScope,
    as_of: datetime,
    at: datetime,
) -> list[EntitlementAlert]:
    window = usage_window(subscription, plan, owner.timezone, as_of)
    used = uow.events.running_total(plan.meter(feature.meter), window.counted, scope)
    return alerts_reached(feature, window, owner.id, used, at=at)
