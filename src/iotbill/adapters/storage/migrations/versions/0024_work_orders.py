"""Work orders (service model).

``work_orders`` holds each visit to a device: the customer and device, what it
is about, its status (``open``, ``dispatched``, ``on_site``, ``resolved``) with
the instant of each step, and the parts fitted (a JSON list of ``[code,
count]``). What a resolved visit bills is stored as one-off charges.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 23:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "work_orders",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(256), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("device_id", sa.String(128), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("opened_at", sa.BigInteger(), nullable=False),
        sa.Column("dispatched_at", sa.BigInteger(), nullable=True),
        sa.Column("on_site_at", sa.BigInteger(), nullable=True),
        sa.Column("resolved_at", sa.BigInteger(), nullable=True),
        sa.Column("parts", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_work_orders_tenants"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "customer_id"],
            ["customers.tenant_id", "customers.id"],
            name="fk_work_orders_customers",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_work_orders"),
    )
    op.create_index(
        "ix_work_orders_tenant_id_customer_id", "work_orders", ["tenant_id", "customer_id"]
    )


def downgrade() -> None:
    op.drop_table("work_orders")
