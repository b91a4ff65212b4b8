"""The hourly roll-up of usage, and entitlement alerts.

``usage_rollups`` holds, per customer, event type, UTC hour and device (and
``''`` for all the customer's devices), how many events count and, per
numeric property, the sums of the high and low 32-bit halves of its values in
nano-units; the event store keeps it up at every append and reassignment
(``sql/rollups``). The events stored before are rolled up here.
``entitlement_alerts`` records each alert once per subscription, feature,
period and percentage (the key).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 22:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_COUNTING = (
    "NOT e.is_void AND NOT EXISTS (SELECT 1 FROM usage_events AS r "
    "WHERE r.tenant_id = e.tenant_id AND r.replaces = e.event_id)"
)
_NUMBERS = {
    "sqlite": (
        "json_each(e.measures) AS j",
        "j.type = 'integer' AND j.key <> ''",
        "j.value",
    ),
    "postgresql": (
        "jsonb_each(e.measures) AS j",
        "jsonb_typeof(j.value) = 'number' AND j.key <> ''",
        "((j.value #>> '{}')::bigint)",
    ),
}


def upgrade() -> None:
    op.create_table(
        "usage_rollups",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("event_type", sa.String(256), nullable=False),
        sa.Column("hour", sa.BigInteger(), nullable=False),
        sa.Column("device_id", sa.String(256), nullable=False),
        sa.Column("property", sa.String(256), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.Column("high", sa.BigInteger(), nullable=False),
        sa.Column("low", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id",
            "customer_id",
            "event_type",
            "property",
            "device_id",
            "hour",
            name="pk_usage_rollups",
        ),
    )
    op.create_table(
        "entitlement_alerts",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.String(128), nullable=False),
        sa.Column("feature", sa.String(128), nullable=False),
        sa.Column("counted_from", sa.BigInteger(), nullable=False),
        sa.Column("percent", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("used", sa.String(64), nullable=False),
        sa.Column("allowance", sa.String(64), nullable=False),
        sa.Column("reached_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_entitlement_alerts_tenants"
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id",
            "subscription_id",
            "feature",
            "counted_from",
            "percent",
            name="pk_entitlement_alerts",
        ),
    )
    op.create_index(
        "ix_entitlement_alerts_tenant_id_customer_id",
        "entitlement_alerts",
        ["tenant_id", "customer_id"],
    )
    _roll_up_stored_events()


def _roll_up_stored_events() -> None:
    """The roll-up rows of every event stored before: per device, then all devices."""
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


def downgrade() -> None:
    op.drop_table("entitlement_alerts")
    op.drop_table("usage_rollups")
