"""A customer's tax rate changes.

``customer_tax_rates`` holds each change of a customer's tax rate: the rate (a
percentage, as exact text) in force from ``valid_from`` (microseconds since the
epoch, UTC) on. ``customers.tax_rate`` stays the rate before the first change.
An invoice is taxed at the rate in force at its issue.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 23:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer_tax_rates",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("valid_from", sa.BigInteger(), nullable=False),
        sa.Column("rate", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_customer_tax_rates_tenants"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "customer_id"],
            ["customers.tenant_id", "customers.id"],
            name="fk_customer_tax_rates_customers",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "customer_id", "valid_from", name="pk_customer_tax_rates"
        ),
    )


def downgrade() -> None:
    op.drop_table("customer_tax_rates")
