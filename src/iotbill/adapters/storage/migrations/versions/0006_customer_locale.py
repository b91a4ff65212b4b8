"""The locale of each customer's documents.

``customers.locale`` is a CLDR locale identifier (``en_US``, ``de_DE``,
``ja_JP``) in which the customer's invoices and credit notes are written.
Customers stored before it get ``en``, what the documents used until then.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 19:05:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "customers", sa.Column("locale", sa.String(35), nullable=False, server_default="en")
    )


def downgrade() -> None:
    with op.batch_alter_table("customers") as batch_op:
        batch_op.drop_column("locale")
