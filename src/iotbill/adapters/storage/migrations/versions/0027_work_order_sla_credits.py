"""SLA credits of work orders.

``work_orders.sla_percent`` is the percent of its period's service fees that a
work order's late visit earned, and ``sla_invoice_id`` the invoice that credited
it; both are empty until a bill run credits the breach, as for every work order
stored before.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 00:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("work_orders", sa.Column("sla_percent", sa.String(32), nullable=True))
    op.add_column("work_orders", sa.Column("sla_invoice_id", sa.String(256), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("work_orders") as batch_op:
        batch_op.drop_column("sla_invoice_id")
        batch_op.drop_column("sla_percent")
