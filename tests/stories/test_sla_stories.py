"""SLA credits: late visits credit part of the period's monitoring fee (memory store; a
resolve and a bill run that overlap on PostgreSQL).

The template examples/models/service.yaml: 49.00 a month in advance; labour at 90.00 an hour
in started quarter hours; a seal 7.25; on site within 4 hours, or 10 % of the period's
service fees for more than 4 hours and 25 % for more than 8, never more than 100 % a period.
The customer is in UTC, tax 10 %.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from iotbill.adapters.storage.sql.engine import create_engine_for, upgrade
from iotbill.adapters.storage.sql.unit_of_work import sql_unit_of_work_factory
from iotbill.services import billing, work_orders
from iotbill.services.sla_credits import SlaCredits
from iotbill.services.work_orders import (
    arrive_work_order,
    dispatch_work_order,
    list_work_orders,
    open_work_order,
    resolve_work_order,
)
from tests.services import postgres_schema
from tests.stories.world import TENANT, World, lines

TEMPLATE = Path(__file__).parents[2] / "examples" / "models" / "service.yaml"
JAN_1 = datetime(2026, 1, 1, tzinfo=UTC)
QUARTER = timedelta(minutes=15)


def at(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def world() -> World:
    world = World(JAN_1)
    world.plan(TEMPLATE.read_text())
    world.customer("acme", "USD", "UTC", tax_rate="10")
    world.device("pump-1", "acme", JAN_1)
    world.subscribe("sub-1", "acme", "service", JAN_1)
    return world


def opened(world: World, when: datetime, device: str = "pump-1") -> str:
    order = open_work_order(world.open(TENANT), device=device, summary="Vibration", at=when)
    dispatch_work_order(world.open(TENANT), order.id, at=when)
    return order.id


def on_site(world: World, order: str, when: datetime, stayed: timedelta = QUARTER) -> None:
    arrive_work_order(world.open(TENANT), order, at=when)
    resolve_work_order(world.open(TENANT), order, at=when + stayed, parts={})


def visit(world: World, when: datetime, arrived_after: timedelta) -> str:
    order = opened(world, when)
    on_site(world, order, when + arrived_after)
    return order


def test_late_visits_credit_their_period_once_capped_at_its_fees(world: World) -> None:
    world.bill(JAN_1)
    # January: on site after 5 h 30 min (10 %), after 9 h (25 %); one opened at 20:00 on
    # 31 Jan is not on site when January closes (4 h waited: its tier may still change).
    first = visit(world, at(1, 10, 8), timedelta(hours=5, minutes=30))
    second = visit(world, at(1, 20, 8), timedelta(hours=9))
    third = opened(world, at(1, 31, 20))
    world.bill(at(2, 1))
    # The technician reaches the third at 06:00 on 1 Feb: 10 h, 25 %, still January's.
    on_site(world, third, at(2, 1, 6))
    # February: exactly 4 h is on time.
    fourth = visit(world, at(2, 10, 8), timedelta(hours=4))
    world.bill(at(3, 1))
    # March: four visits after more than 8 h, and one opened at noon on 31 Mar that no
    # technician has reached when March closes: 12 h waited, the top tier, settled.
    march = [visit(world, at(3, day, 8), timedelta(hours=8, minutes=1)) for day in (2, 9, 16, 23)]
    never = opened(world, at(3, 31, 12))
    world.bill(at(4, 1))
    world.bill(at(4, 1))  # again: nothing is credited twice
    on_site(world, never, at(4, 1, 3))  # after its breach was credited: changes nothing
    world.bill(at(5, 1))

    opening, february, march_invoice, april, may = world.invoices()
    assert lines(opening) == [("fixed_fee", "monitoring", "49.00")]
    # January's service fees: its monitoring fee, 49.00 (billed in advance on the opening
    # invoice). 10 % + 25 % = 35 % of 49.00 = 17.15.
    assert lines(february) == [
        ("fixed_fee", "monitoring", "49.00"),
        ("one_off", f"{first}/labour", "22.50"),
        ("one_off", f"{second}/labour", "22.50"),
        ("credit", "sla/2026-01-01T00:00:00+00:00", "-17.15"),
    ]
    assert february.lines[-1].description == (
        "SLA credit for 2026-01-01 to 2026-02-01: 35 % of service fees 49.00"
    )
    assert [detail.note for detail in february.lines[-1].detail] == [
        "acme/work-order/1: on site after 5 h 30 min: 10 %",
        "acme/work-order/2: on site after 9 h 00 min: 25 %",
    ]
    assert str(february.total) == "84.54"  # 76.85 + 7.685 tax (before tax: the credit too)
    # The third visit, settled in February, is January's: 60 % of 49.00 = 29.40, of which
    # 17.15 was credited: 12.25 more. The fourth was on time.
    assert lines(march_invoice) == [
        ("fixed_fee", "monitoring", "49.00"),
        ("one_off", f"{third}/labour", "22.50"),
        ("one_off", f"{fourth}/labour", "22.50"),
        ("credit", "sla/2026-01-01T00:00:00+00:00", "-12.25"),
    ]
    assert march_invoice.lines[-1].description == (
        "SLA credit for 2026-01-01 to 2026-02-01: 60 % of service fees 49.00, 35 % credited before"
    )
    # March: five breaches of 25 % are 125 %, capped at 100 %: 49.00.
    assert lines(april) == [
        ("fixed_fee", "monitoring", "49.00"),
        *(("one_off", f"{order}/labour", "22.50") for order in march),
        ("credit", "sla/2026-03-01T00:00:00+00:00", "-49.00"),
    ]
    assert "100 % of service fees 49.00 (capped at 100 %)" in april.lines[-1].description
    assert str(april.total) == "99.00"  # 90.00 + 9.00 tax
    assert lines(may) == [
        ("fixed_fee", "monitoring", "49.00"),
        ("one_off", f"{never}/labour", "22.50"),
    ]
    credited = {
        o.id: (o.sla_percent, o.sla_invoice_id) for o in list_work_orders(world.open(TENANT))
    }
    assert {id: str(percent) for id, (percent, _) in credited.items() if percent is not None} == {
        first: "10",
        second: "25",
        third: "25",
        **{order: "25" for order in march},
        never: "25",
    }
    assert credited[fourth] == (None, None)
    assert credited[third][1] == march_invoice.id


def test_a_breach_settled_later_credits_what_its_rounded_total_adds(world: World) -> None:
    """33.33 a month: 10 % is 3.333, credited 3.33; with a later 25 % the period's 35 % is
    11.6655, rounded once to 11.67, so the second line is 11.67 - 3.33 = 8.34 (25 % alone
    would round to 8.33): the period's lines add up to the one rounding of its total."""
    world.plan(TEMPLATE.read_text().replace('amount: "49.00"', 'amount: "33.33"'))
    world.device("pump-2", "acme", JAN_1)
    world.subscribe("sub-2", "acme", "service", JAN_1, device_id="pump-2")
    world.bill(JAN_1)
    first = opened(world, at(1, 12, 8), "pump-2")
    on_site(world, first, at(1, 12, 13))  # 5 h: 10 %
    late = opened(world, at(1, 31, 22), "pump-2")
    world.bill(at(2, 1))
    on_site(world, late, at(2, 1, 7))  # 9 h: 25 %, January's
    world.bill(at(3, 1))
    sub_2 = [invoice for invoice in world.invoices() if invoice.subscription_id == "sub-2"]
    credits = [line for invoice in sub_2 for line in invoice.lines if line.kind == "credit"]
    assert [(line.charge, str(line.amount)) for line in credits] == [
        ("sla/2026-01-01T00:00:00+00:00", "-3.33"),
        ("sla/2026-01-01T00:00:00+00:00", "-8.34"),
    ]
    # sub-1 covers the customer's other devices: pump-2's breaches are not its.
    sub_1 = [invoice for invoice in world.invoices() if invoice.subscription_id == "sub-1"]
    assert [line for invoice in sub_1 for line in invoice.lines if line.kind == "credit"] == []


def test_a_bill_run_killed_after_crediting_and_run_again_credits_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.bill(JAN_1)
    late = visit(world, at(1, 20, 8), timedelta(hours=9))
    real = billing.emit_many

    def killed(*args: object, **kwargs: object) -> None:
        raise RuntimeError("killed")  # after the lines and marks, before the commit

    monkeypatch.setattr(billing, "emit_many", killed)
    with pytest.raises(RuntimeError, match="killed"):
        world.bill(at(2, 1))
    assert len(world.invoices()) == 1
    assert [o.sla_invoice_id for o in list_work_orders(world.open(TENANT))] == [None]
    monkeypatch.setattr(billing, "emit_many", real)
    world.bill(at(2, 1))
    world.bill(at(3, 1))
    credits = [
        (line.charge, str(line.amount))
        for invoice in world.invoices()
        for line in invoice.lines
        if line.kind == "credit"
    ]
    assert credits == [("sla/2026-01-01T00:00:00+00:00", "-12.25")]  # 25 % of 49.00, once
    (order,) = list_work_orders(world.open(TENANT))
    assert (order.id, str(order.sla_percent)) == (late, "25")


def test_a_partial_period_s_service_fees_are_its_prorated_fee() -> None:
    """Subscribed at midnight on 11 January: January's fee is 49.00 x 21/31 days = 33.19
    (rounded once on its line); a visit after 9 h that month credits 25 % of 33.19 =
    8.2975, rounded once: 8.30."""
    world = World(JAN_1)
    world.plan(TEMPLATE.read_text())
    world.customer("acme", "USD", "UTC")
    world.device("pump-1", "acme", JAN_1)
    world.subscribe("sub-1", "acme", "service", at(1, 11))
    world.bill(at(1, 11))
    visit(world, at(1, 20, 8), timedelta(hours=9))
    world.bill(at(2, 1))
    opening, february = world.invoices()
    assert lines(opening) == [("fixed_fee", "monitoring", "33.19")]
    assert lines(february)[-1] == ("credit", "sla/2026-01-01T00:00:00+00:00", "-8.30")
    assert "25 % of service fees 33.19" in february.lines[-1].description


@pytest.fixture
def postgres_world() -> Iterator[World]:
    """The same world on PostgreSQL, where a resolve and a bill run can overlap."""
    with postgres_schema() as url:
        engine = create_engine_for(url)
        try:
            upgrade(engine)
            world = World(JAN_1)
            world.open = sql_unit_of_work_factory(engine)
            world.plan(TEMPLATE.read_text())
            world.customer("acme", "USD", "UTC", tax_rate="10")
            world.device("pump-1", "acme", JAN_1)
            world.subscribe("sub-1", "acme", "service", JAN_1)
            yield world
        finally:
            engine.dispose()


def sla_credits(world: World) -> list[tuple[str, str]]:
    return [
        (line.charge, str(line.amount))
        for invoice in world.invoices()
        for line in invoice.lines
        if line.kind == "credit"
    ]


def test_a_resolve_that_read_the_order_before_a_bill_run_credited_it_keeps_the_credit(
    postgres_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = postgres_world
    world.bill(JAN_1)
    order = opened(world, at(1, 20, 8))
    arrive_work_order(world.open(TENANT), order, at=at(1, 20, 17))  # 9 h: 25 %
    real = work_orders._service_terms

    def bill_meanwhile(*args: Any) -> Any:
        world.bill(at(2, 1))  # credits the breach and commits, the resolve's read made
        return real(*args)

    monkeypatch.setattr(work_orders, "_service_terms", bill_meanwhile)
    resolve_work_order(world.open(TENANT), order, at=at(1, 20, 17, 15), parts={})
    monkeypatch.setattr(work_orders, "_service_terms", real)
    world.bill(at(3, 1))
    assert sla_credits(world) == [("sla/2026-01-01T00:00:00+00:00", "-12.25")]  # 25 %, once
    (stored,) = list_work_orders(world.open(TENANT))
    assert (stored.status, str(stored.sla_percent), stored.sla_invoice_id) == (
        "resolved",
        "25",
        "sub-1/close/2026-01-01T00:00:00+00:00",  # January's close, issued on 1 February
    )


def test_a_bill_run_that_read_the_order_before_a_resolve_keeps_the_resolve(
    postgres_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = postgres_world
    world.bill(JAN_1)
    order = opened(world, at(1, 20, 8))
    arrive_work_order(world.open(TENANT), order, at=at(1, 20, 17))  # 9 h: 25 %
    real = SlaCredits.write

    def resolve_meanwhile(self: SlaCredits) -> None:
        resolve_work_order(world.open(TENANT), order, at=at(1, 20, 17, 15), parts={"seal": 1})
        real(self)

    monkeypatch.setattr(SlaCredits, "write", resolve_meanwhile)
    world.bill(at(2, 1))
    monkeypatch.setattr(SlaCredits, "write", real)
    (stored,) = list_work_orders(world.open(TENANT))
    assert (stored.status, stored.parts, str(stored.sla_percent)) == (
        "resolved",
        (("seal", 1),),
        "25",
    )
    assert sla_credits(world) == [("sla/2026-01-01T00:00:00+00:00", "-12.25")]
