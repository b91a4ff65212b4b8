"""The sale events each settlement of asset sharing settled.

``sale_settlements.event_ids`` is a JSON list of the ids of the sale events a
settlement settled, so a later settlement of the period settles exactly the
others, whatever the order in which concurrent transactions stored them. A
settlement stored before names none.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 01:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "sale_settlements",
        sa.Column("event_ids", sa.Text(), nullable=False, server_default=sa.text("'[]'")),
    )


def downgrade() -> None:
    with op.batch_alter_table("sale_settlements") as batch_op:
        batch_op.drop_column("event_ids")
