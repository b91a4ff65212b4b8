"""Indexes that give the API's lists a page at a time in code-point order.

The HTTP API pages customers, devices and subscriptions by id, and invoices by
period start, then id, in the store: a page is the rows after the last key of
the page before (:meth:`~iotbill.adapters.storage.sql.repository.Repository._page`).
Ids are ordered by code point, as Python orders them. On SQLite that is the
default (binary) collation, and the primary keys serve the lists by id; the
invoices get an index by tenant, period start and id. On PostgreSQL a text
column has the database's collation, which may order otherwise (``en_US``
ignores hyphens at first), so each list gets an index on its key with the "C"
collation: without it, a page of 100 of 100,000 customers sorted them all
(40 ms, against 2 ms from an index).

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-07 19:40:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0038"
down_revision = "0037"
branch_labels = None
depends_on = None

_POSTGRESQL = {
    "ix_customers_code_points": 'customers (tenant_id, (id COLLATE "C"))',
    "ix_devices_code_points": 'devices (tenant_id, (id COLLATE "C"))',
    "ix_subscriptions_code_points": 'subscriptions (tenant_id, (id COLLATE "C"))',
    "ix_invoices_code_points": 'invoices (tenant_id, period_start, (id COLLATE "C"))',
}
_SQLITE = {"ix_invoices_code_points": "invoices (tenant_id, period_start, id)"}


def upgrade() -> None:
    for name, on in _indexes().items():
        op.execute(f"CREATE INDEX {name} ON {on}")


def downgrade() -> None:
    for name in _indexes():
        op.execute(f"DROP INDEX {name}")


def _indexes() -> dict[str, str]:
    return _POSTGRESQL if op.get_bind().dialect.name == "postgresql" else _SQLITE
