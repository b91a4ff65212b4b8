"""Reorders of consumables (razor-blade model).

``orders`` holds each order the reorder job placed: the customer, device and
consumable, the price billed once (through the one-off charge ``charge_id``),
its status (``placed``, ``shipped``, ``delivered``, ``cancelled``) with the
instant of each step, the forecast run-out and the refill that opened its
cycle, and the credit that gave it back when cancelled after billing.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 23:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(256), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("device_id", sa.String(128), nullable=False),
        sa.Column("consumable", sa.String(128), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("price", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("placed_at", sa.BigInteger(), nullable=False),
        sa.Column("shipped_at", sa.BigInteger(), nullable=True),
        sa.Column("delivered_at", sa.BigInteger(), nullable=True),
        sa.Column("cancelled_at", sa.BigInteger(), nullable=True),
        sa.Column("run_out", sa.BigInteger(), nullable=False),
        sa.Column("cycle_start", sa.BigInteger(), nullable=True),
        sa.Column("charge_id", sa.String(256), nullable=False),
        sa.Column("credit_id", sa.String(256), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_orders_tenants"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "customer_id"],
            ["customers.tenant_id", "customers.id"],
            name="fk_orders_customers",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_orders"),
    )
    op.create_index("ix_orders_tenant_id_customer_id", "orders", ["tenant_id", "customer_id"])


def downgrade() -> None:
    op.drop_table("orders")
