"""Outcome commitments and pay per mile, billed month after month from the template plans.

The plans are the templates a business starts from (``examples/models/``), loaded as
they are written, so a template that stops billing its documented story fails here.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from iotbill.services.subscriptions import pause_subscription, resume_subscription
from iotbill.services.usage import usage
from tests.conftest import ROOT
from tests.stories.test_subscription_stories import utc
from tests.stories.world import TENANT, World, lines

TEMPLATES = ROOT / "examples" / "models"
CHICAGO = ZoneInfo("America/Chicago")


def template(name: str) -> str:
    return (TEMPLATES / f"{name}.yaml").read_text()


def water_world() -> World:
    """A UTC customer with one pump on the outcome-commitment plan from 16 April 2026."""
    world = World(utc(2026, 4, 16))
    world.plan(template("outcome-commitment"))
    world.customer("acme", "USD", "UTC")
    world.device("p1", "acme", utc(2026, 4, 1))
    world.subscribe("sub-1", "acme", "water-outcome", utc(2026, 4, 16))
    return world


def test_the_commitment_is_trued_up_prorated_met_and_capped_month_by_month() -> None:
    world = water_world()
    world.usage("p1", utc(2026, 4, 20), m3=40)  # April: 20.00 of water
    world.bill(utc(2026, 5, 1))
    world.usage("p1", utc(2026, 5, 12), m3=100)  # May: 50.00
    world.bill(utc(2026, 6, 1))
    world.usage("p1", utc(2026, 6, 3), m3=300)  # June: 150.00
    world.bill(utc(2026, 7, 1))
    world.usage("p1", utc(2026, 7, 9), m3=900)  # July: 450.00
    world.bill(utc(2026, 8, 1))

    opening, april, may, june, july = world.invoices()
    # 16 April to 1 May is 1,296,000 of April's 2,592,000 seconds: half of each amount.
    assert lines(opening) == [("fixed_fee", "monitoring", "12.50")]  # 25.00 x 1/2
    # 100.00 x 1/2 = 50.00 committed for April; water 40 x 0.50 = 20.00; true-up 30.00.
    assert lines(april) == [
        ("usage", "water", "20.00"),
        ("commitment", "minimum_commitment", "30.00"),
        ("fixed_fee", "monitoring", "25.00"),
    ]
    assert april.lines[1].description == (
        "Minimum commitment true-up (water-outcome v1, 2026-04-16 to 2026-05-01)"
    )
    assert april.lines[1].detail[0].note == "minimum 100.00 x 1296000/2592000 seconds"
    # May: a commitment of 100.00 with usage worth 50.00 bills a true-up of 50.00.
    assert lines(may) == [
        ("usage", "water", "50.00"),
        ("commitment", "minimum_commitment", "50.00"),
        ("fixed_fee", "monitoring", "25.00"),
    ]
    assert may.total == april.total + 50  # 125.00 = 75.00 + 50.00
    # June: 150.00 is between 100.00 and 400.00: no commitment line.
    assert lines(june) == [("usage", "water", "150.00"), ("fixed_fee", "monitoring", "25.00")]
    # July: 450.00 of water, at most 400.00: 50.00 credited.
    assert lines(july) == [
        ("usage", "water", "450.00"),
        ("commitment", "maximum", "-50.00"),
        ("fixed_fee", "monitoring", "25.00"),
    ]
    assert july.lines[1].description == "Credit: charges above the maximum"
    assert [invoice.total for invoice in (april, may, june, july)] == [75, 125, 175, 425]


def test_a_bill_run_repeated_bills_each_true_up_once_and_a_late_event_shrinks_it() -> None:
    world = water_world()
    world.usage("p1", utc(2026, 4, 20), m3=40)
    world.bill(utc(2026, 5, 1))
    world.bill(utc(2026, 5, 1))  # run again: nothing new
    assert len(world.invoices()) == 2
    world.clock.set(utc(2026, 5, 3))
    world.usage("p1", utc(2026, 4, 28), m3=30)  # April's, arriving after April was finalized
    world.bill(utc(2026, 6, 1))
    world.bill(utc(2026, 6, 1))

    _opening, april, may = world.invoices()
    assert april.lines[1].amount == 30  # the finalized invoice never changes
    true_ups = [line for i in world.invoices() for line in i.lines if line.kind == "commitment"]
    # April re-priced: 70 m3 = 35.00 of water and a true-up of 15.00 instead of 30.00.
    assert lines(may) == [
        ("usage", "water", "0.00"),
        ("commitment", "minimum_commitment", "100.00"),
        ("fixed_fee", "monitoring", "25.00"),
        ("adjustment", "water", "15.00"),
        ("adjustment", "minimum_commitment", "-15.00"),
    ]
    assert may.lines[4].description.startswith("Late usage adjustment: Minimum commitment true-up")
    assert len(true_ups) == 2  # April's and May's, each once


def car_world() -> World:
    """A driver in Chicago insured per mile from 1 March 2026 (local midnight)."""
    start = datetime(2026, 3, 1, tzinfo=CHICAGO)
    world = World(start)
    world.plan(template("pay-per-mile"))
    world.customer("dana", "USD", "America/Chicago")
    world.device("car-1", "dana", start)
    world.subscribe("sub-1", "dana", "pay-per-mile", start)
    return world


def chicago(month: int, day: int, hour: int = 12) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=CHICAGO)


def trip(world: World, at: datetime, miles: int) -> None:
    world.usage("car-1", at, "car.trip", miles=miles)


def brakes(world: World, at: datetime, count: int) -> None:
    for _ in range(count):
        world.usage("car-1", at, "car.harsh_brake")


def test_pay_per_mile_a_month_of_500_miles_and_a_day_of_400_that_counts_250() -> None:
    world = car_world()
    # March: 500 miles, no day over 250 (8 March, the day the clocks change, has 250).
    for day, miles in ((2, 100), (8, 250), (15, 150)):
        trip(world, chicago(3, day), miles)
    world.bill(chicago(4, 1, 0))
    # April: 10 April, 300 + 100 = 400 miles in one day, counts 250. 20 April 23:00 and
    # 21 April 01:00 are two local days of 200 (one UTC day, 21 April): both count whole.
    trip(world, chicago(4, 10, 8), 300)
    trip(world, chicago(4, 10, 18), 100)
    trip(world, chicago(4, 20, 23), 200)
    trip(world, chicago(4, 21, 1), 200)
    brakes(world, chicago(4, 10, 9), 12)  # 12 per 800 miles driven = 1.5 per 100
    world.bill(chicago(5, 1, 0))
    world.bill(chicago(6, 1, 0))  # May: no trips

    opening, march, april, may = world.invoices()
    assert lines(opening) == [("fixed_fee", "base", "30.00")]
    # 500 miles x 0.032 = 16.00, + 30.00 for April in advance = 46.00.
    assert lines(march) == [("usage", "mileage", "16.00"), ("fixed_fee", "base", "30.00")]
    assert march.total == 46
    # 250 + 200 + 200 = 650 miles billed of 800 driven; 1.5 brakes per 100 miles is row 2,
    # factor 1.15: 650 x 0.032 = 20.80, x 1.15 = 23.92.
    assert lines(april) == [("usage", "mileage", "23.92"), ("fixed_fee", "base", "30.00")]
    mileage = april.lines[0]
    assert (str(mileage.quantity), str(mileage.unit_price)) == ("650", "0.03680")
    assert [detail.note for detail in mileage.detail if detail.note] == [
        "150 of 800 not counted: at most 250 per day (1 day over)",
        "12 harsh_brakes per 100 driven over 800: ratio 1.5, row 2 (up to 3)",
    ]
    assert lines(may) == [("usage", "mileage", "0.00"), ("fixed_fee", "base", "30.00")]
    # The usage report counts as the bill run does: capped miles, uncapped miles driven.
    report = usage(
        world.open(TENANT), customer="dana", start=date(2026, 4, 1), end=date(2026, 5, 1)
    )
    assert {row.meter: str(row.quantity) for row in report.rows} == {
        "miles": "650",
        "driven": "800",
        "harsh_brakes": "12",
    }


def test_a_pause_is_not_committed_and_the_parts_around_it_share_one_commitment() -> None:
    world = World(utc(2026, 4, 1))
    world.plan(template("outcome-commitment"))
    world.customer("acme", "USD", "UTC")
    world.device("p1", "acme", utc(2026, 4, 1))
    world.subscribe("sub-1", "acme", "water-outcome", utc(2026, 4, 1))
    world.usage("p1", utc(2026, 4, 5), m3=60)  # 30.00 before the pause
    world.usage("p1", utc(2026, 4, 25), m3=40)  # 20.00 after it
    pause_subscription(world.open(TENANT), "sub-1", at=utc(2026, 4, 10))
    resume_subscription(world.open(TENANT), "sub-1", at=utc(2026, 4, 20))
    world.bill(utc(2026, 5, 1))

    close = world.invoices()[-1]
    # 20 of April's 30 days in service: 100.00 x 1,728,000 / 2,592,000 = 66.666...
    # committed; the water of both parts, 50.00, falls 16.67 short: one true-up.
    assert [line for line in lines(close) if line[0] in ("usage", "commitment")] == [
        ("usage", "water", "30.00"),
        ("usage", "water", "20.00"),
        ("commitment", "minimum_commitment", "16.67"),
    ]
    true_up = close.lines[2]
    assert true_up.description == (
        "Minimum commitment true-up (water-outcome v1, 2026-04-01 to 2026-04-10,"
        " 2026-04-20 to 2026-05-01)"
    )
    assert true_up.detail[0].note == "minimum 100.00 x 1728000/2592000 seconds"


def test_an_interim_invoice_leaves_the_commitment_to_the_close() -> None:
    plan = template("outcome-commitment").replace(
        'maximum: "400.00"', 'maximum: "400.00"\nthresholds: ["30.00"]'
    )
    world = World(utc(2026, 5, 1))
    world.plan(plan)
    world.customer("acme", "USD", "UTC")
    world.device("p1", "acme", utc(2026, 5, 1))
    world.subscribe("sub-1", "acme", "water-outcome", utc(2026, 5, 1))
    world.clock.set(utc(2026, 5, 10))
    world.usage("p1", utc(2026, 5, 10), m3=80)  # 40.00: past the 30.00 threshold
    world.bill(utc(2026, 5, 10, 12))
    world.bill(utc(2026, 6, 1))

    _opening, interim, close = world.invoices()
    # The interim invoice bills usage only: a threshold is reached by usage, not by the
    # commitment, which the close settles once over the whole month.
    assert lines(interim) == [("usage", "water", "40.00")]
    assert lines(close) == [
        ("usage", "water", "40.00"),
        ("commitment", "minimum_commitment", "60.00"),
        ("fixed_fee", "monitoring", "25.00"),
        ("adjustment", "interim", "-40.00"),
    ]


def test_an_event_a_risk_factor_could_not_read_is_refused_at_ingest() -> None:
    world = car_world()
    # Braking events of the template carry no property; a plan weighing their force reads one.
    weighed = template("pay-per-mile").replace(
        "{code: harsh_brakes, name: Harsh braking, event_type: car.harsh_brake,"
        " aggregation: count}",
        "{code: harsh_brakes, event_type: car.harsh_brake, aggregation: sum, property: g}",
    )
    world.plan(weighed)
    world.subscribe("sub-2", "dana", "pay-per-mile", chicago(3, 1, 0))
    report = world.usage("car-1", chicago(3, 3), "car.harsh_brake")
    assert report.accepted == 0
    assert [rejection.reason for rejection in report.rejected] == [
        "properties.g: is required (meter 'harsh_brakes')"
    ]
