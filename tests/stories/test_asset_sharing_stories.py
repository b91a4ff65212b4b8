"""Asset sharing: a battery's spare capacity sold to the grid, month by month (memory store).

The owner ``acme`` (EUR, UTC, tax 19 %) has battery ``b1`` on ``battery-sharing``: 4.90 a
month in advance, 30 % of what the battery sells credited to acme. The grid operator
``grid-op`` (EUR, tax 19 %) is a customer on ``capacity-buyer`` (10.00 a month in advance)
and is invoiced for what it buys; the spot market pays the operator directly.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from iotbill.domain.credits import balances
from iotbill.domain.errors import Conflict, InvalidInput, NotFound
from iotbill.domain.events import SourcedEvent, UsageEvent
from iotbill.domain.models.asset_sharing import ASSET_SALES, MARKET_RECEIPTS, OPERATOR_REVENUE
from iotbill.services.ingest import ingest
from iotbill.services.sharing import list_buyers, payout_statement, register_buyer, settle_sales
from tests.stories.world import TENANT, World, lines

SHARING = """\
code: battery-sharing
currency: EUR
interval: month
fixed_fees: [{code: monitoring, name: Battery monitoring, amount: "4.90", timing: advance}]
sharing: {event_type: capacity.sold, quantity: kwh, price: price, buyer: buyer, share: "30",
          unit: kWh}
"""
BUYER = """\
code: capacity-buyer
currency: EUR
interval: month
fixed_fees: [{code: account, name: Capacity account, amount: "10.00", timing: advance}]
"""


def day(month: int, number: int, hour: int = 12) -> datetime:
    return datetime(2026, month, number, hour, tzinfo=UTC)


class Battery:
    """A world with acme's battery and its buyers; sells capacity, received when told."""

    def __init__(self) -> None:
        self.world = World(day(1, 1, 0))
        world = self.world
        world.plan(SHARING)
        world.plan(BUYER)
        world.customer("acme", "EUR", "UTC", tax_rate="19")
        world.customer("grid-op", "EUR", "UTC", tax_rate="19")
        world.customer("us-grid", "USD", "UTC")
        world.device("b1", "acme", day(1, 1, 0))
        world.subscribe("sub-1", "acme", "battery-sharing", day(1, 1, 0))
        world.subscribe("sub-2", "grid-op", "capacity-buyer", day(1, 1, 0))
        open_uow = world.open
        register_buyer(
            open_uow(TENANT), device="b1", buyer="grid", customer="grid-op", at=day(1, 1, 0)
        )
        register_buyer(open_uow(TENANT), device="b1", buyer="spot", customer=None, at=day(1, 1, 0))
        self.count = 0

    def sell(self, at: datetime, kwh: str, price: str, buyer: str, received: datetime) -> None:
        self.count += 1
        event = UsageEvent(
            f"sale-{self.count}",
            "capacity.sold",
            "b1",
            at,
            {"kwh": Decimal(kwh), "price": Decimal(price), "buyer": buyer},
        )
        self.world.clock.set(received)
        report = ingest(self.world.open, TENANT, [SourcedEvent(event, 1)], clock=self.world.clock)
        assert report.accepted == 1


@pytest.fixture
def battery() -> Battery:
    return Battery()


def close(world: World, customer: str, start: datetime) -> list[tuple[str, str, str]]:
    (invoice,) = [
        invoice
        for invoice in world.invoices(customer)
        if invoice.kind == "close" and invoice.period.start == start
    ]
    return lines(invoice)


def test_sales_are_billed_to_the_buyer_and_shared_with_the_owner_month_by_month(
    battery: Battery,
) -> None:
    world = battery.world
    battery.sell(day(1, 5), "12.5", "0.21", "grid", received=day(1, 5))  # 2.625
    battery.sell(day(1, 20), "40.125", "0.185", "grid", received=day(1, 20))  # 7.423125 -> 7.42
    battery.sell(day(1, 21), "3", "0.095", "spot", received=day(1, 21))  # 0.285 -> 0.29
    world.bill(day(2, 1, 0))
    # 12.5 x 0.21 = 2.625 -> 2.63; revenue 7.42 + 2.63 + 0.29 = 10.34; 30 % = 3.102 -> 3.10.
    january = close(world, "acme", day(1, 1, 0))
    assert january == [
        ("fixed_fee", "monitoring", "4.90"),
        ("credit", "sub-1/sales/2026-01-01T00:00:00+00:00/1/b1/credit", "-3.10"),
    ]
    (acme_jan,) = [i for i in world.invoices("acme") if i.kind == "close"]
    # Before tax: (4.90 - 3.10) x 19 % = 0.342 -> 0.34.
    assert (acme_jan.subtotal, acme_jan.tax, acme_jan.total) == (
        Decimal("1.80"),
        Decimal("0.34"),
        Decimal("2.14"),
    )
    assert acme_jan.lines[1].description == (
        "30 % share of 10.34 EUR sold from b1, 2026-01-01 to 2026-02-01"
    )
    grid = next(i for i in world.invoices("grid-op") if i.kind == "close")
    shown = [(x.kind, str(x.quantity), str(x.unit_price), str(x.amount)) for x in grid.lines]
    assert shown == [
        ("fixed_fee", "1", "10.00", "10.00"),
        ("one_off", "40.125", "0.185", "7.42"),
        ("one_off", "12.5", "0.21", "2.63"),
    ]
    assert grid.lines[2].description == "kWh bought from b1 at 0.21 EUR, 2026-01-01 to 2026-02-01"

    battery.sell(day(2, 10), "10", "0.2", "grid", received=day(2, 10))  # 2.00
    battery.sell(day(1, 30), "5", "0.21", "grid", received=day(2, 15))  # late: 1.05
    battery.sell(day(1, 31), "1", "0.10", "spot", received=day(2, 16))  # late, paid directly
    world.bill(day(3, 1, 0))
    # February: 2.00, 30 % = 0.60. Late January: 1.05 + 0.10 = 1.15, 30 % = 0.345 -> 0.35.
    assert close(world, "acme", day(2, 1, 0)) == [
        ("fixed_fee", "monitoring", "4.90"),
        ("credit", "sub-1/sales/2026-01-01T00:00:00+00:00/2/b1/credit", "-0.35"),
        ("credit", "sub-1/sales/2026-02-01T00:00:00+00:00/1/b1/credit", "-0.60"),
    ]
    late_credit = [i for i in world.invoices("acme") if i.kind == "close"][1].lines[1]
    assert late_credit.description == (
        "Late sale: 30 % share of 1.15 EUR sold from b1, 2026-01-01 to 2026-02-01"
    )
    assert close(world, "grid-op", day(2, 1, 0)) == [
        ("fixed_fee", "account", "10.00"),
        ("one_off", "sub-1/sales/2026-01-01T00:00:00+00:00/2/b1/grid/001", "1.05"),
        ("one_off", "sub-1/sales/2026-02-01T00:00:00+00:00/1/b1/grid/001", "2.00"),
    ]

    world.bill(day(4, 1, 0))
    world.bill(day(4, 1, 0))  # again: nothing twice
    assert close(world, "acme", day(3, 1, 0)) == [("fixed_fee", "monitoring", "4.90")]
    assert close(world, "grid-op", day(3, 1, 0)) == [("fixed_fee", "account", "10.00")]

    with world.open(TENANT) as uow:
        entries = uow.credits.entries()
        settlements = uow.sharing.settlements("acme")
    assert [(s.period.start.month, s.number) for s in settlements] == [
        (1, 1),
        (1, 2),
        (2, 1),
        (3, 1),
    ]
    totals = balances(entries)
    assert sum(totals.values()) == 0 and totals[ASSET_SALES] == 0
    # Sold: 10.34 + 1.15 + 2.00 = 13.49 = credits 3.10 + 0.35 + 0.60 = 4.05 + operator 9.44.
    sold = -totals["customer:grid-op:receivable"] - totals[MARKET_RECEIPTS]
    assert sold == Decimal("13.49")
    assert totals["customer:acme:revenue_share"] == 0  # every share credited on an invoice
    assert totals["customer:acme:receivable"] == Decimal("4.05")
    assert totals[OPERATOR_REVENUE] == Decimal("9.44")
    assert totals[MARKET_RECEIPTS] == Decimal("-0.39")  # 0.29 + 0.10, paid to the operator

    statement = payout_statement(world.open(TENANT), customer="acme", period=day(1, 15).date())
    view = statement.as_json()
    (asset,) = view["assets"]
    assert [
        (s["buyer"], s["price"], s["quantity"], s["amount"], s["late"]) for s in asset["sold"]
    ] == [
        ("grid", "0.185", "40.125", "7.42", False),
        ("grid", "0.21", "12.5", "2.63", False),
        ("spot", "0.095", "3", "0.29", False),
        ("grid", "0.21", "5", "1.05", True),
        ("spot", "0.10", "1", "0.10", True),
    ]
    assert (asset["revenue"], asset["credit"], asset["operator"]) == ("11.49", "3.45", "8.04")
    assert view["share"] == ["30"] and view["totals"]["credit"] == "3.45"


def test_a_buyer_in_another_currency_the_owner_or_unknowns_are_refused_and_nothing_is_stored(
    battery: Battery,
) -> None:
    open_uow, at = battery.world.open, day(1, 2)
    with pytest.raises(InvalidInput) as error:
        register_buyer(open_uow(TENANT), device="b1", buyer="us", customer="us-grid", at=at)
    assert str(error.value) == (
        "customer: 'us-grid' is billed in USD, but the asset's plan is in EUR: a buyer is"
        " invoiced in the owner's plan currency (there is no currency conversion)"
    )
    with pytest.raises(InvalidInput, match="'acme' owns the asset"):
        register_buyer(open_uow(TENANT), device="b1", buyer="self", customer="acme", at=at)
    with pytest.raises(NotFound, match="unknown device 'b9'"):
        register_buyer(open_uow(TENANT), device="b9", buyer="grid", customer="grid-op", at=at)
    with pytest.raises(NotFound, match="unknown customer 'nobody'"):
        register_buyer(open_uow(TENANT), device="b1", buyer="x", customer="nobody", at=at)
    with pytest.raises(Conflict, match="device 'b1' has a buyer 'grid' already"):
        register_buyer(open_uow(TENANT), device="b1", buyer="grid", customer="grid-op", at=at)
    battery.world.device("b2", "grid-op", day(1, 1, 0))
    with pytest.raises(Conflict, match="its plan needs a sharing section"):
        register_buyer(open_uow(TENANT), device="b2", buyer="grid", customer=None, at=at)
    assert [(b.device_id, b.code) for b in list_buyers(open_uow(TENANT))] == [
        ("b1", "grid"),
        ("b1", "spot"),
    ]
    with pytest.raises(NotFound, match="unknown customer 'nobody'"):
        payout_statement(open_uow(TENANT), customer="nobody", period=at.date())
    with pytest.raises(NotFound, match="unknown device 'b9'"):
        payout_statement(open_uow(TENANT), customer="acme", period=at.date(), device="b9")
    with pytest.raises(InvalidInput, match="device 'b2' never belonged to 'acme'"):
        payout_statement(open_uow(TENANT), customer="acme", period=at.date(), device="b2")


def test_a_period_with_a_bad_sale_is_held_until_it_is_corrected(battery: Battery) -> None:
    world = battery.world
    battery.sell(day(1, 5), "2", "0.5", "grid", received=day(1, 5))
    battery.sell(day(1, 6), "1", "0.5", "aggregator", received=day(1, 6))
    report = world.bill(day(2, 1, 0))
    assert [(held.subscription, held.reason) for held in report.held] == [
        (
            "sub-1",
            "sales of [2026-01-01T00:00:00+00:00, 2026-02-01T00:00:00+00:00) not settled:"
            " event 'sale-2': buyer 'aggregator' is not registered for device 'b1'",
        )
    ]
    assert close(world, "acme", day(1, 1, 0)) == [("fixed_fee", "monitoring", "4.90")]
    register_buyer(
        world.open(TENANT), device="b1", buyer="aggregator", customer="grid-op", at=day(2, 2)
    )
    settled = settle_sales(world.open(TENANT), as_of=day(2, 2), now=day(2, 2))
    assert [(s.number, [str(line.amount) for line in s.lines]) for s in settled.settled] == [
        (1, ["0.50", "1.00"])
    ]
    world.bill(day(3, 1, 0))
    # 1.50 at 30 % = 0.45, on the next invoice.
    assert close(world, "acme", day(2, 1, 0)) == [
        ("fixed_fee", "monitoring", "4.90"),
        ("credit", "sub-1/sales/2026-01-01T00:00:00+00:00/1/b1/credit", "-0.45"),
    ]


def test_a_settled_sale_corrected_later_holds_its_period_and_is_not_billed_twice(
    battery: Battery,
) -> None:
    world = battery.world
    battery.sell(day(1, 5), "5", "0.21", "grid", received=day(1, 5))  # sale-1: 1.05
    world.bill(day(2, 1, 0))
    # 5 x 0.21 = 1.05 billed to grid-op; 30 % = 0.315 -> 0.32 credited to acme.
    assert close(world, "grid-op", day(1, 1, 0))[1:] == [
        ("one_off", "sub-1/sales/2026-01-01T00:00:00+00:00/1/b1/grid/001", "1.05")
    ]
    assert close(world, "acme", day(1, 1, 0))[1:] == [
        ("credit", "sub-1/sales/2026-01-01T00:00:00+00:00/1/b1/credit", "-0.32")
    ]
    correction = UsageEvent(
        "fix-1",
        "capacity.sold",
        "b1",
        day(1, 5),
        {"kwh": Decimal("6"), "price": Decimal("0.21"), "buyer": "grid"},
        corrects="sale-1",
    )
    world.clock.set(day(2, 10))
    assert ingest(world.open, TENANT, [SourcedEvent(correction, 1)], clock=world.clock).accepted
    battery.sell(day(1, 30), "1", "0.21", "grid", received=day(2, 15))  # late, held too

    report = world.bill(day(3, 1, 0))
    report_again = world.bill(day(3, 1, 0))

    held = (
        "sub-1",
        "sales of [2026-01-01T00:00:00+00:00, 2026-02-01T00:00:00+00:00) not settled:"
        " event 'sale-1' (settled by 'sub-1/sales/2026-01-01T00:00:00+00:00/1') was corrected"
        " or voided by 'fix-1' since: a settled sale is not reversed, so the period is held"
        " (its later sales too); bill the difference by hand, with one-off charges",
    )
    assert [(h.subscription, h.reason) for h in report.held] == [held]
    assert [(h.subscription, h.reason) for h in report_again.held] == [held]
    # Not 1.05 + 1.26: the correction is not billed as a late sale, nor the late one.
    assert close(world, "grid-op", day(2, 1, 0)) == [("fixed_fee", "account", "10.00")]
    assert close(world, "acme", day(2, 1, 0)) == [("fixed_fee", "monitoring", "4.90")]
    with world.open(TENANT) as uow:
        totals = balances(uow.credits.entries())
        settled = [(s.period.start.month, s.number) for s in uow.sharing.settlements("acme")]
    assert settled == [(1, 1), (2, 1)]
    assert sum(totals.values()) == 0 and totals[ASSET_SALES] == 0
    # Sold 1.05 = acme's credit 0.32 + the operator's 0.73, once.
    assert totals["customer:grid-op:receivable"] == Decimal("-1.05")
    assert totals["customer:acme:receivable"] == Decimal("0.32")
    assert totals[OPERATOR_REVENUE] == Decimal("0.73")


def test_a_settled_sale_voided_later_holds_its_period(battery: Battery) -> None:
    world = battery.world
    battery.sell(day(1, 5), "5", "0.21", "grid", received=day(1, 5))
    world.bill(day(2, 1, 0))
    void = UsageEvent("void-1", "capacity.sold", "b1", day(1, 5), voids="sale-1")
    world.clock.set(day(2, 10))
    assert ingest(world.open, TENANT, [SourcedEvent(void, 1)], clock=world.clock).accepted

    report = world.bill(day(3, 1, 0))

    (held,) = report.held
    assert "event 'sale-1' (settled by 'sub-1/sales/2026-01-01T00:00:00+00:00/1') was" in (
        held.reason
    )
    assert "corrected or voided by 'void-1' since" in held.reason
    assert close(world, "grid-op", day(2, 1, 0)) == [("fixed_fee", "account", "10.00")]
