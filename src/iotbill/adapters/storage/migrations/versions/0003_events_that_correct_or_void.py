"""Usage events that correct or void an earlier one.

``replaces`` names the earlier event (its id) and ``is_void`` says whether
this event voids it (counts for nothing) or corrects it (counts instead of
it). An event is named once: a unique index refuses a second event naming it.
Both columns stay empty on almost every row, and the index holds only the
rows that name one: bulk ingestion writes no more index entries than before.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 19:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_REPLACING = sa.text("replaces IS NOT NULL")


def upgrade() -> None:
    op.add_column("usage_events", sa.Column("replaces", sa.String(256), nullable=True))
    op.add_column(
        "usage_events",
        sa.Column("is_void", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index(
        "ix_usage_events_tenant_id_replaces",
        "usage_events",
        ["tenant_id", "replaces"],
        unique=True,
        sqlite_where=_REPLACING,
        postgresql_where=_REPLACING,
    )


def downgrade() -> None:
    op.drop_index("ix_usage_events_tenant_id_replaces", "usage_events")
    with op.batch_alter_table("usage_events") as batch_op:
        batch_op.drop_column("is_void")
        batch_op.drop_column("replaces")
