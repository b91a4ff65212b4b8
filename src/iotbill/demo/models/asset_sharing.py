"""Asset sharing: home batteries sell their spare capacity; the owners get 30 %.

Two households near Leipzig have batteries on ``examples/models/asset-sharing.yaml``
from 1 January 2026: 4.90 a month for monitoring, and 30 % of what their batteries sell
credited on their invoices, before tax. In the evening peak each battery now and then
sells a few kWh, mostly to the grid operator Netz Ost, a customer on
``asset-sharing-buyer.yaml`` (25.00 a month) invoiced for each battery and price of what it
bought, else on the spot market, which pays the operator directly. On 15 February a sale of
31 January that a battery could not report in time arrives: it is settled late, credited
and invoiced on the February invoices. The bill runs on the first of each month until 1 April.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from iotbill.adapters.clock import FrozenClock
from iotbill.adapters.plan_files import parse_plan_document
from iotbill.demo.models import ModelDemo, Step, template
from iotbill.demo.scenario import DemoCustomer
from iotbill.demo.telemetry import capacity_sales
from iotbill.domain.events import SourcedEvent, UsageEvent
from iotbill.services.catalog import apply_plan
from iotbill.services.customers import add_customer
from iotbill.services.ingest import ingest
from iotbill.services.ports import UnitOfWorkFactory
from iotbill.services.sharing import register_buyer
from iotbill.services.subscriptions import create_subscription

START = date(2026, 1, 1)
BILL_AT = tuple(datetime(2026, month, 1, 12, tzinfo=UTC) for month in (1, 2, 3, 4))
BATTERIES = ("battery-01", "battery-02", "battery-03")
LATE_AT = datetime(2026, 2, 15, 9, tzinfo=UTC)


def _grid_operator(open_uow: UnitOfWorkFactory, tenant: str) -> None:
    """Netz Ost, on its buyer plan from 1 January, buys from every battery as ``grid``; the
    spot market buys as ``spot`` and pays the operator directly."""
    buyer = template("asset-sharing-buyer")
    at = BILL_AT[0]
    apply_plan(
        open_uow(tenant), parse_plan_document(buyer.read_text(), buyer.name), FrozenClock(at)
    )
    add_customer(
        open_uow(tenant),
        id="netz-ost",
        name="Netz Ost GmbH",
        currency="EUR",
        timezone="Europe/Berlin",
        billing_address="Netzstraße 1, Leipzig",
        tax_rate="19",
        locale="de_DE",
    )
    create_subscription(open_uow(tenant), customer="netz-ost", plan="capacity-buyer", start=START)
    for battery in BATTERIES:
        register_buyer(open_uow(tenant), device=battery, buyer="grid", customer="netz-ost", at=at)
        register_buyer(open_uow(tenant), device=battery, buyer="spot", customer=None, at=at)


def _late_sale(open_uow: UnitOfWorkFactory, tenant: str) -> None:
    """A sale of the evening of 31 January, reported on 15 February."""
    sale = UsageEvent(
        "battery-01/late-sale/2026-01-31",
        "capacity.sold",
        "battery-01",
        datetime(2026, 1, 31, 18, 20, tzinfo=UTC),
        {"kwh": Decimal("6.400"), "price": Decimal("0.3125"), "buyer": "grid"},
    )
    ingest(open_uow, tenant, [SourcedEvent(sale, 1)], clock=FrozenClock(LATE_AT))


def _owner(id: str, name: str, address: str, devices: tuple[str, ...]) -> DemoCustomer:
    return DemoCustomer(
        id,
        name,
        "EUR",
        "Europe/Berlin",
        "19",
        "de_DE",
        address,
        "battery-sharing",
        devices,
        capacity_sales,
    )


DEMO = ModelDemo(
    name="asset-sharing",
    story="A home battery sells its spare capacity to the grid: the grid operator is invoiced "
    "for what it bought, and the owner is credited 30 % of every sale on its own invoice.",
    plan=template("asset-sharing"),
    customers=(
        _owner("weber-home", "Familie Weber", "Lindenweg 4, Leipzig", BATTERIES[:1]),
        _owner("kaya-bakery", "Bäckerei Kaya", "Marktplatz 9, Markkleeberg", BATTERIES[1:]),
    ),
    start=START,
    bill_at=BILL_AT,
    steps=(Step(BILL_AT[0], _grid_operator), Step(LATE_AT, _late_sale)),
)
