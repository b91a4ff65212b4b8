"""Work orders opened by alert rules.

``work_orders.alert_rule`` names the plan's alert rule that opened the work
order and ``incident_start`` when the incident it saw began; both are empty for
a work order opened by hand, as every one stored before was.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 23:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("work_orders", sa.Column("alert_rule", sa.String(128), nullable=True))
    op.add_column("work_orders", sa.Column("incident_start", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("work_orders") as batch_op:
        batch_op.drop_column("incident_start")
        batch_op.drop_column("alert_rule")
