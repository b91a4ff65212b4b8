"""The tables of the business models: orders, work orders, shared assets and their
settlements, data consents and exports."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    text,
)

from iotbill.adapters.storage.sql.tables.schema import (
    ExactDecimal,
    Micros,
    _tenant_key,
    metadata,
)

orders = Table(
    "orders",
    metadata,
    *_tenant_key("orders"),
    Column("id", String(256), nullable=False),
    Column("customer_id", String(128), nullable=False),
    Column("device_id", String(128), nullable=False),
    Column("consumable", String(128), nullable=False),
    Column("description", Text, nullable=False),
    Column("price", ExactDecimal, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(16), nullable=False),
    Column("placed_at", Micros, nullable=False),
    Column("shipped_at", Micros),
    Column("delivered_at", Micros),
    Column("cancelled_at", Micros),
    Column("run_out", Micros, nullable=False),
    Column("cycle_start", Micros),
    Column("charge_id", String(256), nullable=False),
    Column("credit_id", String(256)),
    PrimaryKeyConstraint("tenant_id", "id"),
    ForeignKeyConstraint(["tenant_id", "customer_id"], ["customers.tenant_id", "customers.id"]),
    Index(None, "tenant_id", "customer_id"),
)

work_orders = Table(
    "work_orders",
    metadata,
    *_tenant_key("work_orders"),
    Column("id", String(256), nullable=False),
    Column("customer_id", String(128), nullable=False),
    Column("device_id", String(128), nullable=False),
    Column("summary", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("opened_at", Micros, nullable=False),
    Column("dispatched_at", Micros),
    Column("on_site_at", Micros),
    Column("resolved_at", Micros),
    Column("parts", Text, nullable=False),
    Column("alert_rule", String(128)),
    Column("incident_start", Micros),
    Column("sla_percent", String(32)),
    Column("sla_invoice_id", String(256)),
    PrimaryKeyConstraint("tenant_id", "id"),
    ForeignKeyConstraint(["tenant_id", "customer_id"], ["customers.tenant_id", "customers.id"]),
    Index(None, "tenant_id", "customer_id"),
)

asset_buyers = Table(
    "asset_buyers",
    metadata,
    *_tenant_key("asset_buyers"),
    Column("device_id", String(128), nullable=False),
    Column("code", String(128), nullable=False),
    Column("customer_id", String(128)),
    Column("added_at", Micros, nullable=False),
    PrimaryKeyConstraint("tenant_id", "device_id", "code"),
    ForeignKeyConstraint(["tenant_id", "device_id"], ["devices.tenant_id", "devices.id"]),
    ForeignKeyConstraint(["tenant_id", "customer_id"], ["customers.tenant_id", "customers.id"]),
)

sale_settlements = Table(
    "sale_settlements",
    metadata,
    *_tenant_key("sale_settlements"),
    Column("id", String(512), nullable=False),
    Column("subscription_id", String(128), nullable=False),
    Column("customer_id", String(128), nullable=False),
    Column("period_start", Micros, nullable=False),
    Column("period_end", Micros, nullable=False),
    Column("number", Integer, nullable=False),
    Column("settled_at", Micros, nullable=False),
    Column("billed_at", Micros, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("share", ExactDecimal, nullable=False),
    Column("unit", String(128), nullable=False),
    Column("lines", Text, nullable=False),
    # The ids of the sale events it settled, a JSON list (migration 0030).
    Column("event_ids", Text, nullable=False, server_default=text("'[]'")),
    PrimaryKeyConstraint("tenant_id", "id"),
    ForeignKeyConstraint(["tenant_id", "customer_id"], ["customers.tenant_id", "customers.id"]),
    Index(None, "tenant_id", "customer_id"),
)

data_consents = Table(
    "data_consents",
    metadata,
    *_tenant_key("data_consents"),
    Column("device_id", String(256), nullable=False),
    Column("given_at", Micros, nullable=False),
    Column("withdrawn_at", Micros),
    PrimaryKeyConstraint("tenant_id", "device_id", "given_at"),
    ForeignKeyConstraint(["tenant_id", "device_id"], ["devices.tenant_id", "devices.id"]),
)

data_exports = Table(
    "data_exports",
    metadata,
    *_tenant_key("data_exports"),
    Column("id", String(256), nullable=False),
    Column("buyer_id", String(128), nullable=False),
    Column("product", String(128), nullable=False),
    Column("start_at", Micros, nullable=False),
    Column("end_at", Micros, nullable=False),
    Column("format", String(16), nullable=False),
    Column("records", BigInteger, nullable=False),
    Column("suppressed", BigInteger, nullable=False),
    Column("exported_at", Micros, nullable=False),
    Column("revenue", ExactDecimal, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("charge_id", String(256)),
    PrimaryKeyConstraint("tenant_id", "id"),
    ForeignKeyConstraint(["tenant_id", "buyer_id"], ["customers.tenant_id", "customers.id"]),
    Index(None, "tenant_id", "buyer_id"),
)

data_export_cells = Table(
    "data_export_cells",
    metadata,
    *_tenant_key("data_export_cells"),
    Column("export_id", String(256), nullable=False),
    Column("position", Integer, nullable=False),
    Column("grp", String(256), nullable=False),
    Column("bucket", Micros, nullable=False),
    Column("value", ExactDecimal, nullable=False),
    Column("events", BigInteger, nullable=False),
    Column("owners", BigInteger, nullable=False),
    PrimaryKeyConstraint("tenant_id", "export_id", "position"),
    ForeignKeyConstraint(["tenant_id", "export_id"], ["data_exports.tenant_id", "data_exports.id"]),
)
