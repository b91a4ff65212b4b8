"""Plan documents and customers as a user writes them, for the use-case tests."""

from __future__ import annotations

from collections.abc import Callable

from iotbill.services.customers import add_customer
from iotbill.services.ports import UnitOfWork


def water_plan(
    code: str = "water",
    *,
    fee: str = "31.00",
    price: str = "0.50",
    currency: str = "USD",
    interval: str = "month",
    comment: str = "",
) -> str:
    """A plan document: an advance fee and a per-unit price on the m3 of pump.flow events."""
    return f"""\
# {comment or "a water plan"}
code: {code}
name: Water {code}
currency: {currency}
interval: {interval}
fixed_fees:
  - {{code: base, name: Monitoring, amount: "{fee}", timing: advance}}
meters:
  - {{code: water, event_type: pump.flow, aggregation: sum, property: m3}}
charges:
  - {{code: water, name: Water, meter: water, model: per_unit, unit_price: "{price}"}}
"""


def add_customers(uow: Callable[[], UnitOfWork]) -> None:
    """``acme`` pays USD in New York (8.875 % tax); ``berlin`` pays EUR in Berlin (19 %)."""
    add_customer(
        uow(), id="acme", name="Acme", currency="USD", timezone="America/New_York", tax_rate="8.875"
    )
    add_customer(
        uow(), id="berlin", name="Berlin", currency="EUR", timezone="Europe/Berlin", tax_rate="19"
    )
