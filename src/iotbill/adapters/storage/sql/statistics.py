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
cheap on large tables, where the check rarely fires). A read that looks up many
windows of events in one statement does the same with ``usage_events``: planned
as nearly empty, it was hashed whole once per statement.

A look-up of fewer than :data:`FEW` rows is not checked: whatever its plan, it
costs at most one pass over the table, while the check costs a statement per
table, and on a table with no rows at all (which ``ANALYZE`` leaves without
statistics) an ``ANALYZE`` every time. A request of ``POST /v1/events`` looks up
its batch's one or few customers: on a store without subscriptions, the check
was four of its statements.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Table, text

FEW = 64
"""Look-ups of fewer rows than this leave the statistics as they are."""


def refresh_outgrown(connection: Connection, tables: Sequence[Table], checked: int) -> None:
    """Analyze each of ``tables`` whose statistics know fewer than ``checked`` rows, or
    nothing of its columns (never analyzed: a ``VACUUM`` counts the rows, but leaves
    the planner to guess how many match a condition, and it guessed 25 of a million).
    Fewer than :data:`FEW` rows checked: nothing to do."""
    if checked < FEW or connection.dialect.name != "postgresql":
        return
    for table in tables:
        found = connection.execute(
            text(
                "SELECT c.reltuples, NOT EXISTS (SELECT FROM pg_stats AS s"
                " WHERE s.schemaname = n.nspname AND s.tablename = c.relname)"
                " FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace"
                " WHERE c.oid = to_regclass(:name)"
            ),
            {"name": table.name},
        ).first()
        if found is not None and (found[0] < checked or found[1]):
            connection.execute(text(f"ANALYZE {table.name}"))
