"""What the store commands share: JSON and tables out, dates and flag names in.

* :func:`print_json` prints one JSON document (``--json``), exact strings for
  amounts, never floats: the one way iotbill prints JSON.
* :func:`table` and :func:`print_table` make readable rich tables (plain text
  cells; :func:`bold` for emphasis): at any terminal width the amounts stay
  whole and right-aligned while the text wraps; piped, a table is plain ASCII
  at its full width, every cell whole on one line.
* :func:`trimmed` shows an exact decimal without its trailing zeros.
* :func:`local_text` shows an instant in a customer's zone: a local midnight
  as a date (``2026-03-01``), anything else with its local time.
* :func:`flag_names` renames the fields of an :class:`InvalidInput` to the
  command's flags, so ``--from: ...`` names what the user typed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import typer

from iotbill.domain.errors import InvalidInput, Problem
from iotbill.domain.periods import zone

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from iotbill.domain.periods import Period

TEXT_MIN_WIDTH = 6
"""The fewest characters a wrapping text column is given, where the terminal is narrow."""


def print_json(value: Any) -> None:
    """``value`` as indented JSON, non-ASCII text as is."""
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False))


def table(title: str, *columns: str, key_first: bool = True) -> Table:
    """A table with ``columns``; a column named with a trailing ``>`` holds numbers
    (amounts, quantities, counts): right-aligned and never wrapped, so a number is
    never split across lines nor squeezed out by a narrow terminal.

    The first column holds what a user copies into the next command (an id, a
    number): it is kept on one line too, unless ``key_first`` is false (it is a
    description). The other columns wrap.
    """
    from rich.table import Table

    made = Table(title=title, title_justify="left")
    for index, column in enumerate(columns):
        numbers = column.endswith(">")
        made.add_column(
            column.rstrip(">"),
            justify="right" if numbers else "left",
            overflow="fold",
            no_wrap=numbers or (index == 0 and key_first),
        )
    return made


def print_table(shown: Table, console: Console | None = None) -> None:
    """Print ``shown`` on ``console`` (default: standard output); cells are plain text (a
    ``[`` in a name is not rich markup).

    On a terminal, the text columns wrap to fit its width; the unwrapped ones (numbers,
    ids) keep their width, and where even they do not fit, the table is drawn wider
    than the terminal rather than cut a number. Piped (not a terminal), the table is
    plain ASCII at its natural width: every cell whole, on one line.
    """
    from rich import box
    from rich.console import Console

    console = console or Console(markup=False)
    if not console.is_terminal:
        shown.box = box.ASCII
        natural = Console(width=1_000_000).measure(shown).maximum
        console = Console(file=console.file, markup=False, width=natural, color_system=None)
    elif console.width < (least := _least_width(shown)):
        shown.width = least
    console.print(shown, markup=False, crop=False)


def _least_width(shown: Table) -> int:
    """The width at which every unwrapped column is whole and each other has
    :data:`TEXT_MIN_WIDTH` characters: cells, padding and the lines between them."""
    from rich.cells import cell_len

    widths = [
        max(cell_len(str(cell)) for cell in (column.header, *column.cells))
        if column.no_wrap
        else TEXT_MIN_WIDTH
        for column in shown.columns
    ]
    padding = 2 * len(widths)
    lines = len(widths) + 1 if shown.box else 0
    return sum(widths) + padding + lines


def trimmed(value: Decimal) -> str:
    """An exact decimal without trailing zeros, never in exponent form: the steps of a
    charge's arithmetic read ``34.893``, not ``34.89300``, and ``7580``, not ``7580.0``.

    >>> trimmed(Decimal("34.89300")), trimmed(Decimal("7580.0")), trimmed(Decimal("0"))
    ('34.893', '7580', '0')
    """
    from iotbill.domain.quantities import decimal_text

    return decimal_text(value.normalize()) if value else "0"


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


def period_text(period: Period, timezone: str) -> str:
    """A period in ``timezone``: ``2026-01-01 to 2026-02-01``."""
    return f"{local_text(period.start, timezone)} to {local_text(period.end, timezone)}"


def zoned_text(instant: datetime, timezone: str) -> str:
    """:func:`local_text` with the zone it is read in: ``2026-02-01 06:00 (America/Chicago)``."""
    return f"{local_text(instant, timezone)} ({timezone})"


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


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``count`` and ``noun``, plural unless one: ``counted(1, "duplicate")`` is
    ``'1 duplicate'``, ``counted(2, "duplicate")`` ``'2 duplicates'``; thousands
    separated (``'12,000 events'``)."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"
