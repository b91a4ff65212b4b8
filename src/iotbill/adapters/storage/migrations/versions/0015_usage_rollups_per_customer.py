"""The usage roll-up keeps customers' totals only, and is rebuilt from the events.

Rows per device (0011) multiplied the rows an append writes by the devices
reporting in an hour; an entitlement check reads a customer's whole usage, so
``usage_rollups`` now holds one row per customer, event type, UTC hour and
property, and appends add their sums to it (``sql/rollups``). The table is
made anew and every stored event rolled up again.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 22:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
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


def upgrade() -> None:
    op.drop_table("usage_rollups")
    _create(with_devices=False)
    numbers, numeric, value = _NUMBERS[op.get_bind().dialect.name]
    hour = "e.occurred_at / 3600000000"
    columns = (
        "INSERT INTO usage_rollups (tenant_id, customer_id, event_type, hour, property, "
        "events, high, low) "
    )
    grouping = f"e.tenant_id, e.customer_id, e.event_type, {hour}"
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
    """Back to rows per device (and ``''`` for all), rolled up again from the events."""
    op.drop_table("usage_rollups")
    _create(with_devices=True)
    numbers, numeric, value = _NUMBERS[op.get_bind().dialect.name]
    hour = "e.occurred_at / 3600000000"
    columns = (
        "INSERT INTO usage_rollups (tenant_id, customer_id, event_type, hour, device_id, "
        "property, events, high, low) "
    )
    for device in ("e.device_id", "''"):
        grouping = f"e.tenant_id, e.customer_id, e.event_type, {hour}"
        grouping += ", e.device_id" if device == "e.device_id" else ""
        op.execute(
            f"{columns}SELECT e.tenant_id, e.customer_id, e.event_type, {hour}, {device}, '', "
            f"COUNT(*), 0, COUNT(*) FROM usage_events AS e WHERE {_COUNTING} GROUP BY {grouping}"
        )
        op.execute(
            f"{columns}SELECT e.tenant_id, e.customer_id, e.event_type, {hour}, {device}, j.key, "
            f"COUNT(*), SUM({value} >> 32), SUM({value} & 4294967295) "
            f"FROM usage_events AS e, {numbers} WHERE {_COUNTING} AND {numeric} "
            f"GROUP BY {grouping}, j.key"
        )


def _create(*, with_devices: bool) -> None:
    device = [sa.Column("device_id", sa.String(256), nullable=False)] if with_devices else []
    op.create_table(
        "usage_rollups",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("event_type", sa.String(256), nullable=False),
        sa.Column("hour", sa.BigInteger(), nullable=False),
        *device,
        sa.Column("property", sa.String(256), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.Column("high", sa.BigInteger(), nullable=False),
        sa.Column("low", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id",
            "customer_id",
            "event_type",
            "property",
            *(["device_id"] if with_devices else []),
            "hour",
            name="pk_usage_rollups",
        ),
    )
