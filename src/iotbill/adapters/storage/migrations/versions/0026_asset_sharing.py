"""Asset sharing: the buyers of devices' capacity, and the settlements of their sales.

``asset_buyers`` registers, per device, each buyer under the name its sale
events give: a customer invoiced for what it buys, or (no customer) a market
that pays the operator directly. ``sale_settlements`` holds each settlement of
a subscription's billing period: when it was settled and billed, the share
credited to the owner, and what was sold (a JSON list of lines: device, buyer,
customer, price, quantity, amount). What a settlement bills is stored as one-off
charges, and its money movements as ledger entries.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 00:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "asset_buyers",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(128), nullable=False),
        sa.Column("code", sa.String(128), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=True),
        sa.Column("added_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_asset_buyers_tenants"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "device_id"],
            ["devices.tenant_id", "devices.id"],
            name="fk_asset_buyers_devices",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "customer_id"],
            ["customers.tenant_id", "customers.id"],
            name="fk_asset_buyers_customers",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "device_id", "code", name="pk_asset_buyers"),
    )
    op.create_table(
        "sale_settlements",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(512), nullable=False),
        sa.Column("subscription_id", sa.String(128), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("period_start", sa.BigInteger(), nullable=False),
        sa.Column("period_end", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("settled_at", sa.BigInteger(), nullable=False),
        sa.Column("billed_at", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("share", sa.String(64), nullable=False),
        sa.Column("unit", sa.String(128), nullable=False),
        sa.Column("lines", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_sale_settlements_tenants"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "customer_id"],
            ["customers.tenant_id", "customers.id"],
            name="fk_sale_settlements_customers",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_sale_settlements"),
    )
    op.create_index(
        "ix_sale_settlements_tenant_id_customer_id",
        "sale_settlements",
        ["tenant_id", "customer_id"],
    )


def downgrade() -> None:
    op.drop_table("sale_settlements")
    op.drop_table("asset_buyers")
