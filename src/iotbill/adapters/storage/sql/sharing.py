"""Asset sharing in SQL: buyers registered per device, and settlements of sales.

A settlement's sold lines are one JSON list (``lines``) of objects whose
numbers are exact decimal strings, and the ids of the events it settled another
(``event_ids``): a settlement is written once and read whole.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select

from iotbill.adapters.storage.sql import tables as t
from iotbill.adapters.storage.sql.repository import Repository
from iotbill.domain.errors import Conflict
from iotbill.domain.models.asset_sharing import AssetBuyer, Settlement, SoldLine
from iotbill.domain.money import currency
from iotbill.domain.periods import Period, from_micros, to_micros
from iotbill.domain.quantities import decimal_text


class SqlSharingRepository(Repository):
    def add_buyer(self, buyer: AssetBuyer) -> None:
        self._require(t.devices, "device", id=buyer.device_id)
        if buyer.customer_id is not None:
            self._require(t.customers, "customer", id=buyer.customer_id)
        if self._exists(t.asset_buyers, device_id=buyer.device_id, code=buyer.code):
            raise Conflict(f"device {buyer.device_id!r} has a buyer {buyer.code!r} already")
        self._execute(
            insert(t.asset_buyers).values(
                tenant_id=self._tenant_id(),
                device_id=buyer.device_id,
                code=buyer.code,
                customer_id=buyer.customer_id,
                added_at=to_micros(buyer.added_at),
            )
        )

    def buyers(self, device: str | None = None) -> builtins.list[AssetBuyer]:
        table = t.asset_buyers
        statement = select(table).where(self._mine(table))
        if device is not None:
            statement = statement.where(table.c.device_id == device)
        found = [
            AssetBuyer(row.device_id, row.code, row.customer_id, from_micros(row.added_at))
            for row in self._execute(statement)
        ]
        return sorted(found, key=lambda buyer: (buyer.device_id, buyer.code))

    def add_settlements(self, settlements: Sequence[Settlement]) -> None:
        if not settlements:
            return
        self._refuse_any_taken(t.sale_settlements, "settlement", [s.id for s in settlements])
        for settlement in settlements:
            self._require(t.customers, "customer", id=settlement.customer_id)
        tenant = self._tenant_id()
        self._execute(
            insert(t.sale_settlements),
            [
                {
                    "tenant_id": tenant,
                    "id": settlement.id,
                    "subscription_id": settlement.subscription_id,
                    "customer_id": settlement.customer_id,
                    "period_start": to_micros(settlement.period.start),
                    "period_end": to_micros(settlement.period.end),
                    "number": settlement.number,
                    "settled_at": to_micros(settlement.settled_at),
                    "billed_at": to_micros(settlement.billed_at),
                    "currency": settlement.currency.code,
                    "share": settlement.share,
                    "unit": settlement.unit,
                    "lines": json.dumps([_line_json(line) for line in settlement.lines]),
                    "event_ids": json.dumps(list(settlement.event_ids)),
                }
                for settlement in settlements
            ],
        )

    def settlements(self, customer: str | None = None) -> builtins.list[Settlement]:
        table = t.sale_settlements
        statement = select(table).where(self._mine(table))
        if customer is not None:
            statement = statement.where(table.c.customer_id == customer)
        found = [_settlement(row) for row in self._execute(statement)]
        return sorted(found, key=lambda s: (s.period.start, s.number, s.id))


def _line_json(line: SoldLine) -> dict[str, Any]:
    return {
        "device": line.device_id,
        "buyer": line.buyer,
        "customer": line.customer_id,
        "price": decimal_text(line.price),
        "quantity": decimal_text(line.quantity),
        "amount": decimal_text(line.amount),
    }


def _settlement(row: Any) -> Settlement:
    return Settlement(
        id=row.id,
        subscription_id=row.subscription_id,
        customer_id=row.customer_id,
        period=Period(from_micros(row.period_start), from_micros(row.period_end)),
        number=row.number,
        settled_at=from_micros(row.settled_at),
        billed_at=from_micros(row.billed_at),
        currency=currency(row.currency),
        share=row.share,
        unit=row.unit,
        lines=tuple(
            SoldLine(
                item["device"],
                item["buyer"],
                item["customer"],
                Decimal(item["price"]),
                Decimal(item["quantity"]),
                Decimal(item["amount"]),
            )
            for item in json.loads(row.lines)
        ),
        event_ids=tuple(json.loads(row.event_ids)),
    )
