"""Stories about time: late events, grace periods, DST, and customers far east and west."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from iotbill.domain.events import UsageEvent
from tests.stories.test_subscription_stories import BASIC, PUMP, pump_world, two_customers, utc
from tests.stories.world import TENANT, World, lines


def test_late_event_after_finalization_is_billed_as_an_adjustment() -> None:
    world = pump_world()
    world.subscribe("sub-1", "acme", "pump", utc(2026, 1, 1))
    world.usage("p1", utc(2026, 1, 20), m3=50)
    world.bill(utc(2026, 2, 1))
    world.clock.set(utc(2026, 2, 5))
    world.usage("p1", utc(2026, 1, 25), m3=100)  # January's, arriving in February
    world.usage("p1", utc(2026, 2, 10), m3=10)
    world.bill(utc(2026, 3, 1))
    _opening, january, february = world.invoices()
    assert lines(january) == [("usage", "water", "25.00"), ("fixed_fee", "base", "31.00")]
    assert january.status == "finalized"  # the old invoice never changes
    # January re-priced with the late event: 150 m3 = 50.00 + 15.00 = 65.00, billed 25.00.
    assert lines(february) == [
        ("usage", "water", "5.00"),
        ("fixed_fee", "base", "31.00"),
        ("adjustment", "water", "40.00"),
    ]
    assert january.number is not None
    assert january.number in february.lines[2].description
    # Nothing is billed twice: a later run adds no further adjustment.
    world.bill(utc(2026, 4, 1))
    march = world.invoices()[-1]
    assert lines(march) == [("usage", "water", "0.00"), ("fixed_fee", "base", "31.00")]


def january_billed_at_80_m3() -> World:
    """evt-1 (50 m3) and evt-2 (30 m3) in January, billed 40.00; the clock on February 5."""
    world = pump_world()
    world.subscribe("sub-1", "acme", "pump", utc(2026, 1, 1))
    world.usage("p1", utc(2026, 1, 20), m3=50)  # evt-1
    world.usage("p1", utc(2026, 1, 22), m3=30)  # evt-2
    world.bill(utc(2026, 2, 1))  # January: 80 m3 = 40.00
    world.clock.set(utc(2026, 2, 5))
    return world


def test_a_correction_and_a_void_after_finalization_are_billed_as_adjustments() -> None:
    world = january_billed_at_80_m3()
    report = world.usage("p1", utc(2026, 1, 20), m3=150, corrects="evt-1")  # a meter misread
    world.usage("p1", utc(2026, 1, 22), voids="evt-2")  # never happened
    world.bill(utc(2026, 3, 1))
    _opening, january, february = world.invoices()
    assert report.accepted == 1
    assert lines(january) == [("usage", "water", "40.00"), ("fixed_fee", "base", "31.00")]
    # January re-priced: 150 m3 = 50.00 + 15.00 = 65.00, billed 40.00.
    assert lines(february) == [
        ("usage", "water", "0.00"),
        ("fixed_fee", "base", "31.00"),
        ("adjustment", "water", "25.00"),
    ]
    world.bill(utc(2026, 4, 1))  # nothing is adjusted twice
    assert lines(world.invoices()[-1]) == [
        ("usage", "water", "0.00"),
        ("fixed_fee", "base", "31.00"),
    ]


def test_a_correction_alone_after_finalization_is_billed_as_an_adjustment() -> None:
    world = january_billed_at_80_m3()
    world.usage("p1", utc(2026, 1, 20), m3=150, corrects="evt-1")  # as many events as before
    world.bill(utc(2026, 3, 1))
    february = world.invoices()[-1]
    # January re-priced: 180 m3 = 50.00 + 80 x 0.30 = 74.00, billed 40.00.
    assert lines(february) == [
        ("usage", "water", "0.00"),
        ("fixed_fee", "base", "31.00"),
        ("adjustment", "water", "34.00"),
    ]


def test_an_event_no_meter_can_take_holds_its_subscription_only_until_voided() -> None:
    world = two_customers()
    world.subscribe("sub-a2", "acme", "basic", utc(2026, 3, 1))  # sub-a, sub-b exist too
    world.usage("p1", utc(2026, 3, 10), m3=4)  # evt-1
    with world.open(TENANT) as uow:  # stored unchecked, as if no subscription metered it then
        bad = UsageEvent("evt-bad", "pump.flow", "p1", utc(2026, 3, 11), {"m3": Decimal(-2)})
        uow.events.append([bad], ["acme"], world.clock.now())
        uow.commit()
    report = world.bill(utc(2026, 4, 1))
    assert [(held.subscription, held.reason) for held in report.held] == [
        (
            subscription,
            "stored event 'evt-bad': properties.m3: negative value -2 is not allowed"
            " (set allow_negative: true on the meter to accept it) (meter 'water')",
        )
        for subscription in ("sub-a", "sub-a2")
    ]
    assert {invoice.customer_id for invoice in world.invoices()} == {"bolt"}
    world.usage("p1", utc(2026, 3, 11), voids="evt-bad")
    assert world.bill(utc(2026, 4, 2)).held == []
    march = [invoice for invoice in world.invoices("acme") if "close" in invoice.id]
    assert [lines(invoice)[0] for invoice in march] == [("usage", "water", "4.00")] * 2


def test_late_event_within_the_grace_period_counts_on_the_draft() -> None:
    world = World(utc(2026, 1, 1), grace=timedelta(days=3))
    world.plan(PUMP)
    world.customer("acme", "USD", "UTC")
    world.device("p1", "acme", utc(2026, 1, 1))
    world.subscribe("sub-1", "acme", "pump", utc(2026, 1, 1))
    world.usage("p1", utc(2026, 1, 20), m3=50)
    world.bill(utc(2026, 2, 1))
    january = world.invoices()[1]
    assert january.status == "draft" and january.number is None
    world.clock.set(utc(2026, 2, 2))
    world.usage("p1", utc(2026, 1, 31, 23), m3=10)
    world.bill(utc(2026, 2, 4))
    january = world.invoices()[1]
    assert january.status == "finalized"
    assert lines(january) == [("usage", "water", "30.00"), ("fixed_fee", "base", "31.00")]


def test_volume_tiers_make_a_late_adjustment_negative() -> None:
    world = World(utc(2026, 1, 1))
    world.plan(
        PUMP.replace("model: graduated", "model: volume").replace(
            'fixed_fees: [{code: base, amount: "31.00", timing: advance}]', "fixed_fees: []"
        )
    )
    world.customer("acme", "USD", "UTC")
    world.device("p1", "acme", utc(2026, 1, 1))
    world.subscribe("sub-1", "acme", "pump", utc(2026, 1, 1))
    world.usage("p1", utc(2026, 1, 20), m3=100)  # 100 x 0.50 = 50.00
    world.bill(utc(2026, 2, 1))
    world.clock.set(utc(2026, 2, 3))
    world.usage("p1", utc(2026, 1, 21), m3=1)  # 101 x 0.30 = 30.30: cheaper
    world.bill(utc(2026, 3, 1))
    february = world.invoices()[-1]
    assert lines(february) == [("usage", "water", "0.00"), ("adjustment", "water", "-19.70")]


def test_dst_change_in_the_customers_zone() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    world = World(utc(2026, 3, 1))
    world.plan(BASIC.replace('amount: "10.00"', 'amount: "74.30"').replace("USD", "EUR"))
    world.customer("stadtwerke", "EUR", "Europe/Berlin")
    world.device("b1", "stadtwerke", utc(2026, 3, 1))
    world.subscribe("sub-1", "stadtwerke", "basic", datetime(2026, 3, 16, tzinfo=berlin))
    world.usage("b1", datetime(2026, 3, 31, 23, 30, tzinfo=berlin), m3=2)
    world.bill(utc(2026, 4, 1))
    opening, march = world.invoices()
    # March in Berlin has 743 hours (clocks go forward on the 29th); from the 16th at
    # local midnight to April 1st are 383 of them: 74.30 x 383/743 = 38.30.
    assert lines(opening) == [("fixed_fee", "base", "38.30")]
    assert march.period.start == datetime(2026, 2, 28, 23, tzinfo=UTC)
    assert march.period.end == datetime(2026, 3, 31, 22, tzinfo=UTC)  # CEST midnight
    assert lines(march) == [("usage", "water", "2.00"), ("fixed_fee", "base", "74.30")]


def test_customers_far_east_and_far_west_on_the_same_calendar_plan() -> None:
    world = World(utc(2025, 12, 1))
    world.plan(BASIC)
    world.customer("tonga", "USD", "Pacific/Tongatapu")  # UTC+13
    world.customer("hawaii", "USD", "Pacific/Honolulu")  # UTC-10
    world.device("t1", "tonga", utc(2025, 12, 1))
    world.device("h1", "hawaii", utc(2025, 12, 1))
    world.subscribe(
        "sub-t", "tonga", "basic", datetime(2026, 1, 1, tzinfo=ZoneInfo("Pacific/Tongatapu"))
    )
    world.subscribe(
        "sub-h", "hawaii", "basic", datetime(2026, 1, 1, tzinfo=ZoneInfo("Pacific/Honolulu"))
    )
    # The same instant is February 1st, 01:00 in Tonga and January 31st, 02:00 in Honolulu.
    world.usage("t1", utc(2026, 1, 31, 12), m3=3)
    world.usage("h1", utc(2026, 1, 31, 12), m3=3)
    # Tonga's January ended at Jan 31 11:00 UTC; Hawaii's ends at Feb 1 10:00 UTC.
    world.bill(utc(2026, 2, 1, 5))
    tonga = world.invoices("tonga")
    hawaii = world.invoices("hawaii")
    assert tonga[1].period.start == utc(2025, 12, 31, 11)
    assert lines(tonga[1]) == [("usage", "water", "0.00"), ("fixed_fee", "base", "10.00")]
    assert len(hawaii) == 1  # only the opening invoice so far
    world.bill(utc(2026, 3, 2))
    hawaii = world.invoices("hawaii")
    tonga = world.invoices("tonga")
    assert hawaii[1].period.end == utc(2026, 2, 1, 10)
    assert lines(hawaii[1]) == [("usage", "water", "3.00"), ("fixed_fee", "base", "10.00")]
    assert lines(tonga[2]) == [("usage", "water", "3.00"), ("fixed_fee", "base", "10.00")]


def test_tax_once_per_invoice_on_the_rounded_lines() -> None:
    world = pump_world()
    world.customer("gmbh", "USD", "UTC", tax_rate="19")
    world.device("p2", "gmbh", utc(2026, 1, 1))
    world.subscribe("sub-1", "gmbh", "pump", utc(2026, 1, 1))
    world.usage("p2", utc(2026, 1, 3), m3="0.01")
    world.bill(utc(2026, 2, 1))
    january = world.invoices("gmbh")[1]
    # Lines 0.01 (0.005 rounded half-up) and 31.00: tax 19 % of 31.01 = 5.8919 -> 5.89.
    assert lines(january) == [("usage", "water", "0.01"), ("fixed_fee", "base", "31.00")]
    assert (str(january.subtotal), str(january.tax), str(january.total)) == (
        "31.01",
        "5.89",
        "36.90",
    )


def test_events_received_at_the_instant_of_the_bill_run_are_billed_once() -> None:
    world = pump_world()
    world.subscribe("sub-1", "acme", "pump", utc(2026, 1, 1))
    world.clock.set(utc(2026, 2, 1))
    world.usage("p1", utc(2026, 1, 20), m3=50)  # received at the very instant of the run
    world.bill(utc(2026, 2, 1))
    world.bill(utc(2026, 3, 1))
    _opening, january, february = world.invoices()
    assert lines(january) == [("usage", "water", "25.00"), ("fixed_fee", "base", "31.00")]
    assert lines(february) == [("usage", "water", "0.00"), ("fixed_fee", "base", "31.00")]
