"""What the business models store, in memory: orders, work orders, asset sales and data
products."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from iotbill.adapters.storage.memory.base import _add, _get, _Repository
from iotbill.domain.errors import Conflict
from iotbill.domain.events import counting
from iotbill.domain.models.asset_sharing import AssetBuyer, Settlement
from iotbill.domain.models.consent import Consent
from iotbill.domain.models.data_exports import DataExport
from iotbill.domain.models.data_products import Cell, DataProduct, Reading, Tabulation, tabulate
from iotbill.domain.models.orders import Order
from iotbill.domain.models.work_orders import WorkOrder
from iotbill.domain.periods import Period
from iotbill.domain.quantities import QuantityError, to_scaled


class MemoryOrderRepository(_Repository):
    def add(self, order: Order) -> None:
        _get(self._data().customers, order.customer_id, "customer")
        _add(self._data().orders, order.id, order, "order")

    def save(self, order: Order) -> None:
        _get(self._data().orders, order.id, "order")
        self._data().orders[order.id] = order

    def get(self, id: str) -> Order:
        return _get(self._data().orders, id, "order")

    def list(self, customer: str | None = None) -> builtins.list[Order]:
        found = [
            order
            for order in self._data().orders.values()
            if customer is None or order.customer_id == customer
        ]
        return sorted(found, key=lambda order: (order.placed_at, order.id))


class MemoryWorkOrderRepository(_Repository):
    def add(self, order: WorkOrder) -> None:
        _get(self._data().customers, order.customer_id, "customer")
        _add(self._data().work_orders, order.id, order, "work order")
        self._unit.work_orders_stepped.add(order.id)

    def save(self, order: WorkOrder) -> None:
        stored = _get(self._data().work_orders, order.id, "work order")
        self._data().work_orders[order.id] = replace(
            order, sla_percent=stored.sla_percent, sla_invoice_id=stored.sla_invoice_id
        )
        self._unit.work_orders_stepped.add(order.id)

    def mark_credited(self, id: str, *, invoice: str, percent: Decimal) -> bool:
        stored = _get(self._data().work_orders, id, "work order")
        if stored.sla_invoice_id is not None:
            return False
        self._data().work_orders[id] = stored.credited(invoice, percent)
        self._unit.work_orders_marked.add(id)
        return True

    def get(self, id: str) -> WorkOrder:
        return _get(self._data().work_orders, id, "work order")

    def list(self, customer: str | None = None) -> builtins.list[WorkOrder]:
        found = [
            order
            for order in self._data().work_orders.values()
            if customer is None or order.customer_id == customer
        ]
        return sorted(found, key=lambda order: (order.opened_at, order.id))

    def for_customers(self, customers: Sequence[str]) -> builtins.list[WorkOrder]:
        chosen = set(customers)
        found = [o for o in self._data().work_orders.values() if o.customer_id in chosen]
        return sorted(found, key=lambda order: (order.opened_at, order.id))


def _laid_over(
    committed: dict[str, WorkOrder],
    mine: dict[str, WorkOrder],
    stepped: set[str],
    marked: set[str],
) -> dict[str, WorkOrder]:
    """The work orders ``committed`` by others, with those of ``mine`` over them: the steps
    of the ``stepped`` ones (added or saved) and the SLA marks of the ``marked`` ones (none
    of which another unit of work marked first: :meth:`MemoryUnitOfWork.commit` checks)."""
    laid = dict(committed)
    for id in stepped:
        theirs = committed.get(id)
        ours = mine[id]
        laid[id] = (
            ours
            if theirs is None
            else replace(ours, sla_percent=theirs.sla_percent, sla_invoice_id=theirs.sla_invoice_id)
        )
    for id in marked:
        ours = mine[id]
        laid[id] = replace(
            laid[id], sla_percent=ours.sla_percent, sla_invoice_id=ours.sla_invoice_id
        )
    return laid


class MemorySharingRepository(_Repository):
    def add_buyer(self, buyer: AssetBuyer) -> None:
        _get(self._data().devices, buyer.device_id, "device")
        if buyer.customer_id is not None:
            _get(self._data().customers, buyer.customer_id, "customer")
        key = (buyer.device_id, buyer.code)
        if key in self._data().asset_buyers:
            raise Conflict(f"device {buyer.device_id!r} has a buyer {buyer.code!r} already")
        self._data().asset_buyers[key] = buyer

    def buyers(self, device: str | None = None) -> builtins.list[AssetBuyer]:
        found = self._data().asset_buyers
        return [found[key] for key in sorted(found) if device is None or key[0] == device]

    def add_settlements(self, settlements: Sequence[Settlement]) -> None:
        stored = self._data().settlements
        for settlement in settlements:
            _get(self._data().customers, settlement.customer_id, "customer")
            _add(stored, settlement.id, settlement, "settlement")

    def settlements(self, customer: str | None = None) -> builtins.list[Settlement]:
        found = [
            settlement
            for settlement in self._data().settlements.values()
            if customer is None or settlement.customer_id == customer
        ]
        return sorted(found, key=lambda s: (s.period.start, s.number, s.id))


class MemoryDataRepository(_Repository):
    def consents(self, device: str | None = None) -> builtins.list[Consent]:
        found = [
            consent
            for consent in self._data().consents.values()
            if device is None or consent.device_id == device
        ]
        return sorted(found, key=lambda consent: (consent.device_id, consent.given_at))

    def save_consent(self, consent: Consent) -> None:
        _get(self._data().devices, consent.device_id, "device")
        self._data().consents[(consent.device_id, consent.given_at)] = consent

    def add_export(self, export: DataExport, cells: Sequence[Cell] = ()) -> None:
        _get(self._data().customers, export.buyer_id, "customer")
        _add(self._data().data_exports, export.id, export, "data export")
        self._data().data_export_cells[export.id] = tuple(cells)

    def export_cells(self, id: str) -> tuple[Cell, ...]:
        return self._data().data_export_cells.get(id, ())

    def get_export(self, id: str) -> DataExport:
        return _get(self._data().data_exports, id, "data export")

    def exports(self, buyer: str | None = None) -> builtins.list[DataExport]:
        found = [
            export
            for export in self._data().data_exports.values()
            if buyer is None or export.buyer_id == buyer
        ]
        return sorted(found, key=lambda export: (export.exported_at, export.id))

    def tabulate(self, product: DataProduct, window: Period) -> Tabulation:
        stored = [*self._data().events, *self._unit._pending]
        events = [item.event for item in stored]
        positions = counting(events)
        counted = stored if positions is None else [stored[index] for index in positions]
        readings: list[Reading] = []
        for item in counted:
            event = item.event
            if event.type != product.event_type:
                continue
            group = event.properties.get(product.group_by)
            value = _product_value(product, event.properties)
            if isinstance(group, str) and value is not None:
                readings.append(Reading(item.customer, event.device, event.timestamp, group, value))
        return tabulate(product, readings, self.consents(), window)


def _product_value(product: DataProduct, properties: dict[str, Any]) -> Decimal | None:
    """What an event puts in a cell: 1 (a count), or its property as exact as SQL holds it
    (``None`` when it has none)."""
    if product.property is None:
        return Decimal(1)
    value = properties.get(product.property)
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    try:
        return Decimal(to_scaled(value)).scaleb(-9)
    except QuantityError:
        return None
