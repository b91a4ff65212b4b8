"""Coupons and their redemptions.

``coupons`` holds each coupon of a tenant by code: a percentage or an amount
(``value``, exact; ``currency`` with an amount), its target (``plan_code`` or
``charge_code``; neither: the whole invoice), how many billing periods it lasts
(``periods``; null: forever) and how many times it may be redeemed
(``max_redemptions``; null: no limit). ``coupon_redemptions`` holds each
application of a coupon to a subscription from an instant.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 22:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "coupons",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(128), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("plan_code", sa.String(128), nullable=True),
        sa.Column("charge_code", sa.String(128), nullable=True),
        sa.Column("periods", sa.Integer(), nullable=True),
        sa.Column("max_redemptions", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_coupons_tenants"),
        sa.PrimaryKeyConstraint("tenant_id", "code", name="pk_coupons"),
    )
    op.create_table(
        "coupon_redemptions",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(512), nullable=False),
        sa.Column("coupon_code", sa.String(128), nullable=False),
        sa.Column("subscription_id", sa.String(128), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("redeemed_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_coupon_redemptions_tenants"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "coupon_code"],
            ["coupons.tenant_id", "coupons.code"],
            name="fk_coupon_redemptions_coupons",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "subscription_id"],
            ["subscriptions.tenant_id", "subscriptions.id"],
            name="fk_coupon_redemptions_subscriptions",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_coupon_redemptions"),
    )
    op.create_index(
        "ix_coupon_redemptions_tenant_id_subscription_id",
        "coupon_redemptions",
        ["tenant_id", "subscription_id"],
    )
    op.create_index(
        "ix_coupon_redemptions_tenant_id_coupon_code",
        "coupon_redemptions",
        ["tenant_id", "coupon_code"],
    )


def downgrade() -> None:
    op.drop_table("coupon_redemptions")
    op.drop_table("coupons")
