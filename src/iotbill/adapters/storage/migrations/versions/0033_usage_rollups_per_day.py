"""The usage roll-up keeps days, not hours, and is rebuilt from the events.

An append adds to one roll-up row per customer, type, property and bucket it
touches: a batch from a file or a backfill spans weeks of many customers, and
with hours it touched about one row per event, which cost more than writing the
events. ``usage_rollups`` now holds one row per customer, event type, UTC day
and property (``day`` is ``occurred_at // 86,400,000,000``); a read takes the
partial days at its ends from the events (``sql/rollups``). The table is made
anew and every stored event rolled up again; the downgrade does the same by
hours.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-07 03:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None

_COUNTING = (
    "NOT e.is_void AND NOT EXISTS (SELECT 1 FROM usage_events AS r "
    "WHERE r.tenant_id = e.tenant_id AND r.replaces = e.event_id)"
)
_NUMBERS = {
    "sqlite": ("json_each(e.measures) AS j", "j.type = 'integer' AND j.key <> ''", "j.value"),
    "postgresql": (
        "jsonb_each(e.measures) AS j",
        "jsonb_typeof(j.value) = 'number' AND j.key <> ''",
        "((j.value #>> '{}')::bigint)",
    ),
}
_DAY = 86_400_000_000
_HOUR = 3_600_000_000


def upgrade() -> None:
    _rebuild("day", _DAY)


def downgrade() -> None:
    _rebuild("hour", _HOUR)


def _rebuild(bucket: str, micros: int) -> None:
    """Make ``usage_rollups`` anew with a ``bucket`` column of ``micros`` each, and roll
    every event that counts up into it."""
    op.drop_table("usage_rollups")
    op.create_table(
        "usage_rollups",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("event_type", sa.String(256), nullable=False),
        sa.Column(bucket, sa.BigInteger(), nullable=False),
        sa.Column("property", sa.String(256), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.Column("high", sa.BigInteger(), nullable=False),
        sa.Column("low", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "customer_id", "event_type", "property", bucket, name="pk_usage_rollups"
        ),
    )
    numbers, numeric, value = _NUMBERS[op.get_bind().dialect.name]
    columns = (
        f"INSERT INTO usage_rollups (tenant_id, customer_id, event_type, {bucket}, property, "
        "events, high, low) "
    )
    grouping = f"e.tenant_id, e.customer_id, e.event_type, e.occurred_at / {micros}"
    op.execute(
        f"{columns}SELECT {grouping}, '', COUNT(*), 0, COUNT(*) "
        f"FROM usage_events AS e WHERE {_COUNTING} GROUP BY {grouping}"
    )
    op.execute(
        f"{columns}SELECT {grouping}, j.key, COUNT(*), SUM({value} >> 32), "
        f"SUM({value} & 4294967295) FROM usage_events AS e, {numbers} "
        f"WHERE {_COUNTING} AND {numeric} GROUP BY {grouping}, j.key"
    )
