"""What a subscription bills, story by story, with the arithmetic written out.

Unless a test says otherwise the customer is in UTC and on a calendar month, so April has
30 days = 2,592,000 s, February 2026 28 days = 2,419,200 s and March 31 days = 2,678,400 s.
Basic costs 31.00 a month in advance, water 0.50/m3 up to 100 then 0.30; Premium 62.00, water
0.40/m3 up to 200 then 0.20; Lite 15.00; Metered 10.00 in advance and 20.00 in arrears.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from iotbill.domain.errors import InvalidInput
from iotbill.domain.event_table import EventTable
from iotbill.domain.metering.selection import MeasuredTable, Measurement, measured_table
from iotbill.domain.periods import Period
from iotbill.domain.plan_parsing import parse_plan
from iotbill.domain.pricing import Detail
from iotbill.domain.rating import measurements
from iotbill.domain.subscription_billing import (
    billing_periods,
    cancellation_lines,
    change_lines,
    measured_usage,
    opening_lines,
    period_close_lines,
)
from iotbill.domain.subscriptions import Subscription, cancel, change_plan, migrate, subscribe

from .builders import (
    BASIC,
    LITE,
    METERED,
    PLANS,
    PREMIUM,
    WATER_METER,
    customer,
    flows,
    local,
    summary,
    utc,
    water_plan,
)

ACME = customer()
APRIL = Period(utc(2026, 4, 1), utc(2026, 5, 1))
NO_EVENTS = flows()
# April usage for the change stories: 130 m3 before 10 April 06:00, 250 m3 from it on.
APRIL_FLOWS = flows(
    (utc(2026, 4, 3), 80),
    (utc(2026, 4, 8), 50),
    (utc(2026, 4, 10, 6), 150),  # exactly at the change: the new plan's
    (utc(2026, 4, 25), 100),
)


def on_basic_since_january() -> Subscription:
    return subscribe(id="sub-1", customer=ACME, plan=BASIC, plan_version=1, start=utc(2026, 1, 1))


def on_metered_with_a_trial_to_11_march() -> Subscription:
    return subscribe(
        id="sub-1",
        customer=ACME,
        plan=METERED,
        plan_version=1,
        start=utc(2026, 3, 1),
        trial_end=utc(2026, 3, 11),
    )


def upgraded_on_10_april() -> Subscription:
    """On Basic since January, on Premium from 10 April 06:00 (an immediate change)."""
    return change_plan(
        on_basic_since_january(),
        ACME,
        plan=PREMIUM,
        plan_version=1,
        at=utc(2026, 4, 10, 6),
        timing="immediate",
    )


def test_subscribing_mid_month_bills_the_advance_fee_prorated_by_second() -> None:
    subscription = subscribe(
        id="sub-1", customer=ACME, plan=BASIC, plan_version=1, start=utc(2026, 2, 10, 12)
    )
    february = Period(utc(2026, 2, 1), utc(2026, 3, 1))
    events = flows(
        (utc(2026, 2, 5), 40),  # before the start: not billed
        (utc(2026, 2, 12), 60),
        (utc(2026, 2, 20), 70),
        (utc(2026, 3, 1), 5),  # March's
    )

    opening = opening_lines(subscription, ACME, PLANS)
    close = period_close_lines(subscription, ACME, PLANS, february, events)

    # 10 Feb 12:00 to 1 Mar = 18.5 days = 1,598,400 s: 31.00 x 1598400/2419200 = 20.4821... -> 20.48
    assert summary(opening) == [
        (
            "fixed_fee",
            "Monitoring (basic v1, 2026-02-10 12:00 to 2026-03-01, in advance)",
            Decimal("20.48"),
        )
    ]
    assert opening[0].exact_amount == Decimal("20.482142857142857")
    assert opening[0].detail == (
        Detail(
            "proration",
            Decimal("20.482142857142857"),
            units=Decimal(1598400),
            note="31.00 x 1598400/2419200 seconds of 2026-02-01 to 2026-03-01, billed in advance",
        ),
    )
    # 60 + 70 = 130 m3: 100 x 0.50 + 30 x 0.30 = 59.00; then March in advance.
    assert summary(close) == [
        ("usage", "Water (basic v1, 2026-02-10 12:00 to 2026-03-01)", Decimal("59.00")),
        (
            "fixed_fee",
            "Monitoring (basic v1, 2026-03-01 to 2026-04-01, in advance)",
            Decimal("31.00"),
        ),
    ]
    assert close[0].quantity == Decimal(130)
    assert billing_periods(subscription, ACME, until=utc(2026, 4, 1)) == [
        february,
        Period(utc(2026, 3, 1), utc(2026, 4, 1)),
    ]


def test_a_trial_ending_mid_period_bills_fees_and_usage_only_after_it() -> None:
    subscription = on_metered_with_a_trial_to_11_march()
    march = Period(utc(2026, 3, 1), utc(2026, 4, 1))
    events = flows((utc(2026, 3, 5), 50), (utc(2026, 3, 20), 30), (utc(2026, 4, 2), 10))

    opening = opening_lines(subscription, ACME, PLANS)
    march_close = period_close_lines(subscription, ACME, PLANS, march, events)
    april_close = period_close_lines(subscription, ACME, PLANS, APRIL, events)

    # 11 to 31 March: 21 of 31 days. 10.00 x 21/31 = 6.7741... -> 6.77.
    assert summary(opening) == [
        (
            "fixed_fee",
            "Monitoring (metered v1, 2026-03-11 to 2026-04-01, in advance)",
            Decimal("6.77"),
        )
    ]
    # Arrears 20.00 x 21/31 = 13.5483... -> 13.55; the 50 m3 in the trial are free: 30 x 0.50.
    assert summary(march_close) == [
        ("fixed_fee", "Platform (metered v1, 2026-03-11 to 2026-04-01)", Decimal("13.55")),
        ("usage", "Water (metered v1, 2026-03-11 to 2026-04-01)", Decimal("15.00")),
        (
            "fixed_fee",
            "Monitoring (metered v1, 2026-04-01 to 2026-05-01, in advance)",
            Decimal("10.00"),
        ),
    ]
    # A whole period after the trial: lines as a preview of the plan would show them.
    assert summary(april_close) == [
        ("fixed_fee", "Platform", Decimal("20.00")),
        ("usage", "Water", Decimal("5.00")),
        (
            "fixed_fee",
            "Monitoring (metered v1, 2026-05-01 to 2026-06-01, in advance)",
            Decimal("10.00"),
        ),
    ]


def test_an_upgrade_mid_period_credits_charges_and_splits_usage_on_full_tiers() -> None:
    upgraded = upgraded_on_10_april()

    change = change_lines(upgraded, ACME, PLANS, utc(2026, 4, 10, 6))
    close = period_close_lines(upgraded, ACME, PLANS, APRIL, APRIL_FLOWS)

    # Unused: 10 Apr 06:00 to 1 May = 1,792,800 s of 2,592,000 = 83/120.
    # Credit 31.00 x 83/120 = 21.4416... -> -21.44; charge 62.00 x 83/120 = 42.8833... -> 42.88.
    assert summary(change) == [
        (
            "credit",
            "Credit: Monitoring (basic v1, 2026-04-10 06:00 to 2026-05-01, unused,"
            " billed in advance)",
            Decimal("-21.44"),
        ),
        (
            "fixed_fee",
            "Monitoring (premium v1, 2026-04-10 06:00 to 2026-05-01, in advance)",
            Decimal("42.88"),
        ),
    ]
    # Basic: 80 + 50 = 130 m3 -> 100 x 0.50 + 30 x 0.30 = 59.00.
    # Premium: 150 + 100 = 250 m3 -> 200 x 0.40 + 50 x 0.20 = 90.00 (its own full tiers:
    # all 380 m3 on Premium would be 116.00, on Basic 134.00).
    assert summary(close) == [
        ("usage", "Water (basic v1, 2026-04-01 to 2026-04-10 06:00)", Decimal("59.00")),
        ("usage", "Water (premium v1, 2026-04-10 06:00 to 2026-05-01)", Decimal("90.00")),
        (
            "fixed_fee",
            "Monitoring (premium v1, 2026-05-01 to 2026-06-01, in advance)",
            Decimal("62.00"),
        ),
    ]


def test_a_migration_mid_period_is_billed_like_an_immediate_change() -> None:
    basic_v2 = water_plan("basic", fee="35.00", tiers=[{"up_to": None, "unit_price": "0.30"}])
    migrated = migrate(
        on_basic_since_january(), ACME, plan=basic_v2, plan_version=2, at=utc(2026, 4, 16)
    )

    lines = change_lines(migrated, ACME, {**PLANS, ("basic", 2): basic_v2}, utc(2026, 4, 16))

    # 16 April to 1 May: 15 of 30 days, exactly half of each fee.
    assert [line.amount for line in lines] == [Decimal("-15.50"), Decimal("17.50")]


def test_a_downgrade_at_period_end_bills_the_next_period_on_the_new_plan() -> None:
    on_premium = subscribe(
        id="sub-1", customer=ACME, plan=PREMIUM, plan_version=1, start=utc(2026, 1, 1)
    )
    downgraded = change_plan(
        on_premium, ACME, plan=LITE, plan_version=1, at=utc(2026, 4, 20), timing="period_end"
    )
    may = Period(utc(2026, 5, 1), utc(2026, 6, 1))

    # 380 m3 on Premium: 200 x 0.40 + 180 x 0.20 = 116.00; May's advance fee on Lite.
    assert summary(period_close_lines(downgraded, ACME, PLANS, APRIL, APRIL_FLOWS)) == [
        ("usage", "Water", Decimal("116.00")),
        (
            "fixed_fee",
            "Monitoring (lite v1, 2026-05-01 to 2026-06-01, in advance)",
            Decimal("15.00"),
        ),
    ]
    assert change_lines(downgraded, ACME, PLANS, utc(2026, 5, 1)) == []
    assert summary(period_close_lines(downgraded, ACME, PLANS, may, flows((utc(2026, 5, 3), 7))))[
        0
    ] == ("usage", "Water", Decimal("3.50"))


def test_an_immediate_change_exactly_at_a_boundary_is_a_change_at_period_end() -> None:
    upgraded = change_plan(
        on_basic_since_january(),
        ACME,
        plan=PREMIUM,
        plan_version=1,
        at=utc(2026, 5, 1),
        timing="immediate",
    )

    assert change_lines(upgraded, ACME, PLANS, utc(2026, 5, 1)) == []
    assert summary(period_close_lines(upgraded, ACME, PLANS, APRIL, NO_EVENTS))[-1] == (
        "fixed_fee",
        "Monitoring (premium v1, 2026-05-01 to 2026-06-01, in advance)",
        Decimal("62.00"),
    )


def test_cancelling_at_period_end_bills_the_last_arrears_and_no_next_advance() -> None:
    cancelled = cancel(on_basic_since_january(), ACME, timing="period_end", at=utc(2026, 4, 20))

    # 380 m3 on Basic: 100 x 0.50 + 280 x 0.30 = 134.00.
    assert summary(period_close_lines(cancelled, ACME, PLANS, APRIL, APRIL_FLOWS)) == [
        ("usage", "Water", Decimal("134.00"))
    ]
    assert cancellation_lines(cancelled, ACME, PLANS) == []
    assert billing_periods(cancelled, ACME, until=utc(2026, 8, 1))[-1] == APRIL
    assert len(billing_periods(cancelled, ACME, until=utc(2026, 8, 1))) == 4


def test_cancelling_immediately_credits_the_unused_advance_fee() -> None:
    cancelled = cancel(on_basic_since_january(), ACME, timing="immediate", at=utc(2026, 4, 10, 6))

    # Unused 83/120 of April's 31.00 = 21.4416... -> -21.44; usage only before the cancellation.
    assert summary(cancellation_lines(cancelled, ACME, PLANS)) == [
        (
            "credit",
            "Credit: Monitoring (basic v1, 2026-04-10 06:00 to 2026-05-01, unused,"
            " billed in advance)",
            Decimal("-21.44"),
        )
    ]
    assert summary(period_close_lines(cancelled, ACME, PLANS, APRIL, APRIL_FLOWS)) == [
        ("usage", "Water (basic v1, 2026-04-01 to 2026-04-10 06:00)", Decimal("59.00"))
    ]
    assert (
        period_close_lines(
            cancelled, ACME, PLANS, Period(utc(2026, 5, 1), utc(2026, 6, 1)), NO_EVENTS
        )
        == []
    )


def test_cancelling_after_an_upgrade_credits_the_new_plan() -> None:
    upgraded = upgraded_on_10_april()
    cancelled = cancel(upgraded, ACME, timing="immediate", at=utc(2026, 4, 20))

    # 20 April to 1 May: 11 of 30 days of 62.00 = 22.7333... -> -22.73.
    assert summary(cancellation_lines(cancelled, ACME, PLANS)) == [
        (
            "credit",
            "Credit: Monitoring (premium v1, 2026-04-20 to 2026-05-01, unused, billed in advance)",
            Decimal("-22.73"),
        )
    ]


def test_customers_in_utc_plus_13_and_utc_minus_10_close_january_at_different_instants() -> None:
    tonga = customer("Pacific/Tongatapu", id="tonga")
    honolulu = customer("Pacific/Honolulu", id="honolulu")
    events = flows(
        (utc(2025, 12, 31, 12), 10),  # 1 Jan 01:00 in Tonga; 31 Dec 02:00 in Honolulu
        (utc(2026, 1, 15), 20),
        (utc(2026, 1, 31, 12), 40),  # 1 Feb 01:00 in Tonga; 31 Jan 02:00 in Honolulu
    )
    results = {}
    for who in (tonga, honolulu):
        start = local(who.timezone, 2026, 1, 1)
        subscription = subscribe(id=who.id, customer=who, plan=BASIC, plan_version=1, start=start)
        (january,) = billing_periods(subscription, who, until=utc(2026, 2, 2))
        results[who.id] = (
            january,
            summary(period_close_lines(subscription, who, PLANS, january, events)),
        )
    february_fee = (
        "fixed_fee",
        "Monitoring (basic v1, 2026-02-01 to 2026-03-01, in advance)",
        Decimal("31.00"),
    )

    # Tonga: 10 + 20 = 30 m3 -> 15.00. Honolulu: 20 + 40 = 60 m3 -> 30.00.
    assert results["tonga"] == (
        Period(utc(2025, 12, 31, 11), utc(2026, 1, 31, 11)),
        [("usage", "Water", Decimal("15.00")), february_fee],
    )
    assert results["honolulu"] == (
        Period(utc(2026, 1, 1, 10), utc(2026, 2, 1, 10)),
        [("usage", "Water", Decimal("30.00")), february_fee],
    )


def test_a_berlin_march_is_743_hours_long_for_proration() -> None:
    berlin = customer("Europe/Berlin")
    start = local("Europe/Berlin", 2026, 3, 16)  # 15 March 23:00Z
    subscription = subscribe(id="sub-1", customer=berlin, plan=BASIC, plan_version=1, start=start)

    (line,) = opening_lines(subscription, berlin, PLANS)

    # 16 March to 1 April local is 16 days less the hour skipped on 29 March: 383 h = 1,378,800 s
    # of March's 743 h = 2,674,800 s. 31.00 x 383/743 = 15.9798... -> 15.98 (by day: 16.00).
    assert line.amount == Decimal("15.98")
    assert line.description == "Monitoring (basic v1, 2026-03-16 to 2026-04-01, in advance)"
    assert line.detail[0].note == (
        "31.00 x 1378800/2674800 seconds of 2026-03-01 to 2026-04-01, billed in advance"
    )


def test_anniversary_billing_opens_with_a_whole_period_and_keeps_the_31st() -> None:
    subscription = subscribe(
        id="sub-1",
        customer=ACME,
        plan=BASIC,
        plan_version=1,
        start=utc(2026, 1, 31, 10),
        billing_mode="anniversary",
    )

    periods = billing_periods(subscription, ACME, until=utc(2026, 4, 1))

    assert periods == [
        Period(utc(2026, 1, 31, 10), utc(2026, 2, 28, 10)),
        Period(utc(2026, 2, 28, 10), utc(2026, 3, 31, 10)),
    ]
    assert summary(opening_lines(subscription, ACME, PLANS)) == [
        (
            "fixed_fee",
            "Monitoring (basic v1, 2026-01-31 10:00 to 2026-02-28 10:00, in advance)",
            Decimal("31.00"),
        )
    ]
    assert summary(period_close_lines(subscription, ACME, PLANS, periods[0], NO_EVENTS))[-1] == (
        "fixed_fee",
        "Monitoring (basic v1, 2026-02-28 10:00 to 2026-03-31 10:00, in advance)",
        Decimal("31.00"),
    )


def test_change_lines_name_a_phase_that_exists() -> None:
    with pytest.raises(InvalidInput, match="no plan change of the subscription starts at"):
        change_lines(on_basic_since_january(), ACME, PLANS, utc(2026, 4, 10))


def _measured(
    subscription: Subscription, period: Period, events: EventTable
) -> list[tuple[str, Period]]:
    """What pricing ``period`` reads, as (meter, part); and the lines it prices from a
    table of those quantities alone equal those from the events."""
    measured = measured_usage(subscription, PLANS, period)
    assert measured is not None
    table = measured_table(events, measured)
    assert isinstance(table, MeasuredTable)
    assert period_close_lines(subscription, ACME, PLANS, period, table) == period_close_lines(
        subscription, ACME, PLANS, period, events
    )
    return [(meter.code, part) for meter, part in measured]


def test_the_quantities_a_period_reads_are_its_billable_parts_on_their_own_plans() -> None:
    """A trial, then an upgrade: each billable part is measured on its own plan's meter;
    the trial's part, not billed, is not measured."""
    trial = on_metered_with_a_trial_to_11_march()
    march = Period(utc(2026, 3, 1), utc(2026, 4, 1))
    march_flows = flows((utc(2026, 3, 5), 50), (utc(2026, 3, 20), 30))
    assert _measured(trial, march, march_flows) == [("water", Period(utc(2026, 3, 11), march.end))]

    upgraded = upgraded_on_10_april()
    assert _measured(upgraded, APRIL, APRIL_FLOWS) == [
        ("water", Period(APRIL.start, utc(2026, 4, 10, 6))),
        ("water", Period(utc(2026, 4, 10, 6), APRIL.end)),
    ]


@pytest.mark.parametrize(
    ("meter", "charge", "measured"),
    [
        ({}, {"model": "per_unit", "unit_price": "0.5"}, True),
        ({"rounding": {"function": "ceil"}}, {"model": "per_unit", "unit_price": "0.5"}, True),
        ({}, {"model": "percentage", "rate": "2"}, False),
        ({"cap": {"per": "day", "max": 10}}, {"model": "per_unit", "unit_price": "0.5"}, False),
        ({"recurring": True}, {"model": "per_unit", "unit_price": "0.5"}, True),
        (
            {"aggregation": "weighted_sum", "recurring": True},
            {"model": "per_unit", "unit_price": "0.5"},
            False,
        ),
        (
            {"aggregation": "latest", "recurring": True},
            {"model": "per_unit", "unit_price": "0.5"},
            False,
        ),
        ({"aggregation": "average"}, {"model": "per_unit", "unit_price": "0.5"}, True),
        ({"aggregation": "max", "per": "day"}, {"model": "per_unit", "unit_price": "0.5"}, False),
    ],
    ids=[
        "per-unit",
        "rounded",
        "per-event-price",
        "capped",
        "recurring-sum",
        "recurring-weighted-sum",
        "recurring-latest",
        "average",
        "peaks",
    ],
)
def test_a_plan_is_measured_unless_a_charge_reads_the_events(
    meter: dict[str, Any], charge: dict[str, Any], measured: bool
) -> None:
    plan = parse_plan(
        {
            "code": "p",
            "currency": "USD",
            "interval": "month",
            "meters": [{**WATER_METER, **meter}],
            "charges": [{"code": "water", "meter": "water", **charge}],
        }
    )
    found = measurements(plan, APRIL)
    assert (found == [Measurement(plan.meters[0], APRIL)]) if measured else found is None


def test_a_risk_factor_is_measured_with_both_its_meters_and_a_fee_only_plan_reads_nothing() -> None:
    plan = parse_plan(
        {
            "code": "p",
            "currency": "USD",
            "interval": "month",
            "fixed_fees": [{"code": "base", "amount": "5"}],
            "meters": [
                {"code": "miles", "event_type": "trip", "aggregation": "sum", "property": "mi"},
                {"code": "brakes", "event_type": "brake", "aggregation": "count"},
            ],
            "charges": [
                {
                    "code": "cover",
                    "meter": "miles",
                    "model": "per_unit",
                    "unit_price": "0.05",
                    "risk_factor": {
                        "events": "brakes",
                        "exposure": "miles",
                        "per": 100,
                        "table": [{"up_to": None, "factor": "1"}],
                    },
                }
            ],
        }
    )
    assert [m.meter.code for m in measurements(plan, APRIL) or []] == ["miles", "brakes"]
    fees_only = parse_plan(
        {
            "code": "f",
            "currency": "USD",
            "interval": "month",
            "fixed_fees": [{"code": "base", "amount": "5"}],
        }
    )
    assert measurements(fees_only, APRIL) == []
