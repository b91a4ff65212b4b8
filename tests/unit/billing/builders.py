"""Plans, customers and events for the billing tests, each built in one line.

Every helper builds real domain values through the same validation a user's input goes
through; nothing is mocked. Amounts in the plans are chosen so that each test's arithmetic
can be done by hand (the tests write it out).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from iotbill.domain.catalog import Plan
from iotbill.domain.customers import Customer
from iotbill.domain.event_table import EventTable
from iotbill.domain.events import UsageEvent
from iotbill.domain.invoicing import InvoiceLine
from iotbill.domain.plan_parsing import parse_plan
from iotbill.domain.subscription_billing import PlanVersions

WATER_METER = {"code": "water", "event_type": "pump.flow", "aggregation": "sum", "property": "m3"}


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    """An instant given as UTC calendar fields: ``utc(2026, 4, 10, 6)``."""
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def local(
    zone_name: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0
) -> datetime:
    """The instant at which the clocks of ``zone_name`` show the given wall time."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone_name)).astimezone(UTC)


def water_plan(
    code: str,
    *,
    fee: str,
    tiers: list[dict[str, Any]],
    model: str = "graduated",
    currency: str = "USD",
    arrears_fee: str | None = None,
) -> Plan:
    """A monthly plan: an advance fee "Monitoring", optionally an arrears fee "Platform",
    and one tiered charge "Water" on the m3 of ``pump.flow`` events."""
    fees: list[dict[str, Any]] = [{"code": "base", "name": "Monitoring", "amount": fee}]
    if arrears_fee is not None:
        fees.append(
            {"code": "platform", "name": "Platform", "amount": arrears_fee, "timing": "arrears"}
        )
    return parse_plan(
        {
            "code": code,
            "currency": currency,
            "interval": "month",
            "fixed_fees": fees,
            "meters": [WATER_METER],
            "charges": [
                {"code": "water", "name": "Water", "meter": "water", "model": model, "tiers": tiers}
            ],
        }
    )


# Basic: 31.00 a month; water 0.50/m3 up to 100, then 0.30.
BASIC = water_plan(
    "basic",
    fee="31.00",
    tiers=[{"up_to": 100, "unit_price": "0.50"}, {"up_to": None, "unit_price": "0.30"}],
)
# Premium: 62.00 a month; water 0.40/m3 up to 200, then 0.20.
PREMIUM = water_plan(
    "premium",
    fee="62.00",
    tiers=[{"up_to": 200, "unit_price": "0.40"}, {"up_to": None, "unit_price": "0.20"}],
)
# Lite: 15.00 a month, same water tiers as Basic.
LITE = water_plan(
    "lite",
    fee="15.00",
    tiers=[{"up_to": 100, "unit_price": "0.50"}, {"up_to": None, "unit_price": "0.30"}],
)
# Metered: 10.00 in advance, 20.00 in arrears, water as Basic.
METERED = water_plan(
    "metered",
    fee="10.00",
    arrears_fee="20.00",
    tiers=[{"up_to": 100, "unit_price": "0.50"}, {"up_to": None, "unit_price": "0.30"}],
)
# Sales: volume tiers, all units at 0.10 up to 1000, all at 0.08 above.
SALES = water_plan(
    "sales",
    fee="0",
    model="volume",
    tiers=[{"up_to": 1000, "unit_price": "0.10"}, {"up_to": None, "unit_price": "0.08"}],
)

PLANS: PlanVersions = {
    ("basic", 1): BASIC,
    ("premium", 1): PREMIUM,
    ("lite", 1): LITE,
    ("metered", 1): METERED,
    ("sales", 1): SALES,
}


def customer(
    timezone: str = "UTC", *, currency: str = "USD", tax_rate: str = "0", id: str = "acme"
) -> Customer:
    return Customer.create(
        id=id,
        name=id.title(),
        currency_code=currency,
        timezone=timezone,
        billing_address="1 Pump Lane",
        tax_rate=tax_rate,
    )


def flows(*readings: tuple[datetime, int | str]) -> EventTable:
    """``pump.flow`` events of device pump-1, one per ``(instant, m3)``."""
    events = [
        UsageEvent(f"e{index}", "pump.flow", "pump-1", instant, {"m3": Decimal(m3)})
        for index, (instant, m3) in enumerate(readings, start=1)
    ]
    return EventTable.build(events)


def summary(lines: list[InvoiceLine]) -> list[tuple[str, str, Decimal]]:
    """Each line as ``(kind, description, amount)``: what a reader of the invoice sees."""
    return [(line.kind, line.description, line.amount) for line in lines]
