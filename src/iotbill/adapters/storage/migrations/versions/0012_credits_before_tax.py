"""A tenant's choice of when invoices use customers' credits.

``tenants.credits`` is ``after_tax`` (the default: credits settle what is due,
tax included) or ``before_tax`` (credits lower the subtotal, as a line, and tax
is on the rest).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 22:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "tenants",
        sa.Column("credits", sa.String(16), nullable=False, server_default=sa.text("'after_tax'")),
    )


def downgrade() -> None:
    with op.batch_alter_table("tenants") as batch_op:
        batch_op.drop_column("credits")
