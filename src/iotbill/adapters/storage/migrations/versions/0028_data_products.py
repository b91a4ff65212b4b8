"""Data products (data-monetization model): consents and exports.

``data_consents`` holds each interval a device consented to its data being sold:
when it was given and, once withdrawn, when (microseconds, UTC).
``data_exports`` holds each delivery of a data product to a buyer: the window,
the format, how many records were delivered and suppressed, what it bills and
the one-off charge that bills it.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 00:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_consents",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(256), nullable=False),
        sa.Column("given_at", sa.BigInteger(), nullable=False),
        sa.Column("withdrawn_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_data_consents_tenants"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "device_id"],
            ["devices.tenant_id", "devices.id"],
            name="fk_data_consents_devices",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "device_id", "given_at", name="pk_data_consents"),
    )
    op.create_table(
        "data_exports",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(256), nullable=False),
        sa.Column("buyer_id", sa.String(128), nullable=False),
        sa.Column("product", sa.String(128), nullable=False),
        sa.Column("start_at", sa.BigInteger(), nullable=False),
        sa.Column("end_at", sa.BigInteger(), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("records", sa.BigInteger(), nullable=False),
        sa.Column("suppressed", sa.BigInteger(), nullable=False),
        sa.Column("exported_at", sa.BigInteger(), nullable=False),
        sa.Column("revenue", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("charge_id", sa.String(256), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_data_exports_tenants"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "buyer_id"],
            ["customers.tenant_id", "customers.id"],
            name="fk_data_exports_customers",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_data_exports"),
    )
    op.create_index("ix_data_exports_tenant_id_buyer_id", "data_exports", ["tenant_id", "buyer_id"])


def downgrade() -> None:
    op.drop_table("data_exports")
    op.drop_table("data_consents")
