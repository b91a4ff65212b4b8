"""The schema, shared by SQLite and PostgreSQL.

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

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Dialect,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

from iotbill.domain.quantities import decimal_text

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Micros = BigInteger
"""An instant: microseconds since 1970-01-01T00:00:00Z."""

Measures = JSON().with_variant(JSONB(), "postgresql")


class ExactDecimal(TypeDecorator[Decimal]):
    """An exact decimal stored as its plain text (``"19.5"``), on every database."""

    impl = String(64)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        return None if value is None else decimal_text(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


def _tenant_key(table: str) -> list[Any]:
    """The leading tenant column of a tenant's table and its foreign key."""
    return [
        Column("tenant_id", Integer, nullable=False),
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=f"fk_{table}_tenants"),
    ]


tenants = Table(
    "tenants",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("credits", String(16), nullable=False, server_default=text("'after_tax'")),
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

invoices = Table(
    "invoices",
    metadata,
    *_tenant_key("invoices"),
    Column("id", String(256), nullable=False),
    Column("number", String(64)),
    Column("status", String(16), nullable=False),
    Column("kind", String(16), nullable=False),  # DocumentKind
    Column("customer_id", String(128), nullable=False),
    Column("subscription_id", String(128)),
    Column("currency", String(3), nullable=False),
    Column("period_start", Micros, nullable=False),
    Column("period_end", Micros, nullable=False),
    Column("tax_rate", ExactDecimal, nullable=False),
    Column("subtotal_minor", BigInteger, nullable=False),
    Column("tax_minor", BigInteger, nullable=False),
    Column("total_minor", BigInteger, nullable=False),
    Column("credits", ExactDecimal, nullable=False),
    Column("issued_at", Micros, nullable=False),
    Column("grace_until", Micros, nullable=False),
    Column("finalized_at", Micros),
    Column("paid_at", Micros),
    Column("voided_at", Micros),
    # Migration 0004: what payments and the customer's balance settled, and the due date
    # (an ISO date in the customer's zone, set at finalization).
    Column("payments", ExactDecimal, nullable=False, server_default=text("'0'")),
    Column("balance_applied", ExactDecimal, nullable=False, server_default=text("'0'")),
    Column("due_on", String(10)),
    # Migration 0029: credits, payments and balance_applied again, as minor units, which
    # SQL sums exactly (the overview's sums of what is paid and due).
    Column("credits_minor", BigInteger, nullable=False),
    Column("payments_minor", BigInteger, nullable=False),
    Column("balance_applied_minor", BigInteger, nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    UniqueConstraint("tenant_id", "number"),
    ForeignKeyConstraint(["tenant_id", "customer_id"], ["customers.tenant_id", "customers.id"]),
    Index(None, "tenant_id", "customer_id", "period_start"),
    Index(None, "tenant_id", "status"),
)

payments = Table(
    "payments",
    metadata,
    *_tenant_key("payments"),
    Column("invoice_id", String(256), nullable=False),
    Column("position", Integer, nullable=False),
    Column("amount", ExactDecimal, nullable=False),
    Column("received_at", Micros, nullable=False),
    PrimaryKeyConstraint("tenant_id", "invoice_id", "position"),
    ForeignKeyConstraint(["tenant_id", "invoice_id"], ["invoices.tenant_id", "invoices.id"]),
)

invoice_notices = Table(
    "invoice_notices",
    metadata,
    *_tenant_key("invoice_notices"),
    Column("invoice_id", String(256), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("due_on", String(10), nullable=False),
    Column("recorded_at", Micros, nullable=False),
    PrimaryKeyConstraint("tenant_id", "invoice_id", "kind"),
    ForeignKeyConstraint(["tenant_id", "invoice_id"], ["invoices.tenant_id", "invoices.id"]),
)

credit_notes = Table(
    "credit_notes",
    metadata,
    *_tenant_key("credit_notes"),
    Column("id", String(256), nullable=False),
    Column("invoice_id", String(256), nullable=False),
    Column("number", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("tax_rate", ExactDecimal, nullable=False),
    Column("reason", Text, nullable=False),
    Column("total_minor", BigInteger, nullable=False),
    Column("issued_at", Micros, nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    UniqueConstraint("tenant_id", "number"),
    ForeignKeyConstraint(["tenant_id", "invoice_id"], ["invoices.tenant_id", "invoices.id"]),
)


credit_grants = Table(
    "credit_grants",
    metadata,
    *_tenant_key("credit_grants"),
    Column("id", String(256), nullable=False),
    Column("customer_id", String(128), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("amount", ExactDecimal, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("granted_at", Micros, nullable=False),
    Column("expires_at", Micros),
    Column("priority", Integer, nullable=False),
    Column("description", Text, nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    ForeignKeyConstraint(["tenant_id", "customer_id"], ["customers.tenant_id", "customers.id"]),
    Index(None, "tenant_id", "customer_id"),
)

one_off_charges = Table(
    "one_off_charges",
    metadata,
    *_tenant_key("one_off_charges"),
    Column("id", String(256), nullable=False),
    Column("customer_id", String(128), nullable=False),
    Column("description", Text, nullable=False),
    Column("unit_price", ExactDecimal, nullable=False),
    Column("quantity", ExactDecimal, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("recorded_at", Micros, nullable=False),
    Column("invoice_id", String(256)),
    Column("kind", String(16), nullable=False, server_default=text("'one_off'")),
    PrimaryKeyConstraint("tenant_id", "id"),
    ForeignKeyConstraint(["tenant_id", "customer_id"], ["customers.tenant_id", "customers.id"]),
    ForeignKeyConstraint(["tenant_id", "invoice_id"], ["invoices.tenant_id", "invoices.id"]),
    Index(None, "tenant_id", "customer_id", "invoice_id"),
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

ledger_entries = Table(
    "ledger_entries",
    metadata,
    *_tenant_key("ledger_entries"),
    Column("id", String(512), nullable=False),
    Column("customer_id", String(128), nullable=False),
    Column("at", Micros, nullable=False),
    Column("debit", String(256), nullable=False),
    Column("credit", String(256), nullable=False),
    Column("amount", ExactDecimal, nullable=False),
    Column("grant_id", String(256)),
    Column("document", String(256)),
    Column("memo", Text, nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    Index(None, "tenant_id", "customer_id"),
)

balance_thresholds = Table(
    "balance_thresholds",
    metadata,
    *_tenant_key("balance_thresholds"),
    Column("customer_id", String(128), nullable=False),
    Column("amount", ExactDecimal, nullable=False),
    PrimaryKeyConstraint("tenant_id", "customer_id", "amount"),
    ForeignKeyConstraint(["tenant_id", "customer_id"], ["customers.tenant_id", "customers.id"]),
)

balance_alerts = Table(
    "balance_alerts",
    metadata,
    *_tenant_key("balance_alerts"),
    Column("id", String(768), nullable=False),
    Column("customer_id", String(128), nullable=False),
    Column("threshold", ExactDecimal, nullable=False),
    Column("balance", ExactDecimal, nullable=False),
    Column("at", Micros, nullable=False),
    Column("entry_id", String(512), nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    Index(None, "tenant_id", "customer_id"),
)

coupons = Table(
    "coupons",
    metadata,
    *_tenant_key("coupons"),
    Column("code", String(128), nullable=False),
    Column("name", Text, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("value", ExactDecimal, nullable=False),
    Column("currency", String(3)),
    Column("plan_code", String(128)),
    Column("charge_code", String(128)),
    Column("periods", Integer),
    Column("max_redemptions", Integer),
    Column("created_at", Micros, nullable=False),
    PrimaryKeyConstraint("tenant_id", "code"),
)

coupon_redemptions = Table(
    "coupon_redemptions",
    metadata,
    *_tenant_key("coupon_redemptions"),
    Column("id", String(512), nullable=False),
    Column("coupon_code", String(128), nullable=False),
    Column("subscription_id", String(128), nullable=False),
    Column("customer_id", String(128), nullable=False),
    Column("redeemed_at", Micros, nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    ForeignKeyConstraint(["tenant_id", "coupon_code"], ["coupons.tenant_id", "coupons.code"]),
    ForeignKeyConstraint(
        ["tenant_id", "subscription_id"], ["subscriptions.tenant_id", "subscriptions.id"]
    ),
    Index(None, "tenant_id", "subscription_id"),
    Index(None, "tenant_id", "coupon_code"),
)


def _line_table(name: str, owner: str, owner_column: str) -> Table:
    """Lines of an invoice or credit note: the rounded amount in minor units and every
    exact figure as text; ``detail`` is the JSON of the price model's arithmetic."""
    return Table(
        name,
        metadata,
        *_tenant_key(name),
        Column(owner_column, String(256), nullable=False),
        Column("position", Integer, nullable=False),
        Column("charge", String(128), nullable=False),
        Column("kind", String(16), nullable=False),
        Column("description", Text, nullable=False),
        Column("group_label", Text),
        Column("quantity", ExactDecimal, nullable=False),
        Column("unit_price", ExactDecimal),
        Column("exact_amount", ExactDecimal, nullable=False),
        Column("amount_minor", BigInteger, nullable=False),
        Column("detail", Text, nullable=False),
        PrimaryKeyConstraint("tenant_id", owner_column, "position"),
        ForeignKeyConstraint(
            ["tenant_id", owner_column], [f"{owner}.tenant_id", f"{owner}.id"], ondelete="CASCADE"
        ),
    )


invoice_lines = _line_table("invoice_lines", "invoices", "invoice_id")
credit_note_lines = _line_table("credit_note_lines", "credit_notes", "credit_note_id")

number_sequences = Table(
    "number_sequences",
    metadata,
    *_tenant_key("number_sequences"),
    Column("series", String(64), nullable=False),
    Column("last_value", BigInteger, nullable=False),
    PrimaryKeyConstraint("tenant_id", "series"),
)

usage_events = Table(
    "usage_events",
    metadata,
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    # No foreign key to tenants: PostgreSQL would check it row by row on every
    # bulk insert, and the store only ever writes its own tenant's id here. On
    # PostgreSQL the indexed text columns have the "C" collation (migration 0002).
    Column("tenant_id", Integer, nullable=False),
    Column("event_id", String(256), nullable=False),
    Column("event_type", String(256), nullable=False),
    Column("device_id", String(256), nullable=False),
    Column("customer_id", String(128), nullable=False),
    Column("occurred_at", Micros, nullable=False),
    Column("received_at", Micros, nullable=False),
    Column("properties", Text, nullable=False),
    Column("measures", Measures, nullable=False),
    # An event that corrects or voids an earlier one names it (migration 0003); the
    # unique index holds only such events, and an event is named once.
    Column("replaces", String(256), nullable=True),
    Column("is_void", Boolean, nullable=False, server_default=false()),
    UniqueConstraint("tenant_id", "event_id"),
    Index(None, "tenant_id", "customer_id", "event_type", "occurred_at"),
    Index(
        None,
        "tenant_id",
        "replaces",
        unique=True,
        sqlite_where=text("replaces IS NOT NULL"),
        postgresql_where=text("replaces IS NOT NULL"),
    ),
)


def _usage_rollup(name: str, bucket: str) -> Table:
    """A roll-up of usage by ``bucket`` (a day or an hour since 1970, UTC): derived from
    usage_events by the event store, in the same transaction as every change to them (see
    ``rollups``); no foreign key, as usage_events has none."""
    return Table(
        name,
        metadata,
        Column("tenant_id", Integer, nullable=False),
        Column("customer_id", String(128), nullable=False),
        Column("event_type", String(256), nullable=False),
        Column(bucket, BigInteger, nullable=False),
        Column("property", String(256), nullable=False),
        Column("events", BigInteger, nullable=False),
        Column("high", BigInteger, nullable=False),
        Column("low", BigInteger, nullable=False),
        Column("slot", Integer, nullable=False, server_default=text("0")),
        PrimaryKeyConstraint("tenant_id", "customer_id", "event_type", "property", bucket, "slot"),
    )


usage_rollups = _usage_rollup("usage_rollups", "day")
usage_rollup_hours = _usage_rollup("usage_rollup_hours", "hour")  # of the recent events only

entitlement_alerts = Table(
    "entitlement_alerts",
    metadata,
    *_tenant_key("entitlement_alerts"),
    Column("subscription_id", String(128), nullable=False),
    Column("feature", String(128), nullable=False),
    Column("counted_from", Micros, nullable=False),
    Column("percent", ExactDecimal, nullable=False),
    Column("customer_id", String(128), nullable=False),
    Column("used", ExactDecimal, nullable=False),
    Column("allowance", ExactDecimal, nullable=False),
    Column("reached_at", Micros, nullable=False),
    PrimaryKeyConstraint("tenant_id", "subscription_id", "feature", "counted_from", "percent"),
    Index(None, "tenant_id", "customer_id"),
)

api_keys = Table(
    # A tenant's keys for the HTTP API (migration 0008): the id is public, the
    # secret only kept as its SHA-256 digest; scopes are space-separated names.
    "api_keys",
    metadata,
    *_tenant_key("api_keys"),
    Column("id", String(32), nullable=False),
    Column("name", Text, nullable=False),
    Column("scopes", Text, nullable=False),
    Column("secret_digest", String(64), nullable=False),
    Column("created_at", Micros, nullable=False),
    Column("revoked_at", Micros),
    # The one customer the key acts for (migration 0031), or null: the tenant's own key.
    Column("party", String(256)),
    PrimaryKeyConstraint("id"),
    Index(None, "tenant_id", "id"),
)

idempotency_records = Table(
    # The first answer to each Idempotency-Key of a tenant (migration 0008). While the
    # first request runs, ``status`` is null and ``token`` names the request holding
    # the key until ``locked_until``; afterwards the answer is replayed as stored (on
    # PostgreSQL compressed with LZ4, migration 0036).
    "idempotency_records",
    metadata,
    *_tenant_key("idempotency_records"),
    Column("key", String(256), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("token", String(64), nullable=False),
    Column("locked_until", Micros, nullable=False),
    Column("status", Integer),
    Column("content_type", String(128)),
    Column("body", Text),
    Column("created_at", Micros, nullable=False),
    PrimaryKeyConstraint("tenant_id", "key"),
)

device_credentials = Table(
    "device_credentials",
    metadata,
    *_tenant_key("device_credentials"),
    Column("device_id", String(256), nullable=False),
    Column("issued_at", Micros, nullable=False),
    Column("username", String(400), nullable=False),
    # Mosquitto's "$7$" PBKDF2-SHA512 hash of the secret, never the secret itself.
    Column("secret_hash", String(200), nullable=False),
    Column("revoked_at", Micros),
    PrimaryKeyConstraint("tenant_id", "device_id", "issued_at"),
    ForeignKeyConstraint(["tenant_id", "device_id"], ["devices.tenant_id", "devices.id"]),
)

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    *_tenant_key("webhook_endpoints"),
    Column("id", String(64), nullable=False),
    Column("url", Text, nullable=False),
    Column("events", Text, nullable=False),  # event types, sorted, comma-separated
    # The signing secret itself: iotbill must have it to sign every message.
    Column("secret", String(128), nullable=False),
    Column("created_at", Micros, nullable=False),
    Column("disabled_at", Micros),
    PrimaryKeyConstraint("tenant_id", "id"),
)

webhook_messages = Table(
    "webhook_messages",
    metadata,
    *_tenant_key("webhook_messages"),
    Column("id", String(64), nullable=False),
    Column("type", String(64), nullable=False),
    Column("occurred_at", Micros, nullable=False),
    Column("body", Text, nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    *_tenant_key("webhook_deliveries"),
    Column("id", String(64), nullable=False),
    Column("message_id", String(64), nullable=False),
    Column("endpoint_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", Micros, nullable=False),
    Column("deadline", Micros, nullable=False),
    Column("delivered_at", Micros),
    Column("last_error", Text),
    PrimaryKeyConstraint("tenant_id", "id"),
    ForeignKeyConstraint(
        ["tenant_id", "message_id"], ["webhook_messages.tenant_id", "webhook_messages.id"]
    ),
    ForeignKeyConstraint(
        ["tenant_id", "endpoint_id"], ["webhook_endpoints.tenant_id", "webhook_endpoints.id"]
    ),
    Index(None, "tenant_id", "status", "next_attempt_at"),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    *_tenant_key("webhook_attempts"),
    Column("delivery_id", String(64), nullable=False),
    Column("number", Integer, nullable=False),
    Column("at", Micros, nullable=False),
    Column("status_code", Integer),
    Column("error", Text),
    Column("duration_ms", Integer, nullable=False),
    PrimaryKeyConstraint("tenant_id", "delivery_id", "number"),
    ForeignKeyConstraint(
        ["tenant_id", "delivery_id"], ["webhook_deliveries.tenant_id", "webhook_deliveries.id"]
    ),
)
