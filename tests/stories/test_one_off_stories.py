"""One-off charges recorded against a customer, billed once on its next invoice (memory store).

The plan bills 31.00 a month in advance and 0.50 a cubic metre in arrears.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from iotbill.domain.errors import InvalidInput, NotFound
from iotbill.services.one_off_charges import add_one_off_charge, list_one_off_charges
from tests.stories.world import TENANT, World, lines

PLAN = """\
code: water
name: Water
currency: USD
interval: month
fixed_fees: [{code: base, name: Monitoring, amount: "31.00"}]
meters: [{code: water, event_type: pump.flow, aggregation: sum, property: m3}]
charges: [{code: water, name: Water, meter: water, model: per_unit, unit_price: "0.50"}]
"""
JAN_1 = datetime(2026, 1, 1, tzinfo=UTC)
FEB_1 = datetime(2026, 2, 1, tzinfo=UTC)
MAR_1 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def world() -> World:
    world = World(JAN_1)
    world.plan(PLAN)
    world.customer("acme", "USD", "UTC", tax_rate="10")
    world.device("pump-1", "acme", JAN_1)
    world.subscribe("sub-1", "acme", "water", JAN_1)
    return world


def charge(world: World, description: str, amount: str, quantity: str, at: datetime) -> str:
    return add_one_off_charge(
        world.open(TENANT),
        customer="acme",
        description=description,
        amount=amount,
        quantity=quantity,
        at=at,
    ).id


def test_each_charge_is_billed_once_on_the_first_invoice_issued_since_it_was_recorded(
    world: World,
) -> None:
    setup = charge(world, "Installation", "120.00", "1", JAN_1)
    parts = charge(world, "Spare impeller", "12.345", "3", datetime(2026, 1, 15, tzinfo=UTC))
    world.bill(JAN_1)
    (opening,) = world.invoices()
    # Recorded at the subscription's start: on the opening invoice, issued then.
    assert lines(opening) == [
        ("fixed_fee", "base", "31.00"),
        ("one_off", setup, "120.00"),
    ]
    assert (str(opening.subtotal), str(opening.tax), str(opening.total)) == (
        "151.00",
        "15.10",
        "166.10",
    )

    world.usage("pump-1", datetime(2026, 1, 20, tzinfo=UTC), m3=40)
    late = charge(world, "Site visit", "80", "1", datetime(2026, 2, 10, tzinfo=UTC))
    world.bill(FEB_1)
    world.bill(FEB_1)  # again: nothing is billed twice
    _, january = world.invoices()
    # 40 m3 x 0.50 = 20.00; February's fee; 3 x 12.345 = 37.035, rounded once: 37.04.
    assert lines(january) == [
        ("usage", "water", "20.00"),
        ("fixed_fee", "base", "31.00"),
        ("one_off", parts, "37.04"),
    ]
    assert str(january.total) == "96.84"  # 88.04 + 8.804 tax rounded to 8.80

    world.bill(MAR_1)
    _, _, february = world.invoices()
    assert lines(february) == [
        ("usage", "water", "0.00"),
        ("fixed_fee", "base", "31.00"),
        ("one_off", late, "80.00"),
    ]
    billed = {found.id: number for found, number in list_one_off_charges(world.open(TENANT))}
    assert billed == {setup: opening.number, parts: january.number, late: february.number}


def test_a_charge_recorded_after_a_period_closed_waits_for_the_next_invoice(
    world: World,
) -> None:
    world.bill(FEB_1)
    backdated = charge(world, "Cable", "9.99", "2", datetime(2026, 1, 5, tzinfo=UTC))
    world.bill(FEB_1)
    assert all(line.kind != "one_off" for invoice in world.invoices() for line in invoice.lines)
    world.bill(MAR_1)
    february = world.invoices()[-1]
    assert lines(february)[-1] == ("one_off", backdated, "19.98")


def test_bad_charges_are_refused_with_every_problem_and_nothing_stored(world: World) -> None:
    with pytest.raises(InvalidInput) as refused:
        add_one_off_charge(
            world.open(TENANT), customer="acme", description=" ", amount="1e3", quantity="0",
            at=JAN_1,
        )  # fmt: skip
    assert [str(problem) for problem in refused.value.problems] == [
        "description: must say what is charged",
        "amount: '1e3' is not a plain decimal number (like -12.50)",
        "quantity: must be positive, not 0",
    ]
    with pytest.raises(NotFound):
        add_one_off_charge(
            world.open(TENANT), customer="nobody", description="x", amount="1", at=JAN_1
        )
    assert list_one_off_charges(world.open(TENANT)) == []
