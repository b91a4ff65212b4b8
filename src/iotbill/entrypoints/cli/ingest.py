"""``iotbill ingest``: store usage events from a JSON Lines file."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from heapq import merge
from itertools import islice
from operator import attrgetter
from typing import TYPE_CHECKING, Annotated

import typer

from iotbill.entrypoints.cli.errors import EXIT_INTERRUPTED, EXIT_INVALID_INPUT
from iotbill.entrypoints.cli.session import session, store_command

if TYPE_CHECKING:
    from iotbill.domain.events import Rejection
    from iotbill.services.ingest import IngestReport
    from iotbill.services.ingest_screen import EventConflict

MAX_SHOWN = 50


def register(app: typer.Typer) -> None:
    """Add ``ingest`` to ``app``."""
    app.command("ingest")(store_command(ingest_command))


def ingest_command(
    file: Annotated[str, typer.Argument(help="Usage events, JSON Lines (- for stdin).")],
    atomic: Annotated[
        bool, typer.Option("--atomic", help="Store nothing if any line is rejected.")
    ] = False,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Most events per transaction.")
    ] = 100_000,
    writers: Annotated[
        int,
        typer.Option(
            "--writers",
            min=1,
            help="Batches stored at once, each on its own connection "
            "(PostgreSQL writes them side by side; SQLite one at a time).",
        ),
    ] = 2,
    clock_skew_hours: Annotated[
        int,
        typer.Option(
            "--clock-skew-hours",
            min=0,
            help="How far after now an event may be stamped (a device clock running fast); "
            "later events are rejected.",
        ),
    ] = 24,
) -> None:
    """Store usage events; report accepted, duplicates and rejected lines.

    Each event is billed to its device's owner at the event's timestamp; events
    of unknown devices, and events a meter billing them refuses (e.g. a negative
    quantity where the meter forbids it), are rejected with their line.
    Re-ingesting a file stores nothing twice. An id repeated with other content is
    a conflict: the first event stands, and the line is listed under 'conflicts'.
    Exit codes: 0 all stored (or duplicates), 2 some lines rejected (with --atomic:
    then nothing is stored) or in conflict, 130 interrupted (Ctrl-C): the batches
    committed stay, whole, and one line says how many events they stored.
    """
    from iotbill.adapters.event_import import EventFile
    from iotbill.entrypoints.cli.output import counted
    from iotbill.services.ingest import IngestInterrupted, ingest_lines

    current = session()
    uow_factory = current.uow_factory
    events = EventFile(file)
    try:
        with _progress(events.lines) as advance:
            report = ingest_lines(
                uow_factory,
                current.tenant,
                events,
                clock=current.clock,
                atomic=atomic,
                batch_size=batch_size,
                writers=writers,
                on_progress=advance,
                clock_skew=timedelta(hours=clock_skew_hours),
            )
    except IngestInterrupted as stopped:
        typer.echo(
            f"interrupted: {counted(stopped.stored, 'event')} stored before stopping, each batch"
            " whole (none with --atomic); ingest the same file again to store the rest",
            err=True,
        )
        raise typer.Exit(EXIT_INTERRUPTED) from None
    current.emit(report.as_json, lambda: _print_report(report, events.source, atomic))
    if report.rejected or report.conflicts:
        raise typer.Exit(EXIT_INVALID_INPUT)


def _print_report(report: IngestReport, source: str, atomic: bool) -> None:
    from iotbill.entrypoints.cli.output import counted

    note = " (--atomic: nothing stored)" if atomic and report.rejected else ""
    typer.echo(
        f"{report.accepted:,} accepted, {counted(report.duplicates, 'duplicate')}, "
        f"{counted(len(report.conflicts), 'conflict')}, {len(report.rejected):,} rejected{note}"
    )
    problems = len(report.rejected) + len(report.conflicts)
    listed: list[Iterable[Rejection | EventConflict]] = [report.rejected, report.conflicts]
    shown = islice(merge(*listed, key=attrgetter("line")), MAX_SHOWN)
    for problem in shown:  # both in line order; the reasons of those shown only
        typer.echo(f"{source}:{problem.line}: {problem.reason}", err=True)
    if problems > MAX_SHOWN:
        typer.echo(f"... and {problems - MAX_SHOWN} more", err=True)


@contextmanager
def _progress(total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar on a terminal (standard error); nothing when piped."""
    if not sys.stderr.isatty():
        yield lambda done: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("ingesting", total=total)
        yield lambda done: progress.update(task, completed=done)
