"""The first schema: tenants, plans, customers, devices, subscriptions, invoices, events.

Also creates the tenant ``default``, so a new store is usable at once.

Revision ID: 0001
Revises:
Create Date: 2026-11-24 10:56:12.307663
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
        sa.UniqueConstraint("code", name=op.f("uq_tenants_code")),
    )
    op.bulk_insert(
        sa.table("tenants", sa.column("code", sa.String), sa.column("name", sa.Text)),
        [{"code": "default", "name": "Default tenant"}],
    )
    op.create_table(
        "customers",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("billing_address", sa.Text(), nullable=False),
        sa.Column("tax_rate", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_customers_tenants"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_customers")),
    )
    op.create_table(
        "devices",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=256), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_devices_tenants"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_devices")),
    )
    op.create_table(
        "number_sequences",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("series", sa.String(length=64), nullable=False),
        sa.Column("last_value", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_number_sequences_tenants"),
        sa.PrimaryKeyConstraint("tenant_id", "series", name=op.f("pk_number_sequences")),
    )
    op.create_table(
        "plans",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_plans_tenants"),
        sa.PrimaryKeyConstraint("tenant_id", "code", "version", name=op.f("pk_plans")),
    )
    op.create_table(
        "usage_events",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=256), nullable=False),
        sa.Column("event_type", sa.String(length=256), nullable=False),
        sa.Column("device_id", sa.String(length=256), nullable=False),
        sa.Column("customer_id", sa.String(length=128), nullable=False),
        sa.Column("occurred_at", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.Column("properties", sa.Text(), nullable=False),
        sa.Column(
            "measures",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_usage_events_tenants"),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_usage_events")),
        sa.UniqueConstraint(
            "tenant_id", "event_id", name=op.f("uq_usage_events_tenant_id_event_id")
        ),
    )
    with op.batch_alter_table("usage_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_usage_events_tenant_id_customer_id_event_type_occurred_at"),
            ["tenant_id", "customer_id", "event_type", "occurred_at"],
            unique=False,
        )

    op.create_table(
        "device_owners",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=256), nullable=False),
        sa.Column("valid_from", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "customer_id"],
            ["customers.tenant_id", "customers.id"],
            name=op.f("fk_device_owners_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "device_id"],
            ["devices.tenant_id", "devices.id"],
            name=op.f("fk_device_owners_devices"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_device_owners_tenants"),
        sa.PrimaryKeyConstraint(
            "tenant_id", "device_id", "valid_from", name=op.f("pk_device_owners")
        ),
    )
    op.create_table(
        "invoices",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=256), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("customer_id", sa.String(length=128), nullable=False),
        sa.Column("subscription_id", sa.String(length=128), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("period_start", sa.BigInteger(), nullable=False),
        sa.Column("period_end", sa.BigInteger(), nullable=False),
        sa.Column("tax_rate", sa.String(length=64), nullable=False),
        sa.Column("subtotal_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("credits", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.BigInteger(), nullable=False),
        sa.Column("grace_until", sa.BigInteger(), nullable=False),
        sa.Column("finalized_at", sa.BigInteger(), nullable=True),
        sa.Column("paid_at", sa.BigInteger(), nullable=True),
        sa.Column("voided_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "customer_id"],
            ["customers.tenant_id", "customers.id"],
            name=op.f("fk_invoices_customers"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_invoices_tenants"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("tenant_id", "number", name=op.f("uq_invoices_tenant_id_number")),
    )
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invoices_tenant_id_customer_id_period_start"),
            ["tenant_id", "customer_id", "period_start"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_invoices_tenant_id_status"), ["tenant_id", "status"], unique=False
        )

    op.create_table(
        "subscriptions",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("customer_id", sa.String(length=128), nullable=False),
        sa.Column("device_id", sa.String(length=256), nullable=True),
        sa.Column("interval", sa.String(length=16), nullable=False),
        sa.Column("billing_mode", sa.String(length=16), nullable=False),
        sa.Column("start", sa.BigInteger(), nullable=False),
        sa.Column("trial_end", sa.BigInteger(), nullable=True),
        sa.Column("cancel_timing", sa.String(length=16), nullable=True),
        sa.Column("cancel_requested_at", sa.BigInteger(), nullable=True),
        sa.Column("cancel_effective_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "customer_id"],
            ["customers.tenant_id", "customers.id"],
            name=op.f("fk_subscriptions_customers"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_subscriptions_tenants"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_subscriptions")),
    )
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subscriptions_tenant_id_customer_id"),
            ["tenant_id", "customer_id"],
            unique=False,
        )

    op.create_table(
        "credit_notes",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=256), nullable=False),
        sa.Column("invoice_id", sa.String(length=256), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("tax_rate", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("issued_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "invoice_id"],
            ["invoices.tenant_id", "invoices.id"],
            name=op.f("fk_credit_notes_invoices"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_credit_notes_tenants"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_credit_notes")),
        sa.UniqueConstraint("tenant_id", "number", name=op.f("uq_credit_notes_tenant_id_number")),
    )
    op.create_table(
        "invoice_lines",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.String(length=256), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("charge", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("group_label", sa.Text(), nullable=True),
        sa.Column("quantity", sa.String(length=64), nullable=False),
        sa.Column("unit_price", sa.String(length=64), nullable=True),
        sa.Column("exact_amount", sa.String(length=64), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "invoice_id"],
            ["invoices.tenant_id", "invoices.id"],
            name=op.f("fk_invoice_lines_invoices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_invoice_lines_tenants"),
        sa.PrimaryKeyConstraint(
            "tenant_id", "invoice_id", "position", name=op.f("pk_invoice_lines")
        ),
    )
    op.create_table(
        "subscription_phases",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.String(length=128), nullable=False),
        sa.Column("start", sa.BigInteger(), nullable=False),
        sa.Column("plan_code", sa.String(length=128), nullable=False),
        sa.Column("plan_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "plan_code", "plan_version"],
            ["plans.tenant_id", "plans.code", "plans.version"],
            name=op.f("fk_subscription_phases_plans"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "subscription_id"],
            ["subscriptions.tenant_id", "subscriptions.id"],
            name=op.f("fk_subscription_phases_subscriptions"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_subscription_phases_tenants"
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "subscription_id", "start", name=op.f("pk_subscription_phases")
        ),
    )
    op.create_table(
        "credit_note_lines",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("credit_note_id", sa.String(length=256), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("charge", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("group_label", sa.Text(), nullable=True),
        sa.Column("quantity", sa.String(length=64), nullable=False),
        sa.Column("unit_price", sa.String(length=64), nullable=True),
        sa.Column("exact_amount", sa.String(length=64), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "credit_note_id"],
            ["credit_notes.tenant_id", "credit_notes.id"],
            name=op.f("fk_credit_note_lines_credit_notes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_credit_note_lines_tenants"),
        sa.PrimaryKeyConstraint(
            "tenant_id", "credit_note_id", "position", name=op.f("pk_credit_note_lines")
        ),
    )


def downgrade() -> None:
    op.drop_table("credit_note_lines")
    op.drop_table("subscription_phases")
    op.drop_table("invoice_lines")
    op.drop_table("credit_notes")
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscriptions_tenant_id_customer_id"))

    op.drop_table("subscriptions")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoices_tenant_id_status"))
        batch_op.drop_index(batch_op.f("ix_invoices_tenant_id_customer_id_period_start"))

    op.drop_table("invoices")
    op.drop_table("device_owners")
    with op.batch_alter_table("usage_events", schema=None) as batch_op:
        batch_op.drop_index(
            batch_op.f("ix_usage_events_tenant_id_customer_id_event_type_occurred_at")
        )

    op.drop_table("usage_events")
    op.drop_table("plans")
    op.drop_table("number_sequences")
    op.drop_table("devices")
    op.drop_table("customers")
    op.drop_table("tenants")
