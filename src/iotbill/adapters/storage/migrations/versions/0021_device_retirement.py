"""Retired devices.

``devices.retired_at`` is when a device went out of service (microseconds since
the epoch, UTC), or null while it is in service: no usage is accepted from then on.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 22:55:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("devices", sa.Column("retired_at", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("devices") as batch_op:
        batch_op.drop_column("retired_at")
