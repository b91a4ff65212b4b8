"""Device credentials: each device's MQTT username and the hash of its secret.

One row per credential issued; revoking fills ``revoked_at``, so the history
of who could publish as a device stays. The secret itself is never stored.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 19:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "device_credentials",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(256), nullable=False),
        sa.Column("issued_at", sa.BigInteger(), nullable=False),
        sa.Column("username", sa.String(400), nullable=False),
        sa.Column("secret_hash", sa.String(200), nullable=False),
        sa.Column("revoked_at", sa.BigInteger()),
        sa.PrimaryKeyConstraint(
            "tenant_id", "device_id", "issued_at", name="pk_device_credentials"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_device_credentials_tenants"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "device_id"],
            ["devices.tenant_id", "devices.id"],
            name="fk_device_credentials_devices",
        ),
    )


def downgrade() -> None:
    op.drop_table("device_credentials")
