"""The cells each data export delivered.

``data_export_cells`` holds, per export, the cells it delivered (in delivery
order: ``position``), so that the same export again delivers exactly what was
billed, whatever events, consents or plans came after. Exports stored before
this migration have no cells kept.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-07 02:05:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_export_cells",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("export_id", sa.String(256), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("grp", sa.String(256), nullable=False),
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.String(64), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.Column("owners", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_data_export_cells_tenants"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "export_id"],
            ["data_exports.tenant_id", "data_exports.id"],
            name="fk_data_export_cells_data_exports",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "export_id", "position", name="pk_data_export_cells"),
    )


def downgrade() -> None:
    op.drop_table("data_export_cells")
