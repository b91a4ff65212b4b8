"""API keys restricted to one party of their tenant.

``api_keys.party`` names the customer a key acts for (a data buyer, a grid
operator); null, as every key before this migration, is a key of the tenant
itself.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07 01:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("api_keys", sa.Column("party", sa.String(256), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch_op:
        batch_op.drop_column("party")
