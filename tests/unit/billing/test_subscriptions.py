"""Subscription lifecycle: subscribe, change plan, migrate, cancel; the proration rule."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from iotbill.domain.errors import Conflict, InvalidInput
from iotbill.domain.periods import Period
from iotbill.domain.plan_parsing import parse_plan
from iotbill.domain.subscriptions import (
    Cancellation,
    Phase,
    Subscription,
    cancel,
    change_plan,
    exact_decimal,
    migrate,
    prorate,
    subscribe,
)

from .builders import BASIC, LITE, PREMIUM, customer, utc, water_plan

ACME = customer()
BASIC_V2 = water_plan("basic", fee="35.00", tiers=[{"up_to": None, "unit_price": "0.30"}])


def problems_of(error: pytest.ExceptionInfo[InvalidInput]) -> list[str]:
    return [str(problem) for problem in error.value.problems]


def on_basic() -> Subscription:
    return subscribe(id="sub-1", customer=ACME, plan=BASIC, plan_version=1, start=utc(2026, 1, 1))


def test_subscribe_keeps_whole_seconds_and_starts_one_phase() -> None:
    subscription = subscribe(
        id="sub-1",
        customer=ACME,
        plan=BASIC,
        plan_version=1,
        start=utc(2026, 2, 10, 12, 0, 0).replace(microsecond=999_999),
        trial_end=utc(2026, 2, 24),
        device_id="pump-1",
    )

    assert subscription.start == utc(2026, 2, 10, 12)
    assert subscription.phases == (Phase("basic", 1, utc(2026, 2, 10, 12)),)
    assert subscription.interval == "month"
    assert subscription.billable_from == utc(2026, 2, 24)
    assert subscription.end is None


def test_a_plan_in_another_currency_than_the_customer_is_invalid_input() -> None:
    euro_customer = customer(currency="EUR")

    with pytest.raises(InvalidInput) as error:
        subscribe(
            id="sub-1",
            customer=euro_customer,
            plan=BASIC,
            plan_version=1,
            start=utc(2026, 1, 1).replace(tzinfo=None),
        )

    assert problems_of(error) == [
        "plan: plan 'basic' bills in USD but customer 'acme' pays in EUR"
        " (one plan per currency: use the EUR plan)",
        "start: must include a UTC offset (naive times are ambiguous)",
    ]


def test_every_problem_of_a_subscription_is_reported_at_once() -> None:
    with pytest.raises(InvalidInput) as error:
        subscribe(
            id="",
            customer=ACME,
            plan=BASIC,
            plan_version=0,
            start=utc(2026, 1, 1),
            trial_end=utc(2025, 12, 1),
        )

    assert problems_of(error) == [
        "id: must be a non-empty string",
        "phases[0].plan_version: must be a positive whole number",
        "trial_end: must be after the start",
    ]


def test_an_immediate_change_starts_a_phase_at_the_instant() -> None:
    changed = change_plan(
        on_basic(), ACME, plan=PREMIUM, plan_version=1, at=utc(2026, 4, 10, 6), timing="immediate"
    )

    assert changed.phases == (
        Phase("basic", 1, utc(2026, 1, 1)),
        Phase("premium", 1, utc(2026, 4, 10, 6)),
    )
    assert changed.phase_at(utc(2026, 4, 10, 5, 59, 59)) == changed.phases[0]
    assert changed.phase_at(utc(2026, 4, 10, 6)) == changed.phases[1]


def test_a_change_at_period_end_starts_at_the_next_period() -> None:
    changed = change_plan(
        on_basic(), ACME, plan=LITE, plan_version=1, at=utc(2026, 4, 20), timing="period_end"
    )

    assert changed.phases[-1] == Phase("lite", 1, utc(2026, 5, 1))


def test_a_new_change_replaces_a_change_scheduled_after_it() -> None:
    downgrade = change_plan(
        on_basic(), ACME, plan=LITE, plan_version=1, at=utc(2026, 4, 20), timing="period_end"
    )

    upgrade = change_plan(
        downgrade, ACME, plan=PREMIUM, plan_version=1, at=utc(2026, 4, 25), timing="immediate"
    )

    assert upgrade.phases == (
        Phase("basic", 1, utc(2026, 1, 1)),
        Phase("premium", 1, utc(2026, 4, 25)),
    )


def test_an_immediate_change_at_the_start_instant_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="at: must be after the subscription starts"):
        change_plan(
            on_basic(), ACME, plan=PREMIUM, plan_version=1, at=utc(2026, 1, 1), timing="immediate"
        )


def test_changing_to_the_plan_in_force_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="already on basic v1"):
        change_plan(
            on_basic(), ACME, plan=BASIC, plan_version=1, at=utc(2026, 3, 1), timing="immediate"
        )


def test_changing_to_a_plan_with_another_interval_is_invalid_input() -> None:
    weekly = parse_plan({"code": "weekly", "currency": "USD", "interval": "week"})

    with pytest.raises(InvalidInput, match="bills every week, the subscription every month"):
        change_plan(
            on_basic(), ACME, plan=weekly, plan_version=1, at=utc(2026, 3, 1), timing="immediate"
        )


def test_changing_after_the_end_of_service_is_a_conflict() -> None:
    cancelled = cancel(on_basic(), ACME, timing="period_end", at=utc(2026, 4, 20))

    with pytest.raises(Conflict, match="ends at 2026-05-01T00:00:00"):
        change_plan(
            cancelled, ACME, plan=LITE, plan_version=1, at=utc(2026, 4, 21), timing="period_end"
        )


def test_migrate_adds_a_phase_on_the_newer_version() -> None:
    migrated = migrate(on_basic(), ACME, plan=BASIC_V2, plan_version=2, at=utc(2026, 4, 16))

    assert migrated.phases[-1] == Phase("basic", 2, utc(2026, 4, 16))
    with pytest.raises(InvalidInput, match="plan_version: must be newer than basic v2"):
        migrate(migrated, ACME, plan=BASIC, plan_version=1, at=utc(2026, 5, 1))
    with pytest.raises(InvalidInput, match="the subscription is on 'basic' then, not 'lite'"):
        migrate(on_basic(), ACME, plan=LITE, plan_version=2, at=utc(2026, 5, 1))


def test_cancel_at_period_end_and_immediately() -> None:
    at_period_end = cancel(on_basic(), ACME, timing="period_end", at=utc(2026, 4, 20, 15))
    immediately = cancel(on_basic(), ACME, timing="immediate", at=utc(2026, 4, 10, 6))

    assert at_period_end.cancellation == Cancellation(
        "period_end", utc(2026, 4, 20, 15), utc(2026, 5, 1)
    )
    assert immediately.end == utc(2026, 4, 10, 6)


def test_cancelling_twice_is_a_conflict_and_before_the_start_invalid() -> None:
    cancelled = cancel(on_basic(), ACME, timing="immediate", at=utc(2026, 4, 10))

    with pytest.raises(Conflict, match="already cancelled, effective 2026-04-10T00:00:00"):
        cancel(cancelled, ACME, timing="immediate", at=utc(2026, 4, 11))
    with pytest.raises(InvalidInput, match="at: must not be before the subscription starts"):
        cancel(on_basic(), ACME, timing="immediate", at=utc(2025, 12, 31))


def test_phases_out_of_order_are_refused() -> None:
    with pytest.raises(InvalidInput) as error:
        Subscription(
            id="sub-1",
            customer_id="acme",
            interval="month",
            start=utc(2026, 1, 1),
            phases=(Phase("basic", 1, utc(2026, 1, 2)), Phase("lite", 1, utc(2026, 1, 2))),
        )

    assert problems_of(error) == [
        "phases: the first phase must start when the subscription starts",
        "phases[1].start: must be after the previous phase's start",
    ]


def test_proration_is_by_second_and_exact() -> None:
    february = Period(utc(2026, 2, 1), utc(2026, 3, 1))  # 2,419,200 s

    # 14 days of 28: exactly half.
    assert prorate(Decimal("31.00"), Period(utc(2026, 2, 15), february.end), february) == Decimal(
        "15.5"
    )
    # 18.5 days = 1,598,400 s: 31 x 37/56 = 1147/56 = 20.4821428571428571428...
    assert prorate(
        Decimal("31.00"), Period(utc(2026, 2, 10, 12), february.end), february
    ) == Decimal("20.482142857142857")
    # One second is billed: 31 x 1/2,419,200.
    assert prorate(
        Decimal("31.00"), Period(utc(2026, 2, 28, 23, 59, 59), february.end), february
    ) == Decimal("0.000012814153439")


def test_exact_decimal_keeps_ending_fractions_whole_and_repeating_ones_to_15_places() -> None:
    assert exact_decimal(Fraction(-31, 8)) == Decimal("-3.875")
    assert exact_decimal(Fraction(2, 3)) == Decimal("0.666666666666667")
    assert exact_decimal(Fraction(12)) == Decimal(12)
