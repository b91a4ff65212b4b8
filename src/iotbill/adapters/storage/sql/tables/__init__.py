"""The schema, shared by SQLite and PostgreSQL: one metadata, its tables in a module per concept
(:mod:`.schema`, :mod:`.catalog`, :mod:`.billing`, :mod:`.models`, :mod:`.events`,
:mod:`.access`), every name importable from here.

Choices, and why:

* **Every row has a tenant**: ``tenant_id`` (a small integer; ``tenants.code`` is
  the name users type) leads every key, so no query of one tenant can reach
  another's rows, and the busiest index stays narrow.
* **Instants are BIGINT microseconds since the epoch, UTC**: exact, ordered,
  and the same on both databases (SQLite has no timestamp type).
* **Money is BIGINT minor units plus the exact decimal as text**: sums of
  amounts in SQL are exact integers; the exact value (e.g. an unrounded detail)
  is never lost. No column is ever a float.
* **Quantities are BIGINT nano-units**, as in the pure core
  (:mod:`iotbill.domain.quantities`), not NUMERIC(38, 9): SQLite has no exact
  decimal type (NUMERIC affinity stores ``0.1`` as a binary float), while its
  integer SUM is exact; on PostgreSQL SUM(bigint) is exact NUMERIC. The same
  integer arithmetic on both databases gives the pure core's results exactly.
* **Usage events are append-only**; ``UNIQUE (tenant_id, event_id)`` makes a
  retried event a no-op at write time. ``properties`` is the JSON the device
  sent (exact numbers, as written); ``measures`` is the same properties in a
  form SQL compares and sums exactly: a number as an integer count of
  nano-units, a string or boolean as itself, anything else (an object, a list,
  a number with more than nine decimals) as ``null``. The index on
  ``(tenant_id, customer_id, event_type, occurred_at)`` serves each
  subscription's meters as one range scan.
"""

from __future__ import annotations

from iotbill.adapters.storage.sql.tables.access import (
    api_keys,
    device_credentials,
    idempotency_records,
    webhook_attempts,
    webhook_deliveries,
    webhook_endpoints,
    webhook_messages,
)
from iotbill.adapters.storage.sql.tables.billing import (
    balance_alerts,
    balance_thresholds,
    coupon_redemptions,
    coupons,
    credit_grants,
    credit_note_lines,
    credit_notes,
    invoice_lines,
    invoice_notices,
    invoices,
    ledger_entries,
    number_sequences,
    one_off_charges,
    payments,
)
from iotbill.adapters.storage.sql.tables.catalog import (
    customer_tax_rates,
    customers,
    device_history,
    device_owners,
    devices,
    plan_archives,
    plans,
    subscription_phases,
    subscriptions,
)
from iotbill.adapters.storage.sql.tables.events import (
    entitlement_alerts,
    usage_events,
    usage_rollup_hours,
    usage_rollups,
)
from iotbill.adapters.storage.sql.tables.models import (
    asset_buyers,
    data_consents,
    data_export_cells,
    data_exports,
    orders,
    sale_settlements,
    work_orders,
)
from iotbill.adapters.storage.sql.tables.schema import (
    ExactDecimal,
    Measures,
    Micros,
    metadata,
    tenants,
)

__all__ = [
    "ExactDecimal",
    "Measures",
    "Micros",
    "api_keys",
    "asset_buyers",
    "balance_alerts",
    "balance_thresholds",
    "coupon_redemptions",
    "coupons",
    "credit_grants",
    "credit_note_lines",
    "credit_notes",
    "customer_tax_rates",
    "customers",
    "data_consents",
    "data_export_cells",
    "data_exports",
    "device_credentials",
    "device_history",
    "device_owners",
    "devices",
    "entitlement_alerts",
    "idempotency_records",
    "invoice_lines",
    "invoice_notices",
    "invoices",
    "ledger_entries",
    "metadata",
    "number_sequences",
    "one_off_charges",
    "orders",
    "payments",
    "plan_archives",
    "plans",
    "sale_settlements",
    "subscription_phases",
    "subscriptions",
    "tenants",
    "usage_events",
    "usage_rollup_hours",
    "usage_rollups",
    "webhook_attempts",
    "webhook_deliveries",
    "webhook_endpoints",
    "webhook_messages",
    "work_orders",
]
