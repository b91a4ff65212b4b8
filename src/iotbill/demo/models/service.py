"""Service: pumps monitored for a monthly fee, a technician sent when they shake, a late
visit credited.

Two water companies have pumps on ``examples/models/service.yaml`` from 1 January 2026:
49.00 a month each, labour at 90.00 an hour in started quarter hours, a bearing 18.50 or a
seal 7.25 fitted, and the technician on site within 4 hours of the work order's opening,
or 10 % (more than 4 h) or 25 % (more than 8 h) of the month's fees credited. Each pump
reports its vibration every hour (:class:`~iotbill.demo.vibration.PumpVibration`);
the alert job runs every six hours and opens a work order when a pump stays above 7 mm/s for 10
minutes. The technician is dispatched 20 minutes after a work order opens and is on site
1 h 45 min to 3 h 15 min after it opened, but for the tenant's second work order, reached
after 9 h 20 min: a late visit. The bill runs on the first of each month until 1 April.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from iotbill.demo.models import ModelDemo, Step, template
from iotbill.demo.scenario import DemoCustomer
from iotbill.demo.vibration import PumpVibration
from iotbill.domain.models.work_orders import WorkOrder
from iotbill.services.alerts import run_alerts
from iotbill.services.ports import UnitOfWorkFactory
from iotbill.services.work_orders import (
    arrive_work_order,
    dispatch_work_order,
    list_work_orders,
    resolve_work_order,
)

START = datetime(2026, 1, 1, tzinfo=UTC)
BILL_AT = tuple(datetime(2026, month, 1, 12, tzinfo=UTC) for month in (1, 2, 3, 4))
JOB_EVERY = timedelta(hours=6)
DISPATCHED_AFTER = timedelta(minutes=20)
LATE = 2
"""The tenant's work order (by opening) that the technician reaches late."""


def response(number: int) -> timedelta:
    """How long after opening the technician reaches the ``number``-th work order."""
    if number == LATE:
        return timedelta(hours=9, minutes=20)
    return timedelta(hours=1, minutes=45 + 30 * (number % 4))


def stay(number: int) -> timedelta:
    """How long the technician works on site."""
    return timedelta(minutes=40 + 25 * (number % 3))


def parts(number: int) -> dict[str, int]:
    """What the technician fits: a bearing, a seal, or nothing."""
    return [{"bearing": 1}, {"seal": 1}, {}][number % 3]


def _move(
    open_uow: UnitOfWorkFactory, tenant: str, number: int, order: WorkOrder, now: datetime
) -> None:
    """Take the steps of the ``number``-th work order due by ``now``."""
    if order.status == "open" and order.opened_at + DISPATCHED_AFTER <= now:
        order = dispatch_work_order(
            open_uow(tenant), order.id, at=order.opened_at + DISPATCHED_AFTER
        )
    arrival = order.opened_at + response(number)
    if order.status == "dispatched" and arrival <= now:
        order = arrive_work_order(open_uow(tenant), order.id, at=arrival)
    if order.status == "on_site" and order.on_site_at is not None:
        done = order.on_site_at + stay(number)
        if done <= now:
            resolve_work_order(open_uow(tenant), order.id, at=done, parts=parts(number))


def _hours_until(end: datetime) -> Step:
    """The month before ``end``, every six hours: the technicians' steps due, then the alert
    job (the readings after each hour are stored already, and the job ignores them, as it
    would have then)."""

    def act(open_uow: UnitOfWorkFactory, tenant: str) -> None:
        now = max(at for at in (START, *BILL_AT) if at < end)
        while now <= end:
            for number, order in enumerate(list_work_orders(open_uow(tenant)), start=1):
                if order.status != "resolved":
                    _move(open_uow, tenant, number, order, now)
            run_alerts(open_uow(tenant), as_of=now)
            now += JOB_EVERY

    return Step(end, act)


DEMO = ModelDemo(
    name="service",
    story="A pump is monitored for a monthly fee; when it shakes, a technician is sent and "
    "the visit's labour and parts are billed on the next invoice, and a visit later than "
    "the 4 hours promised credits part of the month's fee.",
    plan=template("service"),
    customers=(
        DemoCustomer(
            "riverside-water",
            "Riverside Water Co.",
            "USD",
            "America/Chicago",
            "8.25",
            "en_US",
            "200 River Rd, St. Louis MO",
            "service",
            ("pump-p300-01", "pump-p300-02"),
            PumpVibration(),
        ),
        DemoCustomer(
            "hillcrest-farms",
            "Hillcrest Farms",
            "USD",
            "America/Denver",
            "0",
            "en_US",
            "9 Ridge Way, Boulder CO",
            "service",
            ("pump-p300-03",),
            PumpVibration(),
        ),
    ),
    start=date(2026, 1, 1),
    bill_at=BILL_AT,
    steps=tuple(_hours_until(at) for at in BILL_AT[1:]),
)
