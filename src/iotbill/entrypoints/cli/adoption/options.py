"""What the adoption commands share: option types, exact number parsing, graph reading."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from iotbill.domain.errors import InvalidInput, Problem

if TYPE_CHECKING:
    from iotbill.adoption.graph import Graph

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
EdgesOption = Annotated[
    Path,
    typer.Option(
        "--edges", help="Edge list: one 'u v' pair per line, whitespace or comma separated."
    ),
]
SeedOption = Annotated[int, typer.Option(help="Seed of every random draw: same seed, same result.")]

#: Ids shown per cell in the readable tables; JSON always lists every id.
SHOWN_IDS = 20


def parse_fraction(text: str, option: str) -> Fraction:
    """``0.4`` or ``2/5`` as an exact fraction; :class:`InvalidInput` at ``option`` otherwise."""
    try:
        return Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        raise InvalidInput.at(
            option, f"expected a number such as 0.4 or 2/5, got {text!r}"
        ) from None


def read_graph(path: Path) -> Graph:
    """The graph of the edge-list file at ``path`` (bad lines named by file and line).

    The file is parsed vectorised when it fits the common case, line by line otherwise
    (see :mod:`iotbill.adoption.edge_lists`).
    """
    from iotbill.adoption.edge_lists import parse_edge_bytes

    try:
        data = path.read_bytes()
    except OSError as error:
        raise InvalidInput.at("--edges", f"cannot read {path}: {error}") from None
    return parse_edge_bytes(data, source=str(path))


def emit_json(payload: dict[str, Any]) -> None:
    """Print ``payload`` as one line of JSON (orjson: a million ids in a few tens of ms)."""
    import orjson

    typer.echo(orjson.dumps(payload).decode())


def shown_ids(ids: list[str]) -> str:
    """The first ids of a list for a table cell, and how many there are in all."""
    shown = ", ".join(ids[:SHOWN_IDS])
    return shown + (f", … ({len(ids)} in all)" if len(ids) > SHOWN_IDS else "")


@contextmanager
def named_as_flags(flags: Mapping[str, str]) -> Iterator[None]:
    """Report the core's complaints about a parameter under its flag: ``--degree``, say."""
    try:
        yield
    except InvalidInput as error:
        raise InvalidInput(
            [Problem(flags.get(p.location, p.location), p.message) for p in error.problems]
        ) from None
