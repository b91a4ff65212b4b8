"""Planner statistics for tables that a bulk write outgrows, on PostgreSQL.

PostgreSQL checks each foreign key of a written row with a query planned once per
session from the referenced table's statistics. A table never analyzed, or grown
far past what its statistics say within one run, looks nearly empty, so the
plan scans it whole, once per row written: a first bill run of 1,000 invoices
spent over a second checking its 3,000 lines against ``invoices`` (0.13 s once
the table was analyzed), and the cost grows with the square of the run.
Autovacuum analyzes such a table within a minute or so, too late for the run
that filled it. So a bulk write first analyzes the tables it references whose
statistics know fewer rows than it is about to check (``ANALYZE`` sees the
transaction's own rows, and samples a bounded number of pages, so it stays
cheap on large tables, where the check rarely fires).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Table, text


def refresh_outgrown(connection: Connection, tables: Sequence[Table], checked: int) -> None:
    """Analyze each of ``tables`` whose statistics know fewer than ``checked`` rows."""
    if connection.dialect.name != "postgresql":
        return
    for table in tables:
        known = connection.execute(
            text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:name)"),
            {"name": table.name},
        ).scalar()
        if known is not None and known < checked:
            connection.execute(text(f"ANALYZE {table.name}"))
