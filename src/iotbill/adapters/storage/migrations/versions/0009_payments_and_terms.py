"""Payments, net terms, dunning notices, credit grants and the ledger.

``customers.net_terms`` is the days an invoice is due after the local date it is
finalized. ``invoices`` gains what payments and the customer's balance settled
(exact decimals, as ``credits``) and its due date. ``payments`` keeps each
payment of an invoice; ``invoice_notices`` each overdue notice and dunning
reminder, once per invoice and kind (the key). ``credit_grants`` holds the
credits added to customers' balances, ``ledger_entries`` the double-entry
ledger (each entry one amount, debited from one account and credited to
another; ids are deterministic, so a movement is recorded once).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 19:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "customers",
        sa.Column("net_terms", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    for column in ("payments", "balance_applied"):
        op.add_column(
            "invoices",
            sa.Column(column, sa.String(64), nullable=False, server_default=sa.text("'0'")),
        )
    op.add_column("invoices", sa.Column("due_on", sa.String(10), nullable=True))
    op.create_table(
        "payments",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.String(256), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("amount", sa.String(64), nullable=False),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_payments_tenants"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "invoice_id"],
            ["invoices.tenant_id", "invoices.id"],
            name="fk_payments_invoices",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "invoice_id", "position", name="pk_payments"),
    )
    op.create_table(
        "invoice_notices",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.String(256), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("due_on", sa.String(10), nullable=False),
        sa.Column("recorded_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_invoice_notices_tenants"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "invoice_id"],
            ["invoices.tenant_id", "invoices.id"],
            name="fk_invoice_notices_invoices",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "invoice_id", "kind", name="pk_invoice_notices"),
    )

    op.create_table(
        "credit_grants",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(256), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("amount", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("granted_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_credit_grants_tenants"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "customer_id"],
            ["customers.tenant_id", "customers.id"],
            name="fk_credit_grants_customers",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_credit_grants"),
    )
    op.create_index(
        "ix_credit_grants_tenant_id_customer_id", "credit_grants", ["tenant_id", "customer_id"]
    )
    op.create_table(
        "ledger_entries",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(512), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("debit", sa.String(256), nullable=False),
        sa.Column("credit", sa.String(256), nullable=False),
        sa.Column("amount", sa.String(64), nullable=False),
        sa.Column("grant_id", sa.String(256), nullable=True),
        sa.Column("document", sa.String(256), nullable=True),
        sa.Column("memo", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_ledger_entries_tenants"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_ledger_entries"),
    )
    op.create_index(
        "ix_ledger_entries_tenant_id_customer_id", "ledger_entries", ["tenant_id", "customer_id"]
    )


def downgrade() -> None:
    op.drop_table("ledger_entries")
    op.drop_table("credit_grants")
    op.drop_table("invoice_notices")
    op.drop_table("payments")
    with op.batch_alter_table("invoices") as batch_op:
        batch_op.drop_column("due_on")
        batch_op.drop_column("balance_applied")
        batch_op.drop_column("payments")
    with op.batch_alter_table("customers") as batch_op:
        batch_op.drop_column("net_terms")
