"""Checking an entitlement: may this customer use this feature now, and how much is left.

A check at instant ``as_of`` looks at the subscription's phase in force then
(:meth:`~iotbill.domain.subscriptions.Subscription.phase_at`): its plan's
features are the ones granted. For a metered feature, usage counts from the
later of the billing period's start and the phase's start, up to and
including ``as_of`` (:func:`usage_window`); the allowance is the plan's whole
allowance (never prorated). So after an immediate upgrade on the 10th, usage
counts from the upgrade, against the new plan's allowance.

Alert thresholds are reached once per period and subscription (and phase:
a plan changed within a period brings a new allowance, whose alerts are new):
:func:`alerts_reached` gives the alerts a usage reaches; the store records
the first of each (subscription, feature, period, percentage) and ignores the
rest.

>>> from datetime import UTC, datetime
>>> from iotbill.domain.entitlements import MeteredFeature
>>> period = Period(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
>>> window = UsageWindow("sub-1", "free", period, period.start, datetime(2026, 3, 5, tzinfo=UTC))
>>> answer = metered_answer(MeteredFeature("readings", "readings", Decimal(1000)), window,
...                         Decimal(1000))
>>> answer.has_access, answer.used, answer.limit, answer.remaining
(False, Decimal('1000'), Decimal('1000'), Decimal('0'))
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from iotbill.domain.catalog import Plan
from iotbill.domain.entitlements import (
    BooleanFeature,
    Feature,
    FeatureKind,
    MeteredFeature,
    StaticFeature,
)
from iotbill.domain.periods import ONE_MICROSECOND, Period
from iotbill.domain.subscriptions import Subscription


@dataclass(frozen=True, slots=True)
class UsageWindow:
    """Where a check at ``as_of`` looks: the subscription, the plan in force, the billing
    ``period`` containing ``as_of`` and the instant usage counts from."""

    subscription_id: str
    plan_code: str
    period: Period
    counted_from: datetime
    as_of: datetime

    @property
    def counted(self) -> Period:
        """The events that count: from ``counted_from`` up to and including ``as_of``."""
        return Period(self.counted_from, self.as_of + ONE_MICROSECOND)


@dataclass(frozen=True, slots=True)
class EntitlementCheck:
    """The answer to one check. ``used``, ``limit`` and ``remaining`` are a metered
    feature's (``None`` otherwise); ``value`` a static feature's; ``reason`` says why
    access is refused."""

    customer_id: str
    feature: str
    has_access: bool
    as_of: datetime
    kind: FeatureKind | None = None
    window: UsageWindow | None = None
    value: Decimal | str | None = None
    used: Decimal | None = None
    limit: Decimal | None = None
    remaining: Decimal | None = None
    overage: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class EntitlementAlert:
    """Usage of ``feature`` on a subscription reached ``percent`` % of its allowance in the
    window counted from ``counted_from`` (the period's start, or the start of the phase
    that began within it): recorded once (that key), at ``reached_at``.

    So an upgrade within a period, which brings a new allowance, has alerts of its own.
    """

    subscription_id: str
    customer_id: str
    feature: str
    counted_from: datetime
    percent: Decimal
    used: Decimal
    allowance: Decimal
    reached_at: datetime

    @property
    def key(self) -> tuple[str, str, datetime, Decimal]:
        return (self.subscription_id, self.feature, self.counted_from, self.percent)


def running_at(subscription: Subscription, as_of: datetime) -> bool:
    """Whether the subscription gives service at ``as_of``."""
    end = subscription.end
    return subscription.start <= as_of and (end is None or as_of < end)


def usage_window(
    subscription: Subscription, plan: Plan, timezone: str, as_of: datetime
) -> UsageWindow:
    """Where a check at ``as_of`` counts usage on ``subscription`` (``plan`` is in force)."""
    phase = subscription.phase_at(as_of)
    assert phase is not None, "checked only while the subscription runs"
    period = subscription.cycle(timezone).period_containing(as_of)
    return UsageWindow(subscription.id, plan.code, period, max(period.start, phase.start), as_of)


def static_answer(customer_id: str, feature: Feature, window: UsageWindow) -> EntitlementCheck:
    """The answer for a boolean or static feature: granted or not, with its value."""
    if isinstance(feature, BooleanFeature):
        return EntitlementCheck(
            customer_id,
            feature.code,
            feature.granted,
            window.as_of,
            "boolean",
            window,
            reason=None if feature.granted else f"plan {window.plan_code!r} withholds it",
        )
    assert isinstance(feature, StaticFeature)
    return EntitlementCheck(
        customer_id, feature.code, True, window.as_of, "static", window, value=feature.value
    )


def metered_answer(
    feature: MeteredFeature, window: UsageWindow, used: Decimal, customer_id: str = ""
) -> EntitlementCheck:
    """The answer for a metered feature once ``used`` is known."""
    granted = feature.has_access(used)
    return EntitlementCheck(
        customer_id,
        feature.code,
        granted,
        window.as_of,
        "metered",
        window,
        used=used,
        limit=feature.allowance,
        remaining=feature.remaining(used),
        overage=feature.overage,
        reason=None if granted else f"the allowance of {feature.allowance} is used up",
    )


def refused(customer_id: str, feature: str, as_of: datetime, reason: str) -> EntitlementCheck:
    """The answer when no running subscription's plan lists the feature."""
    return EntitlementCheck(customer_id, feature, False, as_of, reason=reason)


def alerts_reached(
    feature: MeteredFeature, window: UsageWindow, customer_id: str, used: Decimal, *, at: datetime
) -> list[EntitlementAlert]:
    """The alerts ``used`` reaches in ``window``'s period, as recorded at ``at``; the store
    keeps the first of each key, so each is recorded once per period and subscription."""
    return [
        EntitlementAlert(
            window.subscription_id,
            customer_id,
            feature.code,
            window.counted_from,
            percent,
            used,
            feature.allowance,
            at,
        )
        for percent in feature.reached(used)
    ]
