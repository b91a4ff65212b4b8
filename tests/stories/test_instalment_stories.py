"""A pump sold in instalments with its monitoring service (memory store), over several periods.

The template plan (examples/models/retail-instalments.yaml): Pump P-200 at 1,000.00 in 3
instalments (333.34 + 333.33 + 333.33), installation 150.00 once, monitoring 15.00 a month in
advance, 0.10 per SMS alert in arrears. The customer is in UTC, without tax.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from iotbill.adapters.plan_files import parse_plan_text
from iotbill.domain.errors import InvalidInput
from tests.conftest import ROOT
from tests.stories.world import World, lines

TEMPLATE = (ROOT / "examples" / "models" / "retail-instalments.yaml").read_text()
JAN_1, FEB_1 = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
MAR_1, APR_1 = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
MAY_1 = datetime(2026, 5, 1, tzinfo=UTC)


def world(plan: str = TEMPLATE) -> World:
    world = World(JAN_1)
    world.plan(plan)
    world.customer("acme", "USD", "UTC")
    world.device("pump-1", "acme", JAN_1)
    world.subscribe("sub-1", "acme", "retail-instalments", JAN_1)
    return world


def test_the_parts_add_up_to_the_price_over_the_first_three_invoices() -> None:
    story = world()
    story.bill(JAN_1)
    for day in (3, 17, 28):
        story.usage("pump-1", datetime(2026, 1, day, tzinfo=UTC), "pump.alert")
    for month in (FEB_1, MAR_1, APR_1, MAY_1):
        story.bill(month)
        story.bill(month)  # run twice: nothing is billed twice
    opening, january, february, march, april = story.invoices()
    assert lines(opening) == [
        ("fixed_fee", "monitoring", "15.00"),
        ("one_off", "pump", "333.34"),  # 1,000.00 / 3 = 333.33 rounded down, + the 0.01 left
        ("one_off", "installation", "150.00"),
    ]
    assert [line.description for line in opening.lines[1:]] == [
        "Pump P-200 (instalment 1 of 3)",
        "Installation",
    ]
    assert str(opening.total) == "498.34"
    assert lines(january) == [
        ("usage", "sms", "0.30"),  # 3 alerts x 0.10
        ("fixed_fee", "monitoring", "15.00"),  # February, in advance
        ("one_off", "pump", "333.33"),
    ]
    assert lines(february) == [
        ("usage", "sms", "0.00"),
        ("fixed_fee", "monitoring", "15.00"),
        ("one_off", "pump", "333.33"),
    ]
    assert (
        lines(march)
        == lines(april)
        == [
            ("usage", "sms", "0.00"),
            ("fixed_fee", "monitoring", "15.00"),
        ]
    )
    parts = [
        line.amount
        for invoice in story.invoices()
        for line in invoice.lines
        if line.charge == "pump"
    ]
    assert [str(part) for part in parts] == ["333.34", "333.33", "333.33"]
    assert str(sum(parts)) == "1000.00"


def test_an_immediate_cancellation_bills_the_parts_still_owed_on_its_invoice() -> None:
    story = world()
    story.bill(JAN_1)
    story.cancel("sub-1", datetime(2026, 1, 20, tzinfo=UTC), "immediate")
    story.bill(FEB_1)
    story.bill(MAR_1)
    opening, cancellation, january = story.invoices()
    assert [line.charge for line in opening.lines] == ["monitoring", "pump", "installation"]
    # 15.00 x 12 days / 31 days = 5.806..., credited; parts 2 and 3 billed at once.
    assert lines(cancellation) == [
        ("credit", "monitoring", "-5.81"),
        ("one_off", "pump", "333.33"),
        ("one_off", "pump", "333.33"),
    ]
    assert [line.detail[0].note for line in cancellation.lines[1:]] == [
        "1000.00 in 3 parts: part 2, billed as service ended",
        "1000.00 in 3 parts: part 3, billed as service ended",
    ]
    assert lines(january) == [("usage", "sms", "0.00")]  # nothing more of the pump


def test_a_cancellation_at_period_end_bills_the_rest_on_the_last_close() -> None:
    story = world()
    story.bill(JAN_1)
    story.cancel("sub-1", datetime(2026, 1, 10, tzinfo=UTC), "period_end")  # ends 1 February
    story.bill(FEB_1)
    story.bill(MAR_1)
    _, january = story.invoices()
    assert lines(january) == [
        ("usage", "sms", "0.00"),
        ("one_off", "pump", "333.33"),
        ("one_off", "pump", "333.33"),
    ]


def test_forgive_leaves_the_parts_still_owed_unbilled() -> None:
    story = world(TEMPLATE.replace("on_cancel: bill_remaining", "on_cancel: forgive"))
    story.bill(JAN_1)
    story.bill(FEB_1)
    story.cancel("sub-1", datetime(2026, 2, 15, tzinfo=UTC), "immediate")
    story.bill(MAR_1)
    opening, january, cancellation, february = story.invoices()
    assert lines(opening)[1] == ("one_off", "pump", "333.34")
    assert lines(january)[-1] == ("one_off", "pump", "333.33")
    # 15.00 x 14 days / 28 days = 7.50 credited; part 3 is forgiven.
    assert lines(cancellation) == [("credit", "monitoring", "-7.50")]
    assert lines(february) == [  # the credit is carried to the last invoice
        ("usage", "sms", "0.00"),
        ("adjustment", "carried_credit", "-7.50"),
    ]


def test_bad_sale_terms_are_reported_at_once_at_plan_load() -> None:
    bad = TEMPLATE.replace("instalments: 3", "instalments: 0").replace(
        'amount: "150.00"', 'amount: "150.005", on_cancel: never'
    )
    with pytest.raises(InvalidInput) as refused:
        parse_plan_text(bad, "plan.yaml")
    assert [str(problem) for problem in refused.value.problems] == [
        "plan.yaml: one_off_charges[0].instalments: must be at least 1, not 0",
        "plan.yaml: one_off_charges[1].amount: 150.005 has more decimals than USD allows (2)",
        "plan.yaml: one_off_charges[1].on_cancel: must be one of bill_remaining, forgive,"
        " not 'never'",
    ]
