"""Lease: pumps leased for 36 months; one lease ended early, one bought out at term end.

Two fish farms lease a pump of ``examples/models/lease.yaml`` from 1 January 2026 (Chicago
time): 120.00 a month, 0.10 per SMS alert, a term of 36 months, half the fees left in the
term to end early, a buy-out of 300.00 at term end. Harbor Aquaculture ends its lease with
effect at the end of October 2026, the 10th month: its last invoice bills 0.5 x 26 x 120.00
= 1,560.00. Delta Fisheries leases to the end and buys the pump on 1 January 2029: its final
invoice bills 300.00 and no lease fee follows. The bill runs once a quarter, catching up.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from iotbill.demo.models import ModelDemo, Step, template
from iotbill.demo.scenario import DemoCustomer
from iotbill.demo.telemetry import pump_alerts
from iotbill.services.ports import UnitOfWorkFactory
from iotbill.services.subscriptions import (
    buy_out_subscription,
    cancel_subscription,
    list_subscriptions,
)


def _lease_of(open_uow: UnitOfWorkFactory, tenant: str, customer: str) -> str:
    (subscription,) = list_subscriptions(open_uow(tenant), customer=customer)
    return subscription.id


def _harbor_ends_early(open_uow: UnitOfWorkFactory, tenant: str) -> None:
    lease = _lease_of(open_uow, tenant, "harbor-aquaculture")
    cancel_subscription(open_uow(tenant), lease, timing="period_end", at=date(2026, 10, 15))


def _delta_buys_the_pump(open_uow: UnitOfWorkFactory, tenant: str) -> None:
    lease = _lease_of(open_uow, tenant, "delta-fisheries")
    buy_out_subscription(open_uow(tenant), lease, at=date(2029, 1, 1))


def _quarters(first: int, last: int) -> tuple[datetime, ...]:
    return tuple(
        datetime(year, month, 1, 12, tzinfo=UTC)
        for year in range(first, last + 1)
        for month in (1, 4, 7, 10)
    )


DEMO = ModelDemo(
    name="lease",
    story="A pump maker leases its pumps for 36 months at a monthly fee; ending a lease early "
    "costs half the fees left in the term. At term end the customer may buy the pump, and "
    "then owns it and pays no more lease fees.",
    plan=template("lease"),
    customers=(
        DemoCustomer(
            "harbor-aquaculture",
            "Harbor Aquaculture LLC",
            "USD",
            "America/Chicago",
            "0",
            "en_US",
            "2 Dock St, Duluth MN",
            "lease",
            ("pump-lease-01",),
            pump_alerts,
        ),
        DemoCustomer(
            "delta-fisheries",
            "Delta Fisheries Inc.",
            "USD",
            "America/Chicago",
            "0",
            "en_US",
            "9 Levee Rd, Memphis TN",
            "lease",
            ("pump-lease-02",),
            pump_alerts,
        ),
    ),
    start=date(2026, 1, 1),
    bill_at=(*_quarters(2026, 2028), datetime(2029, 1, 1, 12, tzinfo=UTC)),
    steps=(
        Step(datetime(2026, 10, 15, 12, tzinfo=UTC), _harbor_ends_early),
        Step(datetime(2028, 12, 15, 12, tzinfo=UTC), _delta_buys_the_pump),
    ),
)
