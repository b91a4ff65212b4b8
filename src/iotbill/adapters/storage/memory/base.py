"""What the parts of the memory store share: a tenant's data, and the base of the
repositories."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from iotbill.domain.api_keys import ApiKey
from iotbill.domain.balance_alerts import BalanceAlert
from iotbill.domain.coupons import Coupon, Redemption
from iotbill.domain.credits import CreditGrant, LedgerEntry
from iotbill.domain.customers import Customer, Device
from iotbill.domain.device_credentials import DeviceCredential
from iotbill.domain.entitlement_checks import EntitlementAlert
from iotbill.domain.errors import Conflict, NotFound
from iotbill.domain.events import UsageEvent
from iotbill.domain.invoices import CreditNote, Invoice
from iotbill.domain.models.asset_sharing import AssetBuyer, Settlement
from iotbill.domain.models.consent import Consent
from iotbill.domain.models.data_exports import DataExport
from iotbill.domain.models.data_products import Cell
from iotbill.domain.models.orders import Order
from iotbill.domain.models.work_orders import WorkOrder
from iotbill.domain.one_off_charges import OneOffCharge
from iotbill.domain.payments import Notice, Payment
from iotbill.domain.subscriptions import Subscription
from iotbill.domain.webhooks import Delivery, WebhookEndpoint, WebhookMessage
from iotbill.services.ports import (
    IdempotencyRecord,
    Paging,
    StoredPlan,
)

if TYPE_CHECKING:
    from iotbill.adapters.storage.memory.unit_of_work import MemoryUnitOfWork

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class StoredEvent:
    event: UsageEvent
    customer: str
    received_at: datetime
    seq: int


@dataclass
class TenantData:
    plans: dict[str, list[StoredPlan]] = field(default_factory=dict)
    plan_archives: dict[str, datetime] = field(default_factory=dict)
    customers: dict[str, Customer] = field(default_factory=dict)
    devices: dict[str, Device] = field(default_factory=dict)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    invoices: dict[str, Invoice] = field(default_factory=dict)
    credit_notes: dict[str, CreditNote] = field(default_factory=dict)
    payments: list[Payment] = field(default_factory=list)
    grants: dict[str, CreditGrant] = field(default_factory=dict)
    ledger: dict[str, LedgerEntry] = field(default_factory=dict)
    one_off_charges: dict[str, OneOffCharge] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    work_orders: dict[str, WorkOrder] = field(default_factory=dict)
    consents: dict[tuple[str, datetime], Consent] = field(default_factory=dict)
    data_exports: dict[str, DataExport] = field(default_factory=dict)
    data_export_cells: dict[str, tuple[Cell, ...]] = field(default_factory=dict)
    asset_buyers: dict[tuple[str, str], AssetBuyer] = field(default_factory=dict)
    settlements: dict[str, Settlement] = field(default_factory=dict)
    thresholds: dict[str, tuple[Decimal, ...]] = field(default_factory=dict)
    alerts: dict[str, BalanceAlert] = field(default_factory=dict)
    coupons: dict[str, Coupon] = field(default_factory=dict)
    redemptions: dict[str, Redemption] = field(default_factory=dict)
    notices: dict[tuple[str, str], Notice] = field(default_factory=dict)
    sequences: dict[str, int] = field(default_factory=dict)
    events: list[StoredEvent] = field(default_factory=list)
    event_ids: set[str] = field(default_factory=set)
    api_keys: dict[str, ApiKey] = field(default_factory=dict)
    idempotency: dict[str, IdempotencyRecord] = field(default_factory=dict)
    device_credentials: dict[tuple[str, datetime], DeviceCredential] = field(default_factory=dict)
    webhook_endpoints: dict[str, WebhookEndpoint] = field(default_factory=dict)
    webhook_messages: dict[str, WebhookMessage] = field(default_factory=dict)
    webhook_deliveries: dict[str, Delivery] = field(default_factory=dict)
    entitlement_alerts: dict[tuple[str, str, datetime, Decimal], EntitlementAlert] = field(
        default_factory=dict
    )


class _Repository:
    def __init__(self, unit: MemoryUnitOfWork) -> None:
        self._unit = unit

    def _data(self) -> TenantData:
        return self._unit.data()


def _get(found: dict[str, T], id: str, what: str) -> T:
    if id not in found:
        raise NotFound(f"unknown {what} {id!r}")
    return found[id]


def _paged(items: list[T], key: Callable[[T], Any], paging: Paging[Any] | None) -> list[T]:
    """The page of ``items`` (in the order of ``key``) that ``paging`` asks for: all if none."""
    if paging is None:
        return items
    after = paging.after
    return [item for item in items if after is None or key(item) > after][: paging.limit]


def _add(found: dict[str, T], id: str, value: T, what: str) -> None:
    if id in found:
        raise Conflict(f"{what} {id!r} already exists")
    found[id] = value
