"""Lease terms agreed for one subscription, in place of its plan's.

``subscriptions.contract`` holds them as JSON (``{"term", "at_term_end",
"early_termination_fee": {"amount"} | {"percent"} | null, "buy_out"}``, numbers
as exact strings); ``null`` means the plan's terms, if any.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 22:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("subscriptions", sa.Column("contract", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("subscriptions") as batch_op:
        batch_op.drop_column("contract")
