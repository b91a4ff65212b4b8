"""The ports of the business models: orders, work orders, asset sales and data products."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol

from iotbill.domain.models.asset_sharing import AssetBuyer, Settlement
from iotbill.domain.models.consent import Consent
from iotbill.domain.models.data_exports import DataExport
from iotbill.domain.models.data_products import Cell, DataProduct, Tabulation
from iotbill.domain.models.orders import Order
from iotbill.domain.models.work_orders import WorkOrder
from iotbill.domain.periods import Period


class OrderRepository(Protocol):
    """Reorders of consumables (razor-blade model): placed, then moved on step by step."""

    def add(self, order: Order) -> None:
        """Store a placed order; :class:`Conflict` if its id is taken."""
        ...

    def save(self, order: Order) -> None:
        """Store an order's new step; :class:`NotFound` if it was never added."""
        ...

    def get(self, id: str) -> Order:
        """The order ``id``; :class:`NotFound` if there is none."""
        ...

    def list(self, customer: str | None = None) -> builtins.list[Order]:
        """The orders (of ``customer``), by placing time, then id."""
        ...


class WorkOrderRepository(Protocol):
    """Work orders (service model): opened, then moved on step by step."""

    def add(self, order: WorkOrder) -> None:
        """Store an opened work order; :class:`Conflict` if its id is taken, :class:`NotFound`
        for an unknown customer."""
        ...

    def save(self, order: WorkOrder) -> None:
        """Store a work order's new step (its status, times and parts, never its SLA mark:
        a bill run may have marked it since ``order`` was read); :class:`NotFound` if it
        was never added."""
        ...

    def mark_credited(self, id: str, *, invoice: str, percent: Decimal) -> bool:
        """Mark the breach of work order ``id`` credited on ``invoice``, earning ``percent``,
        unless an invoice credited it already (then nothing changes); whether it marked.
        Changes nothing else of the work order; :class:`NotFound` if there is none."""
        ...

    def get(self, id: str) -> WorkOrder:
        """The work order ``id``; :class:`NotFound` if there is none."""
        ...

    def list(self, customer: str | None = None) -> builtins.list[WorkOrder]:
        """The work orders (of ``customer``), by opening time, then id."""
        ...

    def for_customers(self, customers: Sequence[str]) -> builtins.list[WorkOrder]:
        """The work orders of any of ``customers`` (a bill run's batch), by opening time,
        then id."""
        ...


class SharingRepository(Protocol):
    """Asset sharing: the buyers registered for devices, and the settlements of their sales;
    rows are added, never changed."""

    def add_buyer(self, buyer: AssetBuyer) -> None:
        """Register a buyer; :class:`Conflict` if the device has one of that name,
        :class:`NotFound` for an unknown device or customer."""
        ...

    def buyers(self, device: str | None = None) -> builtins.list[AssetBuyer]:
        """The buyers (of ``device``), by device, then name."""
        ...

    def add_settlements(self, settlements: Sequence[Settlement]) -> None:
        """Record settlements; :class:`Conflict` if an id is taken (roll back then)."""
        ...

    def settlements(self, customer: str | None = None) -> builtins.list[Settlement]:
        """The settlements (of the owner ``customer``), by period start, number, then id."""
        ...


class DataRepository(Protocol):
    """Devices' consents to sell their data and the data exports delivered
    (data-monetization model), and the cells a product delivers."""

    def consents(self, device: str | None = None) -> builtins.list[Consent]:
        """The consents (of ``device``), by device, then when given."""
        ...

    def save_consent(self, consent: Consent) -> None:
        """Store a consent given, or its withdrawal (found by device and when given);
        :class:`NotFound` for an unknown device."""
        ...

    def add_export(self, export: DataExport, cells: Sequence[Cell] = ()) -> None:
        """Store an export and the ``cells`` it delivered; :class:`Conflict` if its id is
        taken, :class:`NotFound` for an unknown buyer."""
        ...

    def export_cells(self, id: str) -> tuple[Cell, ...]:
        """The cells export ``id`` delivered, in their order (none for an unknown id)."""
        ...

    def get_export(self, id: str) -> DataExport:
        """The export ``id``; :class:`NotFound` if there is none."""
        ...

    def exports(self, buyer: str | None = None) -> builtins.list[DataExport]:
        """The exports (to ``buyer``), by export time, then id."""
        ...

    def tabulate(self, product: DataProduct, window: Period) -> Tabulation:
        """The product's cells over ``window``: the events of the tenant that count, from
        devices while they consented, grouped and suppressed as
        :func:`~iotbill.domain.models.data_products.tabulate` does (an SQL store groups
        them in the database)."""
        ...
