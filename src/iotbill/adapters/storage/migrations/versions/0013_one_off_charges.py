"""One-off charges recorded against customers.

``one_off_charges`` holds each charge (a unit price, a quantity, its currency,
when it was recorded) and, once a bill run has billed it, the invoice that
did (``invoice_id``, written in the same transaction as that invoice). The
index serves the bill run's question: a batch's customers' charges not billed
yet.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 21:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "one_off_charges",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(256), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("unit_price", sa.String(64), nullable=False),
        sa.Column("quantity", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("recorded_at", sa.BigInteger(), nullable=False),
        sa.Column("invoice_id", sa.String(256), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_one_off_charges_tenants"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "customer_id"],
            ["customers.tenant_id", "customers.id"],
            name="fk_one_off_charges_customers",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "invoice_id"],
            ["invoices.tenant_id", "invoices.id"],
            name="fk_one_off_charges_invoices",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_one_off_charges"),
    )
    op.create_index(
        "ix_one_off_charges_tenant_id_customer_id_invoice_id",
        "one_off_charges",
        ["tenant_id", "customer_id", "invoice_id"],
    )


def downgrade() -> None:
    op.drop_table("one_off_charges")
