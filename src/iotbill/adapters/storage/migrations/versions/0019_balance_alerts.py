"""Balance alerts.

``balance_thresholds`` holds the amounts below which a customer's credits
raise an alert; ``balance_alerts`` each crossing, once (its id names the
threshold and the ledger entry that crossed it).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 22:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "balance_thresholds",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("amount", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_balance_thresholds_tenants"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "customer_id"],
            ["customers.tenant_id", "customers.id"],
            name="fk_balance_thresholds_customers",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "customer_id", "amount", name="pk_balance_thresholds"),
    )
    op.create_table(
        "balance_alerts",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(768), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("threshold", sa.String(64), nullable=False),
        sa.Column("balance", sa.String(64), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("entry_id", sa.String(512), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_balance_alerts_tenants"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_balance_alerts"),
    )
    op.create_index(
        "ix_balance_alerts_tenant_id_customer_id", "balance_alerts", ["tenant_id", "customer_id"]
    )


def downgrade() -> None:
    op.drop_table("balance_alerts")
    op.drop_table("balance_thresholds")
