"""Archived plans.

``plan_archives`` names each plan (by code, all its versions) that takes no new
subscriptions, and since when (microseconds since the epoch, UTC). Subscriptions
already on it keep billing.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 23:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plan_archives",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(128), nullable=False),
        sa.Column("archived_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_plan_archives_tenants"),
        sa.PrimaryKeyConstraint("tenant_id", "code", name="pk_plan_archives"),
    )


def downgrade() -> None:
    op.drop_table("plan_archives")
