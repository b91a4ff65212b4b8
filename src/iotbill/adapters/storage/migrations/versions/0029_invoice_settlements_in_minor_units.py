"""What settled an invoice, also in minor units: sums that SQL can add exactly.

``invoices.credits``, ``payments`` and ``balance_applied`` are exact decimals
as text, which no database sums exactly (SQLite would read them as floats).
``credits_minor``, ``payments_minor`` and ``balance_applied_minor`` hold the
same amounts as integer counts of the currency's minor unit (an invoice's
settlements are always at its currency's minor unit), so that the overview sums
what is paid and due in SQL (``SUM`` of integers is exact on both databases).

The upgrade fills them for the invoices stored before, exactly: each text is
read as a decimal and scaled by its currency's minor unit, and an amount with
more decimals than its currency has stops the upgrade rather than be rounded.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 00:40:00.000000
"""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from alembic import op

from iotbill.domain.money import currency

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

SETTLEMENTS = ("credits", "payments", "balance_applied")
_SETTLED = sa.text(
    "SELECT tenant_id, id, currency, credits, payments, balance_applied FROM invoices"
    " WHERE credits <> '0' OR payments <> '0' OR balance_applied <> '0'"
)
_FILL = sa.text(
    "UPDATE invoices SET credits_minor = :credits, payments_minor = :payments,"
    " balance_applied_minor = :balance_applied WHERE tenant_id = :tenant AND id = :id"
)
_BATCH = 10_000


def minor_units(text: str, code: str, where: str) -> int:
    """``text`` (an amount in currency ``code``) as an exact count of minor units."""
    scaled = Decimal(text).scaleb(currency(code).minor_units)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{where} is {text} {code}: more decimals than {code} has")
    return int(scaled)


def upgrade() -> None:
    # NOT NULL needs a default for the rows already there (0: nothing settled, as for
    # most of them); the rows that had something settled get theirs below.
    for name in SETTLEMENTS:
        op.add_column(
            "invoices",
            sa.Column(f"{name}_minor", sa.BigInteger(), nullable=False, server_default="0"),
        )
    connection = op.get_bind()
    changes = [
        {
            "tenant": row.tenant_id,
            "id": row.id,
            **{
                name: minor_units(getattr(row, name), row.currency, f"invoice {row.id!r} {name}")
                for name in SETTLEMENTS
            },
        }
        for row in connection.execute(_SETTLED)
    ]
    for start in range(0, len(changes), _BATCH):
        connection.execute(_FILL, changes[start : start + _BATCH])
    if connection.dialect.name == "postgresql":  # every write names them from now on
        for name in SETTLEMENTS:
            op.alter_column("invoices", f"{name}_minor", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("invoices") as batch_op:
        for name in reversed(SETTLEMENTS):
            batch_op.drop_column(f"{name}_minor")
