"""The pay-per-mile demo: car insurance billed by the mile from March to May 2026.

Two drivers, in Chicago and Denver, each with one car: a base rate each month in
advance, the month's miles in arrears with the miles above 250 in a local day
free, and the price per mile scaled by how often each driver brakes hard.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from iotbill.demo.models import ModelDemo, template
from iotbill.demo.scenario import DemoCustomer
from iotbill.demo.telemetry import car_trips

DEMO = ModelDemo(
    name="pay-per-mile",
    story=(
        "An insurer charges drivers a small base rate and a price per mile, so a car that stays"
        " home costs little. Road-trip days are capped at 250 miles, and drivers who brake hard"
        " often pay more per mile."
    ),
    plan=template("pay-per-mile"),
    customers=(
        DemoCustomer(
            id="dana-reyes",
            name="Dana Reyes",
            currency="USD",
            timezone="America/Chicago",
            tax_rate="0",
            locale="en_US",
            address="12 Elm St, Evanston IL",
            plan="pay-per-mile",
            devices=("car-dana",),
            telemetry=car_trips,
        ),
        DemoCustomer(
            id="sam-okafor",
            name="Sam Okafor",
            currency="USD",
            timezone="America/Denver",
            tax_rate="0",
            locale="en_US",
            address="480 Pine Ave, Boulder CO",
            plan="pay-per-mile",
            devices=("car-sam",),
            telemetry=car_trips,
        ),
    ),
    start=date(2026, 3, 1),
    bill_at=tuple(datetime(2026, month, 1, 12, tzinfo=UTC) for month in (4, 5, 6)),
)
