"""A progress bar for long work, shown on a terminal and silent when piped.

Long commands (ingest, bill-run, invoices export, adoption forecast) draw one
on standard error while standard error is a terminal, and never with
``--json``: their output is then for a program, and standard error carries
only errors.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class Progress(Protocol):
    def __call__(self, done: int, total: int | None = None) -> None: ...


@contextmanager
def progress_bar(
    label: str, total: int | None = None, *, enabled: bool = True
) -> Iterator[Progress]:
    """Yields ``advance(done, total=None)``; draws on standard error only on a terminal,
    and only when ``enabled`` (commands pass ``enabled=not as_json``)."""
    if not enabled or not sys.stderr.isatty():
        yield lambda done, total=None: None
        return
    from rich.console import Console
    from rich.progress import Progress as Bar

    with Bar(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda done, total=None: bar.update(task, completed=done, total=total)
