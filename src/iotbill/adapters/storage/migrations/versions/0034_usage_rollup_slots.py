"""The usage roll-up keeps slots: writers side by side add to rows of their own.

Every append added to the one row of each customer, event type, property and
day it touched, and held that row until it committed: the devices of one
customer posting at once were stored one after another. ``usage_rollups``
gains ``slot`` in its key: on PostgreSQL each writer adds to a slot no other
writer of the tenant holds (``sql/rollups``), and a read sums the slots. The
rows kept so far become slot 0; the downgrade sums each key's slots back into
one row.

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-07 04:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None

_KEY = ("tenant_id", "customer_id", "event_type", "property", "day")
_COLUMNS = "tenant_id, customer_id, event_type, day, property, events, high, low"


def upgrade() -> None:
    _set_aside("usage_rollups_by_day")
    _create(with_slot=True)
    op.execute(
        f"INSERT INTO usage_rollups ({_COLUMNS}, slot) "
        f"SELECT {_COLUMNS}, 0 FROM usage_rollups_by_day"
    )
    op.drop_table("usage_rollups_by_day")


def downgrade() -> None:
    _set_aside("usage_rollups_in_slots")
    _create(with_slot=False)
    key = ", ".join(_KEY)
    op.execute(
        f"INSERT INTO usage_rollups ({_COLUMNS}) "
        f"SELECT tenant_id, customer_id, event_type, day, property, SUM(events), SUM(high), "
        f"SUM(low) FROM usage_rollups_in_slots GROUP BY {key}"
    )
    op.drop_table("usage_rollups_in_slots")


def _set_aside(name: str) -> None:
    """Copy the rows of ``usage_rollups`` into a plain table ``name``, and drop it (its
    key's name is then free for the new table's)."""
    op.execute(f"CREATE TABLE {name} AS SELECT * FROM usage_rollups")
    op.drop_table("usage_rollups")


def _create(*, with_slot: bool) -> None:
    slot = (
        [sa.Column("slot", sa.Integer(), nullable=False, server_default=sa.text("0"))]
        if with_slot
        else []
    )
    op.create_table(
        "usage_rollups",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("event_type", sa.String(256), nullable=False),
        sa.Column("day", sa.BigInteger(), nullable=False),
        sa.Column("property", sa.String(256), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.Column("high", sa.BigInteger(), nullable=False),
        sa.Column("low", sa.BigInteger(), nullable=False),
        *slot,
        sa.PrimaryKeyConstraint(*_KEY, *(["slot"] if with_slot else []), name="pk_usage_rollups"),
    )
