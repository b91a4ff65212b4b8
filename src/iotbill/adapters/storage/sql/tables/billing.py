"""The tables of money: invoices and their lines, payments, notices, credit notes, credits,
one-off charges, the ledger, balance alerts, coupons, number series."""

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
    UniqueConstraint,
    text,
)

from iotbill.adapters.storage.sql.tables.schema import (
    ExactDecimal,
    Micros,
    _tenant_key,
    metadata,
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
