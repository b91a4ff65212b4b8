"""Reading a plan's ``sharing`` section (asset-sharing model), reporting every problem.

The part of :func:`~iotbill.domain.plan_parsing.parse_plan` that reads how the
plan's devices sell their spare capacity
(:class:`~iotbill.domain.models.asset_sharing.SharingTerms`)::

    sharing:
      event_type: capacity.sold   # the sale events the devices report
      quantity: kwh               # their property with the quantity sold (> 0)
      price: price                # ... with the market price of one unit (>= 0, plan currency)
      buyer: buyer                # ... naming the buyer, as registered for the device
      share: "30"                 # percent of the sales credited to the owner: 0 to 100
      unit: kWh                   # what a unit is called on invoices (default "unit")

Every mistake is recorded at its field path (``sharing.share: must be a
percentage from 0 to 100, not 120``); the plan loader raises them all together,
storing nothing.
"""

from __future__ import annotations

from decimal import Decimal

from iotbill.domain.fields import FieldReader
from iotbill.domain.input_rules import ID_LIMITS
from iotbill.domain.models.asset_sharing import HUNDRED, SharingTerms

SHARING_FIELDS = ("event_type", "quantity", "price", "buyer", "share", "unit")


def parse_sharing(reader: FieldReader) -> SharingTerms | None:
    """The plan's ``sharing`` terms, or ``None`` when it has none (or a problem, recorded)."""
    section = reader.section("sharing")
    if section is None:
        return None
    section.reject_unknown(SHARING_FIELDS)
    before = len(reader.problems.problems)
    event_type = section.text("event_type", limit=ID_LIMITS["code"])
    quantity = section.text("quantity", limit=ID_LIMITS["code"])
    price = section.text("price", limit=ID_LIMITS["code"])
    buyer = section.text("buyer", limit=ID_LIMITS["code"])
    unit = section.text("unit", required=False, default="unit", limit=ID_LIMITS["code"])
    share = section.decimal("share", minimum=None)
    if share is not None and not Decimal(0) <= share <= HUNDRED:
        section.problems.add(
            section.path("share"), f"must be a percentage from 0 to 100, not {share}"
        )
    names = {"quantity": quantity, "price": price, "buyer": buyer}
    seen: dict[str, str] = {}
    for field, name in names.items():
        if name is None:
            continue
        if name in seen:
            section.problems.add(
                section.path(field), f"{name!r} is already the {seen[name]} property"
            )
        seen.setdefault(name, field)
    if len(reader.problems.problems) > before:
        return None
    assert event_type and quantity and price and buyer and unit and share is not None
    return SharingTerms(event_type, quantity, price, buyer, share, unit)
