"""Why a subscription's service ends: asked for, its contract's term, or a buy-out.

``subscriptions.cancel_reason`` is ``requested`` (a cancellation the customer
asked for), ``term_end`` (a lease whose plan says ``at_term_end: cancel``) or
``buy_out`` (the customer bought the leased device: it owns it from the
cancellation's effective instant). Stores made before have only requested
cancellations, which a missing reason means.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 22:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("subscriptions", sa.Column("cancel_reason", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("subscriptions") as batch_op:
        batch_op.drop_column("cancel_reason")
