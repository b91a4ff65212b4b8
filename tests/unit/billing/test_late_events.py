"""Late events: the closed period is priced again and the difference billed as adjustments."""

from __future__ import annotations

from decimal import Decimal

from iotbill.domain.late_events import late_usage_adjustments
from iotbill.domain.periods import Period
from iotbill.domain.pricing import Detail
from iotbill.domain.subscriptions import change_plan, subscribe

from .builders import BASIC, PLANS, PREMIUM, SALES, customer, flows, summary, utc

ACME = customer()
JANUARY = Period(utc(2026, 1, 1), utc(2026, 2, 1))


def test_a_late_event_under_volume_tiers_gives_a_negative_adjustment() -> None:
    subscription = subscribe(
        id="sub-1", customer=ACME, plan=SALES, plan_version=1, start=utc(2026, 1, 1)
    )
    billed = flows((utc(2026, 1, 5), 500), (utc(2026, 1, 12), 490))
    current = flows((utc(2026, 1, 5), 500), (utc(2026, 1, 12), 490), (utc(2026, 1, 20), 20))

    (adjustment,) = late_usage_adjustments(
        subscription,
        ACME,
        PLANS,
        JANUARY,
        billed=billed,
        current=current,
        original_number="INV-2026-000007",
    )

    # Billed: 990 x 0.10 = 99.00. With the late 20: 1,010 x 0.08 = 80.80. Difference -18.20.
    assert (adjustment.kind, adjustment.charge, adjustment.amount, adjustment.quantity) == (
        "adjustment",
        "water",
        Decimal("-18.20"),
        Decimal(20),
    )
    assert adjustment.description == (
        "Late usage adjustment: Water for INV-2026-000007, 2026-01-01 to 2026-02-01"
    )
    assert adjustment.detail == (
        Detail("repriced", Decimal("80.80"), note="with the late events"),
        Detail("billed", Decimal("-99.00"), note="99.00 on INV-2026-000007"),
    )


def test_a_late_event_under_graduated_tiers_adds_the_marginal_price() -> None:
    subscription = subscribe(
        id="sub-1", customer=ACME, plan=BASIC, plan_version=1, start=utc(2026, 1, 1)
    )

    lines = late_usage_adjustments(
        subscription,
        ACME,
        PLANS,
        JANUARY,
        billed=flows((utc(2026, 1, 5), 90)),
        current=flows((utc(2026, 1, 5), 90), (utc(2026, 1, 31, 23, 59, 59), 20)),
        original_number="INV-2026-000001",
    )

    # 90 x 0.50 = 45.00; 110: 100 x 0.50 + 10 x 0.30 = 53.00.
    assert summary(lines) == [
        (
            "adjustment",
            "Late usage adjustment: Water for INV-2026-000001, 2026-01-01 to 2026-02-01",
            Decimal("8.00"),
        )
    ]


def test_a_late_event_is_priced_on_the_plan_in_force_when_it_happened() -> None:
    upgraded = change_plan(
        subscribe(id="sub-1", customer=ACME, plan=BASIC, plan_version=1, start=utc(2026, 1, 1)),
        ACME,
        plan=PREMIUM,
        plan_version=1,
        at=utc(2026, 1, 10, 6),
        timing="immediate",
    )
    on_time = [(utc(2026, 1, 3), 80), (utc(2026, 1, 8), 50), (utc(2026, 1, 20), 250)]

    lines = late_usage_adjustments(
        upgraded,
        ACME,
        PLANS,
        JANUARY,
        billed=flows(*on_time),
        current=flows(*on_time, (utc(2026, 1, 5), 30)),
        original_number="INV-2026-000003",
    )

    # The late 30 m3 fall on Basic: 160 -> 50.00 + 60 x 0.30 = 68.00 instead of 59.00.
    # (On Premium's side they would have added 30 x 0.20 = 6.00.)
    assert [line.amount for line in lines] == [Decimal("9.00")]


def test_no_adjustment_when_the_late_events_change_nothing() -> None:
    subscription = subscribe(
        id="sub-1", customer=ACME, plan=BASIC, plan_version=1, start=utc(2026, 1, 1)
    )

    lines = late_usage_adjustments(
        subscription,
        ACME,
        PLANS,
        JANUARY,
        billed=flows((utc(2026, 1, 5), 90)),
        current=flows((utc(2026, 1, 5), 90), (utc(2026, 2, 1), 20)),  # February's, not January's
        original_number="INV-2026-000001",
    )

    assert lines == []
