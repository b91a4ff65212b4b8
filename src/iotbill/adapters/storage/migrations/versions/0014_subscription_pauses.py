"""Subscription pauses.

``subscriptions.pauses`` is the JSON list of the subscription's pauses, each
``[start, end]`` in microseconds since the epoch (``end`` null while paused).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 22:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "subscriptions",
        sa.Column("pauses", sa.Text(), nullable=False, server_default=sa.text("'[]'")),
    )


def downgrade() -> None:
    with op.batch_alter_table("subscriptions") as batch_op:
        batch_op.drop_column("pauses")
