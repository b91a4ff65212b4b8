"""The outcome-commitment demo: irrigation water billed by the cubic metre, with a monthly
commitment and a ceiling, from mid-January to the end of April 2026.

Both farms start on 16 January, so January's commitment is prorated to about
half. Their pumps' seasonal telemetry falls short of the commitment in winter
and rises through spring; the farm in Chicago runs two pumps and reaches the
ceiling first.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from iotbill.demo.models import ModelDemo, template
from iotbill.demo.scenario import DemoCustomer
from iotbill.demo.telemetry import seasonal_pump_flow

DEMO = ModelDemo(
    name="outcome-commitment",
    story=(
        "A pump maker sells irrigation water by the cubic metre, and the farm guarantees it a"
        " minimum spend each month, capped by a ceiling for dry summers. A month that falls"
        " short bills a true-up, a month past the ceiling is credited the excess."
    ),
    plan=template("outcome-commitment"),
    customers=(
        DemoCustomer(
            id="valley-farms",
            name="Valley Farms",
            currency="USD",
            timezone="UTC",
            tax_rate="0",
            locale="en_US",
            address="1 Orchard Lane, Salinas CA",
            plan="water-outcome",
            devices=("pump-11",),
            telemetry=seasonal_pump_flow,
        ),
        DemoCustomer(
            id="prairie-coop",
            name="Prairie Growers Co-op",
            currency="USD",
            timezone="America/Chicago",
            tax_rate="8.25",
            locale="en_US",
            address="7 Grain Elevator Rd, Peoria IL",
            plan="water-outcome",
            devices=("pump-21", "pump-22"),
            telemetry=seasonal_pump_flow,
        ),
    ),
    start=date(2026, 1, 16),
    bill_at=tuple(datetime(2026, month, 1, 12, tzinfo=UTC) for month in (2, 3, 4, 5)),
)
