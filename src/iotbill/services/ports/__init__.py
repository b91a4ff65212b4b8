"""Ports: what the services need from storage, as :class:`typing.Protocol` s.

A :class:`UnitOfWork` is one transaction for one tenant: every repository on it
reads and writes only that tenant's rows (``tenants`` alone is the directory of
all tenants). Leaving the ``with`` block without :meth:`UnitOfWork.commit`
rolls back, so a failed use case writes nothing.

Two adapters implement these ports and pass the same contract tests
(``tests/contract/``): :mod:`iotbill.adapters.storage.memory` (the reference
and the test fake) and :mod:`iotbill.adapters.storage.sql` (SQLite and
PostgreSQL).

Repositories raise :class:`~iotbill.domain.errors.NotFound` for an unknown id
and :class:`~iotbill.domain.errors.Conflict` for an id that is already taken.

One module per concept, as the adapters have them: ``values`` (what crosses the ports),
``catalog``, ``billing``, ``models``, ``access``, ``events`` and ``unit_of_work``; every
name is imported from here.
"""

from __future__ import annotations

from iotbill.services.ports.access import (
    ApiKeyRepository,
    EntitlementAlertRepository,
    IdempotencyRepository,
    WebhookRepository,
    WebhookSender,
)
from iotbill.services.ports.billing import (
    CouponRepository,
    CreditNoteRepository,
    CreditRepository,
    InvoiceRepository,
    OneOffChargeRepository,
)
from iotbill.services.ports.catalog import (
    CustomerRepository,
    DeviceCredentialRepository,
    DeviceRepository,
    PlanRepository,
    SubscriptionRepository,
    TenantRepository,
)
from iotbill.services.ports.events import (
    EventStore,
    PreparedEvents,
)
from iotbill.services.ports.models import (
    DataRepository,
    OrderRepository,
    SharingRepository,
    WorkOrderRepository,
)
from iotbill.services.ports.unit_of_work import (
    Clock,
    UnitOfWork,
    UnitOfWorkFactory,
)
from iotbill.services.ports.values import (
    DEFAULT_TENANT,
    Appended,
    BatchReport,
    BrokerCredential,
    DeviceMessage,
    DueDelivery,
    EventScope,
    EventWindow,
    GroupQuantity,
    IdempotencyRecord,
    MessageRejection,
    Paging,
    SendResult,
    StoredPlan,
    Tenant,
)

__all__ = [
    "DEFAULT_TENANT",
    "ApiKeyRepository",
    "Appended",
    "BatchReport",
    "BrokerCredential",
    "Clock",
    "CouponRepository",
    "CreditNoteRepository",
    "CreditRepository",
    "CustomerRepository",
    "DataRepository",
    "DeviceCredentialRepository",
    "DeviceMessage",
    "DeviceRepository",
    "DueDelivery",
    "EntitlementAlertRepository",
    "EventScope",
    "EventStore",
    "EventWindow",
    "GroupQuantity",
    "IdempotencyRecord",
    "IdempotencyRepository",
    "InvoiceRepository",
    "MessageRejection",
    "OneOffChargeRepository",
    "OrderRepository",
    "Paging",
    "PlanRepository",
    "PreparedEvents",
    "SendResult",
    "SharingRepository",
    "StoredPlan",
    "SubscriptionRepository",
    "Tenant",
    "TenantRepository",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "WebhookRepository",
    "WebhookSender",
    "WorkOrderRepository",
]
