"""Invoices know their kind: opening, change, cancellation or period close.

Until now the kind was only written into an invoice's id
(``sub-1/close/2026-02-01T00:00:00+00:00``) and read back out of it. The new
``kind`` column holds it; the upgrade fills it for the invoices stored before,
from the ids that the bill run gave them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 19:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_KIND_FROM_ID = sa.text(
    "UPDATE invoices SET kind = CASE"
    " WHEN id LIKE '%/close/%' THEN 'close'"
    " WHEN id LIKE '%/change/%' THEN 'change'"
    " WHEN id LIKE '%/cancellation' THEN 'cancellation'"
    " ELSE 'opening' END"
)


def upgrade() -> None:
    # NOT NULL needs a default for the rows already there. SQLite adds such a column in
    # place (a table rebuilt by batch mode would trip the invoice lines' foreign keys) but
    # cannot drop its default later: there it stays, unused, as every insert names the kind.
    op.add_column(
        "invoices",
        sa.Column("kind", sa.String(16), nullable=False, server_default="opening"),
    )
    op.execute(_KIND_FROM_ID)
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("invoices", "kind", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("invoices") as batch_op:
        batch_op.drop_column("kind")
