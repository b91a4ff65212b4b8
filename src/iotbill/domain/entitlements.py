"""Entitlements: what a plan grants, as features of three kinds.

A plan lists its **features** by code (``features:`` in the plan file, see
docs/plans.md):

* a **boolean** feature is granted or not (``remote_diagnostics: true``);
* a **static** feature carries a value (``retention_days: 30``);
* a **metered** feature allows so much of a meter's quantity per billing period
  (``allowance``). Past it, ``overage: block`` answers no to every check (the
  plan bills no usage of that meter), while ``overage: bill`` keeps answering
  yes and bills each unit above the allowance at ``price``. Optional
  ``alerts`` are percentages of the allowance; reaching one is recorded once
  per period and subscription (:mod:`~iotbill.domain.entitlement_checks`).

The allowance is never prorated: a phase that starts inside a period (a plan
change) gets the whole allowance of its plan, and its usage counts from the
phase's start, as the bill run rates each phase's usage on its own with full
tiers.

>>> feature = MeteredFeature("readings", meter="readings", allowance=Decimal(1000))
>>> feature.has_access(Decimal(999)), feature.has_access(Decimal(1000))
(True, False)
>>> feature.alert_levels()
()
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

Overage = Literal["block", "bill"]
OVERAGES: tuple[Overage, ...] = ("block", "bill")
FeatureKind = Literal["boolean", "static", "metered"]
PERCENT = Decimal(100)


@dataclass(frozen=True, slots=True)
class BooleanFeature:
    """A feature that the plan grants (``granted``) or explicitly withholds."""

    code: str
    granted: bool
    kind: FeatureKind = "boolean"


@dataclass(frozen=True, slots=True)
class StaticFeature:
    """A feature with a fixed value on the plan: a number or a text."""

    code: str
    value: Decimal | str
    kind: FeatureKind = "static"


@dataclass(frozen=True, slots=True)
class MeteredFeature:
    """``allowance`` units of ``meter`` per billing period; past it, ``overage`` decides.

    ``price`` is the unit price of the overage when it is billed (``None`` when
    blocked); ``alerts`` are percentages of the allowance, ascending.
    """

    code: str
    meter: str
    allowance: Decimal
    overage: Overage = "block"
    price: Decimal | None = None
    alerts: tuple[Decimal, ...] = ()
    kind: FeatureKind = "metered"

    def has_access(self, used: Decimal) -> bool:
        """Whether more usage is allowed: always when the overage is billed, else while
        ``used`` is below the allowance."""
        return self.overage == "bill" or used < self.allowance

    def remaining(self, used: Decimal) -> Decimal:
        """What is left of the allowance (never below zero)."""
        return max(self.allowance - used, Decimal(0))

    def alert_levels(self) -> tuple[tuple[Decimal, Decimal], ...]:
        """Each alert as ``(percent, quantity)``: the usage at which it is reached."""
        return tuple((percent, self.allowance * percent / PERCENT) for percent in self.alerts)

    def reached(self, used: Decimal) -> tuple[Decimal, ...]:
        """The alert percentages that ``used`` has reached (a positive usage at or above
        the percentage of the allowance).

        >>> MeteredFeature("r", "r", Decimal(1000), alerts=(Decimal(80), Decimal(100))).reached(
        ...     Decimal(800))
        (Decimal('80'),)
        """
        if used <= 0:
            return ()
        return tuple(percent for percent, level in self.alert_levels() if used >= level)


Feature = BooleanFeature | StaticFeature | MeteredFeature
