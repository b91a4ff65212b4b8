"""Razor blade: printers whose ink is reordered before it runs out, once per cartridge.

Two offices have printers on ``examples/models/razor-blade.yaml`` from 1 January 2026:
9.00 a month, and ink ordered 3 days before its forecast run-out at 24.90 an order. Each
printer reports its level every six hours and uses 3.5 to 6.5 points a working day at its
own pace. The reorder job runs every midnight; the courier ships an order the day after it
is placed and delivers it the day after that, and the office puts the new cartridge in when
the old one runs dry. Each order is billed on the invoice that closes its month; the bill
runs on the first of each month until 1 May.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from iotbill.demo.models import ModelDemo, Step, template
from iotbill.demo.scenario import DemoCustomer
from iotbill.demo.telemetry import InkLevels
from iotbill.services.orders import deliver_order, list_orders, run_reorders, ship_order
from iotbill.services.ports import UnitOfWorkFactory

BILL_AT = tuple(datetime(2026, month, 1, 12, tzinfo=UTC) for month in (1, 2, 3, 4, 5))
DAY = timedelta(days=1)


def _days_until(end: datetime) -> Step:
    """The month before ``end``, day by day: the courier's round, then the reorder job at
    midnight (the readings after each midnight are stored already, and the job ignores
    them, as it would have then)."""

    def act(open_uow: UnitOfWorkFactory, tenant: str) -> None:
        day = max(at for at in (datetime(2026, 1, 1, tzinfo=UTC), *BILL_AT) if at < end)
        day = day.replace(hour=0)
        while day <= end:
            for order in list_orders(open_uow(tenant)):
                if order.status == "placed" and order.placed_at + DAY <= day:
                    ship_order(open_uow(tenant), order.id, at=day)
                elif order.status == "shipped" and order.changed_at + DAY <= day:
                    deliver_order(open_uow(tenant), order.id, at=day)
            run_reorders(open_uow(tenant), as_of=day)
            day += DAY

    return Step(end, act)


DEMO = ModelDemo(
    name="razor-blade",
    story="A printer is serviced for a monthly fee and its ink is sold as it is used: before "
    "a cartridge runs out, the next one is ordered, exactly once, and billed on the next "
    "invoice.",
    plan=template("razor-blade"),
    customers=(
        DemoCustomer(
            "harbor-law",
            "Harbor Law Partners",
            "USD",
            "America/New_York",
            "8.875",
            "en_US",
            "12 Pearl St, New York NY",
            "razor-blade",
            ("printer-01", "printer-02"),
            InkLevels(),
        ),
        DemoCustomer(
            "lakeside-clinic",
            "Lakeside Clinic",
            "USD",
            "America/Chicago",
            "0",
            "en_US",
            "400 Lake Ave, Madison WI",
            "razor-blade",
            ("printer-03",),
            InkLevels(),
        ),
    ),
    start=date(2026, 1, 1),
    bill_at=BILL_AT,
    steps=tuple(_days_until(at) for at in BILL_AT[1:]),
)
