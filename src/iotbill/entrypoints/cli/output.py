"""What the store commands share: JSON and tables out, dates and flag names in.

* :func:`print_json` prints one JSON document (``--json``), exact strings for
  amounts, never floats.
* :func:`table` and :func:`print_table` make readable rich tables (plain text
  cells; :func:`bold` for emphasis).
* :func:`local_text` shows an instant in a customer's zone: a local midnight
  as a date (``2026-03-01``), anything else with its local time.
* :func:`flag_names` renames the fields of an :class:`InvalidInput` to the
  command's flags, so ``--from: ...`` names what the user typed.
* :func:`now` is the system clock: commands read the time here and pass it on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, time
from typing import TYPE_CHECKING, Any

import typer

from iotbill.domain.errors import InvalidInput, Problem
from iotbill.domain.periods import zone

if TYPE_CHECKING:
    from rich.table import Table
    from rich.text import Text


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False))


def table(title: str, *columns: str) -> Table:
    """A table with ``columns``; a column named with a trailing ``>`` is right-aligned.

    The first column holds what a user copies into the next command (an id, a
    number): it is kept on one line where the width allows; the others wrap.
    """
    from rich.table import Table

    made = Table(title=title, title_justify="left")
    for index, column in enumerate(columns):
        made.add_column(
            column.rstrip(">"),
            justify="right" if column.endswith(">") else "left",
            overflow="fold",
            no_wrap=index == 0,
        )
    return made


def print_table(shown: Table) -> None:
    """Print ``shown``; cells are plain text (a ``[`` in a name is not rich markup)."""
    from rich.console import Console

    Console(markup=False).print(shown)


def bold(text: str) -> Text:
    from rich.text import Text

    return Text(text, style="bold")


def local_text(instant: datetime | None, timezone: str) -> str:
    """``instant`` in ``timezone``: a date at local midnight, else date and time; ``-`` if none."""
    if instant is None:
        return "-"
    local = instant.astimezone(zone(timezone))
    if local.time() == time(0):
        return local.date().isoformat()
    return local.strftime("%Y-%m-%d %H:%M:%S" if local.second else "%Y-%m-%d %H:%M")


@contextmanager
def flag_names(**flags: str) -> Iterator[None]:
    """Inside, an :class:`InvalidInput` at field ``name`` is reported at ``flags[name]``.

    ``with flag_names(start="--from"):`` turns ``start: ...`` into ``--from: ...``.
    """
    try:
        yield
    except InvalidInput as error:
        raise InvalidInput([_renamed(problem, flags) for problem in error.problems]) from None


def _renamed(problem: Problem, flags: dict[str, str]) -> Problem:
    location = problem.location
    head = location.split(".", 1)[0].split("[", 1)[0]
    if head in flags:
        return Problem(flags[head] + location[len(head) :], problem.message)
    return problem


def now() -> datetime:
    """The current instant, from the system clock."""
    from iotbill.bootstrap import system_clock

    return system_clock().now()


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``count`` and ``noun``, plural unless one: ``counted(1, "duplicate")`` is
    ``'1 duplicate'``, ``counted(2, "duplicate")`` ``'2 duplicates'``; thousands
    separated (``'12,000 events'``)."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"
