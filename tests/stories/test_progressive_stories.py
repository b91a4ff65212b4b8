"""Progressive billing: interim invoices when a period's usage reaches a plan's thresholds."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from iotbill.adapters.plan_files import parse_plan_text
from iotbill.domain.errors import InvalidInput
from tests.stories.world import World, lines

METERED = """\
code: metered
name: Metered
currency: USD
interval: month
fixed_fees: [{code: base, amount: "31.00", timing: arrears}]
meters: [{code: units, event_type: pump.flow, aggregation: sum, property: units}]
charges:
  - {code: units, meter: units, model: per_unit, unit_price: "0.0002"}
thresholds: ["200.00"]
"""

VOLUME = """\
code: volume
name: Volume
currency: USD
interval: month
fixed_fees: [{code: base, amount: "31.00", timing: arrears}]
meters: [{code: units, event_type: pump.flow, aggregation: sum, property: units}]
charges:
  - code: units
    meter: units
    model: volume
    tiers: [{up_to: 1000, unit_price: "0.10"}, {up_to: null, unit_price: "0.05"}]
thresholds: ["100.00"]
"""


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def world_on(plan: str) -> World:
    world = World(utc(2026, 1, 1))
    world.plan(plan)
    world.customer("acme", "USD", "UTC")
    world.device("p1", "acme", utc(2026, 1, 1))
    world.subscribe("sub-1", "acme", plan.split("\n", 1)[0].removeprefix("code: "), utc(2026, 1, 1))
    return world


def test_an_interim_invoice_at_200_and_a_close_that_credits_it() -> None:
    world = world_on(METERED)
    world.clock.set(utc(2026, 1, 6))
    world.usage("p1", utc(2026, 1, 6), units=1_000_000)
    report = world.bill(utc(2026, 1, 6, 12))
    interim_id = "sub-1/interim/2026-01-01T00:00:00+00:00/1"
    assert (report.issued, report.finalized) == ([interim_id], ["INV-2026-000001"])
    (interim,) = world.invoices()
    # 1,000,000 x 0.0002 = 200.00: the threshold is reached (greater or equal).
    assert (interim.id, lines(interim), interim.total) == (
        interim_id,
        [("usage", "units", "200.00")],
        Decimal("200.00"),
    )
    world.clock.set(utc(2026, 1, 16))
    world.usage("p1", utc(2026, 1, 16), units=1_000_000)
    assert world.bill(utc(2026, 1, 16, 12)).issued == []  # the threshold fired already
    world.bill(utc(2026, 2, 1))
    close = world.invoices()[-1]
    # 31.00 + 2,000,000 x 0.0002 = 400.00 of usage - 200.00 already billed = 231.00.
    assert lines(close) == [
        ("fixed_fee", "base", "31.00"),
        ("usage", "units", "400.00"),
        ("adjustment", "interim", "-200.00"),
    ]
    assert close.lines[-1].description == "Billed on interim invoice INV-2026-000001"
    assert close.total == Decimal("231.00")
    assert world.bill(utc(2026, 2, 1)).issued == []  # once


def test_volume_tiers_make_the_close_s_correction_negative_and_it_is_carried() -> None:
    world = world_on(VOLUME)
    world.clock.set(utc(2026, 1, 5))
    world.usage("p1", utc(2026, 1, 5), units=1000)
    world.bill(utc(2026, 1, 5, 12))
    (interim,) = world.invoices()
    assert lines(interim) == [("usage", "units", "100.00")]  # 1,000 x 0.10
    world.clock.set(utc(2026, 1, 20))
    world.usage("p1", utc(2026, 1, 20), units=100)
    world.bill(utc(2026, 2, 1))
    close = world.invoices()[-1]
    # 1,100 units all at 0.05 = 55.00; 31.00 + 55.00 - 100.00 = -14.00: nothing due, carried.
    assert lines(close) == [
        ("fixed_fee", "base", "31.00"),
        ("usage", "units", "55.00"),
        ("adjustment", "interim", "-100.00"),
    ]
    assert (close.total, close.amount_due) == (Decimal("-14.00"), Decimal(0))
    world.bill(utc(2026, 3, 1))
    february = world.invoices()[-1]
    assert lines(february) == [
        ("fixed_fee", "base", "31.00"),
        ("usage", "units", "0.00"),
        ("adjustment", "carried_credit", "-14.00"),
    ]


def test_a_threshold_of_zero_is_refused_with_its_field() -> None:
    bad = METERED.replace('thresholds: ["200.00"]', 'thresholds: ["0", "10.001", "300", "250"]')
    with pytest.raises(InvalidInput) as error:
        parse_plan_text(bad, "plan.yaml")
    assert [str(problem) for problem in error.value.problems] == [
        "plan.yaml: thresholds[0]: must be greater than 0, not 0",
        "plan.yaml: thresholds[1]: 10.001 has more decimals than USD allows",
        "plan.yaml: thresholds[3]: must be greater than the threshold before (300)",
    ]
