"""A data export: what one buyer received of one data product, and what it is billed.

A :class:`DataExport` records a delivery of a product's cells
(:mod:`~iotbill.domain.models.data_products`) over ``[start, end)`` to a buyer:
how many records (cells) it delivered and how many were suppressed. It is
metered per record: a one-off charge ``charge_id`` of ``records`` x the
product's price, billed on the buyer's next invoice by the bill run. Its ``id``
is the idempotency key: an export repeated with the same id delivers again the
cells stored with it, exactly what was billed, and bills nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from iotbill.domain.money import Currency, format_money


@dataclass(frozen=True, slots=True)
class DataExport:
    """``records`` cells of ``product`` over ``[start, end)`` delivered to ``buyer_id`` at
    ``exported_at`` as ``format``; ``revenue`` is what it bills (``charge_id``: its
    one-off charge, ``None`` when it delivered nothing)."""

    id: str
    buyer_id: str
    product: str
    start: datetime
    end: datetime
    format: str
    records: int
    suppressed: int
    exported_at: datetime
    revenue: Decimal
    currency: Currency
    charge_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "buyer": self.buyer_id,
            "product": self.product,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "format": self.format,
            "records": self.records,
            "suppressed": self.suppressed,
            "exported_at": self.exported_at.isoformat(),
            "revenue": format_money(self.revenue, self.currency),
            "currency": self.currency.code,
            "charge": self.charge_id,
        }
