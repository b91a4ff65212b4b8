"""Retail sale in instalments: a pump sold outright, paid in three parts, monitored monthly.

Two farms buy the pump of ``examples/models/retail-instalments.yaml`` on 1 January 2026
(Chicago time): 1,000.00 in three monthly instalments, 150.00 of installation, 15.00 a month
of monitoring and 0.10 per SMS alert. Prairie Irrigation keeps the service; Dune Greenhouses
cancels at once on 20 February, so its cancellation invoice bills the last part still owed
(``on_cancel: bill_remaining``) and credits the unused monitoring.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from iotbill.demo.models import ModelDemo, Step, template
from iotbill.demo.scenario import DemoCustomer
from iotbill.demo.telemetry import pump_alerts
from iotbill.services.ports import UnitOfWorkFactory
from iotbill.services.subscriptions import cancel_subscription, list_subscriptions


def _dune_cancels(open_uow: UnitOfWorkFactory, tenant: str) -> None:
    (subscription,) = list_subscriptions(open_uow(tenant), customer="dune-greenhouses")
    cancel_subscription(
        open_uow(tenant),
        subscription.id,
        timing="immediate",
        at=datetime(2026, 2, 20, 18, tzinfo=UTC),  # noon in Chicago
    )


DEMO = ModelDemo(
    name="retail-instalments",
    story="A pump maker sells its pumps outright, payable in three monthly instalments, with "
    "installation once and remote monitoring every month. A customer who cancels early pays "
    "the instalments still owed on its final invoice.",
    plan=template("retail-instalments"),
    customers=(
        DemoCustomer(
            "prairie-irrigation",
            "Prairie Irrigation LLC",
            "USD",
            "America/Chicago",
            "0",
            "en_US",
            "12 County Rd, Ames IA",
            "retail-instalments",
            ("pump-p200-01",),
            pump_alerts,
        ),
        DemoCustomer(
            "dune-greenhouses",
            "Dune Greenhouses Inc.",
            "USD",
            "America/Chicago",
            "0",
            "en_US",
            "4 Sand Hill Rd, Gary IN",
            "retail-instalments",
            ("pump-p200-02",),
            pump_alerts,
        ),
    ),
    start=date(2026, 1, 1),
    bill_at=(
        datetime(2026, 1, 1, 12, tzinfo=UTC),
        datetime(2026, 2, 1, 12, tzinfo=UTC),
        datetime(2026, 3, 1, 12, tzinfo=UTC),
        datetime(2026, 4, 1, 12, tzinfo=UTC),
    ),
    steps=(Step(datetime(2026, 2, 20, 18, tzinfo=UTC), _dune_cancels),),
)
