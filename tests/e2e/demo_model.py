"""A business-model demo for the frame's own tests: pumps billed for water moved, and a
spare part sold by a one-off charge in the second month."""

from __future__ import annotations

from datetime import UTC, date, datetime
from importlib.resources import files

from iotbill.demo.models import ModelDemo, Step
from iotbill.demo.scenario import DemoCustomer
from iotbill.demo.telemetry import pump_flow
from iotbill.services.one_off_charges import add_one_off_charge
from iotbill.services.ports import UnitOfWorkFactory


def _spare_part(open_uow: UnitOfWorkFactory, tenant: str) -> None:
    add_one_off_charge(
        open_uow(tenant),
        customer="lakeside",
        description="Spare impeller",
        amount="74.50",
        quantity="2",
        at=datetime(2026, 2, 10, tzinfo=UTC),
    )


DEMO = ModelDemo(
    name="pump-test",
    story="A utility pays for water moved. It buys two spare impellers in February.",
    plan=files("iotbill.demo") / "plans" / "pump-outcome.yaml",
    customers=(
        DemoCustomer(
            "lakeside",
            "Lakeside Water",
            "USD",
            "UTC",
            "0",
            "en_US",
            "1 Lake Rd",
            "pump-outcome",
            ("pump-1",),
            pump_flow,
        ),
    ),
    start=date(2026, 1, 1),
    bill_at=(
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 2, 1, tzinfo=UTC),
        datetime(2026, 3, 1, tzinfo=UTC),
    ),
    steps=(Step(datetime(2026, 2, 10, tzinfo=UTC), _spare_part),),
)
