"""An hourly roll-up of recent usage, beside the daily one.

An entitlement check reads the days a span covers in part from the events: up
to half a day of a customer's events at each end. ``usage_rollup_hours`` keeps
the same sums by the UTC hour, of the recent events only (stored at most two
days after their timestamp, as devices send them): a check as of now reads the
hours of today. Late events (a backfill, a file of last month) are kept by the
day only, so an ingest of them adds no more rows than before. Filled from the
stored events that are recent.

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-07 04:55:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None

_COUNTING = (
    "NOT e.is_void AND NOT EXISTS (SELECT 1 FROM usage_events AS r "
    "WHERE r.tenant_id = e.tenant_id AND r.replaces = e.event_id) "
    "AND e.occurred_at >= e.received_at - 172800000000"
)
_NUMBERS = {
    "sqlite": ("json_each(e.measures) AS j", "j.type = 'integer' AND j.key <> ''", "j.value"),
    "postgresql": (
        "jsonb_each(e.measures) AS j",
        "jsonb_typeof(j.value) = 'number' AND j.key <> ''",
        "((j.value #>> '{}')::bigint)",
    ),
}


def upgrade() -> None:
    op.create_table(
        "usage_rollup_hours",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("event_type", sa.String(256), nullable=False),
        sa.Column("hour", sa.BigInteger(), nullable=False),
        sa.Column("property", sa.String(256), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.Column("high", sa.BigInteger(), nullable=False),
        sa.Column("low", sa.BigInteger(), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.PrimaryKeyConstraint(
            "tenant_id",
            "customer_id",
            "event_type",
            "property",
            "hour",
            "slot",
            name="pk_usage_rollup_hours",
        ),
    )
    numbers, numeric, value = _NUMBERS[op.get_bind().dialect.name]
    columns = (
        "INSERT INTO usage_rollup_hours (tenant_id, customer_id, event_type, hour, property, "
        "events, high, low) "
    )
    grouping = "e.tenant_id, e.customer_id, e.event_type, e.occurred_at / 3600000000"
    op.execute(
        f"{columns}SELECT {grouping}, '', COUNT(*), 0, COUNT(*) "
        f"FROM usage_events AS e WHERE {_COUNTING} GROUP BY {grouping}"
    )
    op.execute(
        f"{columns}SELECT {grouping}, j.key, COUNT(*), SUM({value} >> 32), "
        f"SUM({value} & 4294967295) FROM usage_events AS e, {numbers} "
        f"WHERE {_COUNTING} AND {numeric} GROUP BY {grouping}, j.key"
    )


def downgrade() -> None:
    op.drop_table("usage_rollup_hours")
