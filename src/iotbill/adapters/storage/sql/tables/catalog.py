"""The tables of what is sold and to whom: plans, customers, devices and their owners,
subscriptions."""

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

plans = Table(
    "plans",
    metadata,
    *_tenant_key("plans"),
    Column("code", String(128), nullable=False),
    Column("version", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("document", Text, nullable=False),
    Column("created_at", Micros, nullable=False),
    PrimaryKeyConstraint("tenant_id", "code", "version"),
)

# Plans that take no new subscriptions, and since when (migration 0022).
plan_archives = Table(
    "plan_archives",
    metadata,
    *_tenant_key("plan_archives"),
    Column("code", String(128), nullable=False),
    Column("archived_at", Micros, nullable=False),
    PrimaryKeyConstraint("tenant_id", "code"),
)

customers = Table(
    "customers",
    metadata,
    *_tenant_key("customers"),
    Column("id", String(128), nullable=False),
    Column("name", Text, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("billing_address", Text, nullable=False),
    Column("tax_rate", ExactDecimal, nullable=False),
    # The days an invoice is due after it is finalized (migration 0009).
    Column("net_terms", Integer, nullable=False, server_default=text("0")),
    # The locale of the customer's documents (migration 0008).
    Column("locale", String(35), nullable=False, server_default="en"),
    PrimaryKeyConstraint("tenant_id", "id"),
)

# A customer's tax rate from an instant on (migration 0023).
customer_tax_rates = Table(
    "customer_tax_rates",
    metadata,
    *_tenant_key("customer_tax_rates"),
    Column("customer_id", String(128), nullable=False),
    Column("valid_from", Micros, nullable=False),
    Column("rate", ExactDecimal, nullable=False),
    PrimaryKeyConstraint("tenant_id", "customer_id", "valid_from"),
    ForeignKeyConstraint(["tenant_id", "customer_id"], ["customers.tenant_id", "customers.id"]),
)

devices = Table(
    "devices",
    metadata,
    *_tenant_key("devices"),
    Column("id", String(256), nullable=False),
    # When it went out of service, or null (migration 0021).
    Column("retired_at", Micros),
    PrimaryKeyConstraint("tenant_id", "id"),
)

device_owners = Table(
    "device_owners",
    metadata,
    *_tenant_key("device_owners"),
    Column("device_id", String(256), nullable=False),
    Column("valid_from", Micros, nullable=False),
    Column("customer_id", String(128), nullable=False),
    PrimaryKeyConstraint("tenant_id", "device_id", "valid_from"),
    ForeignKeyConstraint(["tenant_id", "device_id"], ["devices.tenant_id", "devices.id"]),
    ForeignKeyConstraint(["tenant_id", "customer_id"], ["customers.tenant_id", "customers.id"]),
)

device_history = Table(
    "device_history",
    metadata,
    *_tenant_key("device_history"),
    # How many rows device_owners holds for the tenant (migration 0037): kept by every
    # write of them, so an ingest tells whether a device moved by reading one row, not by
    # counting a fleet's ownerships twice per batch.
    Column("length", BigInteger, nullable=False),
    PrimaryKeyConstraint("tenant_id"),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    *_tenant_key("subscriptions"),
    Column("id", String(128), nullable=False),
    Column("customer_id", String(128), nullable=False),
    Column("device_id", String(256)),
    Column("interval", String(16), nullable=False),
    Column("billing_mode", String(16), nullable=False),
    Column("start", Micros, nullable=False),
    Column("trial_end", Micros),
    Column("cancel_timing", String(16)),
    Column("cancel_requested_at", Micros),
    Column("cancel_effective_at", Micros),
    Column("pauses", Text, nullable=False, server_default=text("'[]'")),
    Column("cancel_reason", String(16)),
    Column("contract", Text),
    PrimaryKeyConstraint("tenant_id", "id"),
    ForeignKeyConstraint(["tenant_id", "customer_id"], ["customers.tenant_id", "customers.id"]),
    Index(None, "tenant_id", "customer_id"),
)

subscription_phases = Table(
    "subscription_phases",
    metadata,
    *_tenant_key("subscription_phases"),
    Column("subscription_id", String(128), nullable=False),
    Column("start", Micros, nullable=False),
    Column("plan_code", String(128), nullable=False),
    Column("plan_version", Integer, nullable=False),
    PrimaryKeyConstraint("tenant_id", "subscription_id", "start"),
    ForeignKeyConstraint(
        ["tenant_id", "subscription_id"], ["subscriptions.tenant_id", "subscriptions.id"]
    ),
    ForeignKeyConstraint(
        ["tenant_id", "plan_code", "plan_version"],
        ["plans.tenant_id", "plans.code", "plans.version"],
    ),
)
