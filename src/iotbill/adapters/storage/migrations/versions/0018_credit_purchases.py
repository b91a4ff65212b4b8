"""One-off charges of a kind: ``one_off``, or ``credit_purchase`` (prepaid credit bought,
billed untaxed on the customer's next invoice).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 22:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "one_off_charges",
        sa.Column("kind", sa.String(16), nullable=False, server_default=sa.text("'one_off'")),
    )


def downgrade() -> None:
    with op.batch_alter_table("one_off_charges") as batch_op:
        batch_op.drop_column("kind")
