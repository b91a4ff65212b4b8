"""What ``customers import`` and ``devices import`` share: reading the file, the report,
the exit code.

Exit codes: 0 every row created or already stored; 2 some rows rejected (bad
input, each with its line); 4 no row rejected but some in conflict with what is
stored. With ``--atomic`` either stores nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

from iotbill.entrypoints.cli.errors import EXIT_CONFLICT, EXIT_INVALID_INPUT

if TYPE_CHECKING:
    from iotbill.services.imports import ImportReport, Row
    from iotbill.services.ports import UnitOfWork

MAX_SHOWN = 50
FormatOption = Annotated[
    str | None,
    typer.Option("--format", help="csv or jsonl (default: from the file's extension)."),
]
AtomicOption = Annotated[
    bool, typer.Option("--atomic", help="Store nothing if any row is rejected or in conflict.")
]


def run_import(
    path: str,
    fields: Collection[str],
    format: str | None,
    uow: UnitOfWork,
    importer: Callable[..., ImportReport],
    *,
    atomic: bool,
    as_json: bool,
) -> None:
    """Import the rows of ``path`` with ``importer``; print the report; exit with its code."""
    from iotbill.adapters.record_files import read_rows
    from iotbill.domain.events import Rejection
    from iotbill.entrypoints.cli.output import print_json

    read = read_rows(path, fields, format)
    rows: Sequence[Row] = read.rows
    unreadable = [Rejection(line, reason) for line, reason in read.unreadable]
    report = importer(uow, rows, unreadable=unreadable, atomic=atomic)
    if as_json:
        print_json(report.as_json())
    else:
        typer.echo(_summary(report))
        _show(read.source, report.rejected, "")
        _show(read.source, report.conflicts, "conflict: ")
    if report.rejected:
        raise typer.Exit(EXIT_INVALID_INPUT)
    if report.conflicts:
        raise typer.Exit(EXIT_CONFLICT)


def _summary(report: ImportReport) -> str:
    from iotbill.entrypoints.cli.output import counted

    parts = [
        f"{report.created:,} created",
        f"{report.unchanged:,} already stored",
        f"{len(report.rejected):,} rejected",
        counted(len(report.conflicts), "conflict"),
    ]
    note = "" if report.stored else " (--atomic: nothing stored)"
    return ", ".join(parts) + note


def _show(source: str, rejections: Sequence[Any], label: str) -> None:
    for rejection in rejections[:MAX_SHOWN]:
        typer.echo(f"{source}:{rejection.line}: {label}{rejection.reason}", err=True)
    if len(rejections) > MAX_SHOWN:
        typer.echo(f"... and {len(rejections) - MAX_SHOWN} more", err=True)
