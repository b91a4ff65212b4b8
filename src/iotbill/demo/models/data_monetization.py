"""Data monetization: building energy readings sold, aggregated and k-anonymous, to a utility.

Five building owners in Berlin have energy monitors on ``examples/models/data-monetization.yaml``
from 1 January 2026 (12.00 EUR a month); each monitor reports the kWh used every hour, with its
building's region and type. Four owners consent to their data being sold from 1 January; the
Isar flats never do, and the Elbe bakery withdraws on 15 February. A utility subscribes to the
data feed of ``data-monetization-buyer.yaml`` (250.00 EUR a month) and exports the product
``energy-by-region-hourly`` (k = 3, 0.02 EUR a record, 30 % to the owners) after each month:
January's north cells come from three owners and are delivered, the south's (one consenting
owner) are suppressed; after the bakery withdraws, the north has two and is suppressed too.
Each export, made the morning after its month's invoices were issued, is billed on the
utility's next invoice, and each owner's share is a credit line on its own. The bill runs on
the first of each month until 1 April.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from iotbill.adapters.clock import FrozenClock
from iotbill.adapters.plan_files import parse_plan_document
from iotbill.demo.models import ModelDemo, Step, template
from iotbill.demo.scenario import DemoCustomer
from iotbill.demo.telemetry import building_energy
from iotbill.services.catalog import apply_plan
from iotbill.services.customers import add_customer
from iotbill.services.data_products import export_data, give_consent, withdraw_consent
from iotbill.services.ports import UnitOfWorkFactory
from iotbill.services.subscriptions import create_subscription

BILL_AT = tuple(datetime(2026, month, 1, 12, tzinfo=UTC) for month in (1, 2, 3, 4))
JANUARY, FEBRUARY, MARCH = (datetime(2026, month, 1, tzinfo=UTC) for month in (1, 2, 3))
WITHDRAWN = datetime(2026, 2, 15, tzinfo=UTC)
BUYER = "stadtnetz"
PRODUCT = "energy-by-region-hourly"
CONSENTING = ("em-01", "em-02", "em-03", "em-04", "em-05")


def _owner(
    id: str, name: str, address: str, devices: tuple[str, ...], region: str, kind: str
) -> DemoCustomer:
    return DemoCustomer(
        id, name, "EUR", "Europe/Berlin", "19", "de_DE", address, "energy-monitor", devices,
        building_energy(region, kind),
    )  # fmt: skip


OWNERS = (
    _owner("bauhaus-offices", "Bauhaus Offices GmbH", "Nordufer 3, Berlin",
           ("em-01", "em-02"), "north", "office"),
    _owner("nordhafen-apartments", "Nordhafen Apartments", "Nordhafen 7, Berlin",
           ("em-03",), "north", "home"),
    _owner("elbe-bakery", "Elbe Bäckerei", "Elbestrasse 12, Berlin",
           ("em-04",), "north", "shop"),
    _owner("suedpark-school", "Schule am Südpark", "Südpark 1, Berlin",
           ("em-05",), "south", "office"),
    _owner("isar-flats", "Isar Flats", "Isarweg 4, Berlin",
           ("em-06",), "south", "home"),
)  # fmt: skip


def _utility_subscribes(open_uow: UnitOfWorkFactory, tenant: str) -> None:
    """The utility's plan, the utility, its subscription; and the owners' consents."""
    buyer_plan = template("data-monetization-buyer")
    document = parse_plan_document(buyer_plan.read_text(), buyer_plan.name)
    apply_plan(open_uow(tenant), document, FrozenClock(JANUARY))
    add_customer(
        open_uow(tenant),
        id=BUYER,
        name="Stadtnetz Energie AG",
        currency="EUR",
        timezone="Europe/Berlin",
        billing_address="Netzallee 1, Berlin",
        tax_rate="19",
        locale="de_DE",
    )
    create_subscription(
        open_uow(tenant), customer=BUYER, plan="utility-data", start=date(2026, 1, 1)
    )
    for device in CONSENTING:
        give_consent(open_uow(tenant), device, at=JANUARY)


def _export(start: datetime, end: datetime) -> Step:
    """The utility exports the product over ``[start, end)`` the morning after."""

    def act(open_uow: UnitOfWorkFactory, tenant: str) -> None:
        if end == MARCH:
            withdraw_consent(open_uow(tenant), "em-04", at=WITHDRAWN)
        export_data(
            open_uow(tenant),
            product=PRODUCT,
            buyer=BUYER,
            start=start,
            end=end,
            format="parquet",
            at=end.replace(hour=6),
            deliver=lambda product, cells: None,  # iotbill data export writes the file
        )

    return Step(end.replace(hour=12), act)


DEMO = ModelDemo(
    name="data-monetization",
    story="Building energy monitors are sold for a monthly fee; with the owners' consent, "
    "their readings are sold to a utility, aggregated so that no cell shows fewer than three "
    "owners, billed per record, and the owners are credited a share.",
    plan=template("data-monetization"),
    customers=OWNERS,
    start=date(2026, 1, 1),
    bill_at=BILL_AT,
    steps=(
        Step(BILL_AT[0], _utility_subscribes),
        _export(JANUARY, FEBRUARY),
        _export(FEBRUARY, MARCH),
    ),
)
