"""Pausing a subscription and resuming it: service stops for a while, billing follows.

A subscription is paused from an instant (:func:`pause`) and resumed later
(:func:`resume`); while paused (``[pause, resume)``) nothing is billed:

* **Fixed fees** are prorated around the pause, by second, like a change: the
  advance fee already billed for the period the pause starts in is credited
  from the pause to the period's end (the *pause* invoice), and the fee is
  charged again from the resumption to the end of its period (the *resume*
  invoice). A period that starts paused bills no advance fee at its start;
  arrears fees are billed for the unpaused parts of the period.
* **Usage** during the pause is not billed: the period's usage is rated on its
  unpaused parts, each with the plan's full tiers (as the parts of a period
  around a plan change are).
* **A pause does not extend anything**: the billing cycle keeps its dates, and a
  cancellation its end.

Rules: a pause starts at or after the subscription's start and before its end,
not inside an earlier pause, and not before a plan change scheduled after it
(resume first, then change); only a paused subscription is resumed, after its
pause started. A plan change is refused inside a pause. An immediate
cancellation while paused credits nothing more (the pause credited the rest of
the period). All instants are whole seconds.

>>> from datetime import UTC, datetime
>>> jan = datetime(2026, 1, 1, tzinfo=UTC)
>>> paused = Pause(datetime(2026, 1, 11, tzinfo=UTC), datetime(2026, 1, 21, tzinfo=UTC))
>>> january = Period(jan, datetime(2026, 2, 1, tzinfo=UTC))
>>> [(span.start.day, span.end.day) for span in unpaused_spans((paused,), january)]
[(1, 11), (21, 1)]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from iotbill.domain.errors import Conflict, InvalidInput
from iotbill.domain.periods import Period, require_aware
from iotbill.domain.subscriptions import Pause, Subscription


def pause(subscription: Subscription, *, at: datetime) -> Subscription:
    """``subscription`` paused from ``at`` (to whole seconds); refused as the module says."""
    at = _whole(at)
    current = subscription.pauses[-1] if subscription.pauses else None
    if current is not None and current.end is None:
        raise Conflict(
            f"subscription {subscription.id} is paused already (since {current.start.isoformat()})"
        )
    if at < subscription.start:
        raise InvalidInput.at("at", f"must not be before the start ({subscription.start})")
    if current is not None and current.end is not None and at < current.end:
        raise InvalidInput.at("at", f"must not be inside the pause that ended at {current.end}")
    end = subscription.end
    if end is not None and end <= at:
        raise Conflict(f"subscription {subscription.id} has ended ({end.isoformat()})")
    later = [phase for phase in subscription.phases if phase.start > at]
    if later:
        raise Conflict(
            f"subscription {subscription.id} changes plan at {later[0].start.isoformat()};"
            " pause it after the change"
        )
    return replace(subscription, pauses=(*subscription.pauses, Pause(at)))


def resume(subscription: Subscription, *, at: datetime) -> Subscription:
    """``subscription``, paused, resumed at ``at`` (to whole seconds).

    :class:`InvalidInput` at ``subscription`` if it is not paused, at ``at`` if that
    is not after the pause's start or not before the end of service.
    """
    at = _whole(at)
    current = subscription.pauses[-1] if subscription.pauses else None
    if current is None or current.end is not None:
        raise InvalidInput.at("subscription", f"{subscription.id} is not paused")
    if at <= current.start:
        raise InvalidInput.at("at", f"must be after the pause's start ({current.start})")
    end = subscription.end
    if end is not None and end <= at:
        raise InvalidInput.at("at", f"must be before the end of service ({end})")
    resumed = replace(current, end=at)
    return replace(subscription, pauses=(*subscription.pauses[:-1], resumed))


def paused_at(pauses: Sequence[Pause], instant: datetime) -> Pause | None:
    """The pause that holds ``instant`` (``[start, end)``), if any."""
    return next((found for found in pauses if found.holds(instant)), None)


def unpaused_spans(pauses: Sequence[Pause], span: Period) -> list[Period]:
    """``span`` without its paused parts, in order."""
    spans: list[Period] = []
    start = span.start
    for found in pauses:
        if found.start >= span.end:
            break
        if found.end is not None and found.end <= start:
            continue
        if found.start > start:
            spans.append(Period(start, found.start))
        if found.end is None:
            return spans
        start = max(start, found.end)
    if start < span.end:
        spans.append(Period(start, span.end))
    return spans


def _whole(at: datetime) -> datetime:
    return require_aware(at, "at").replace(microsecond=0)
