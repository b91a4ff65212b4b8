"""API keys and idempotency records for the HTTP API.

``api_keys`` holds each tenant's keys: the public id, the SHA-256 digest of the
secret (never the secret), the scopes and when it was revoked.
``idempotency_records`` keeps the first answer to each ``Idempotency-Key`` a
tenant sent, so that a retry gets the same answer and nothing is created twice.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 19:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("secret_digest", sa.String(64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", sa.BigInteger()),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_api_keys_tenants"),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
    )
    op.create_index("ix_api_keys_tenant_id_id", "api_keys", ["tenant_id", "id"])
    op.create_table(
        "idempotency_records",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(256), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("locked_until", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Integer()),
        sa.Column("content_type", sa.String(128)),
        sa.Column("body", sa.Text()),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_idempotency_records_tenants"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "key", name="pk_idempotency_records"),
    )


def downgrade() -> None:
    op.drop_table("idempotency_records")
    op.drop_index("ix_api_keys_tenant_id_id", "api_keys")
    op.drop_table("api_keys")
