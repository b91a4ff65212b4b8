"""Reading rows to import (customers, devices) from CSV or JSON Lines.

A file becomes :class:`Rows`: each readable row with its line number and its
fields as written (CSV cells are strings; JSON values keep their type, numbers
as ``int`` or ``Decimal``, never a binary float), and each unreadable line
with why. What a row must hold is the importing use case's to say; here only
the shape of the file is checked:

* **CSV** (``.csv``): a header line names the columns; a column the caller
  does not know is refused before anything else (the whole file: every row
  would miss it), as is a missing or repeated header. A row with more cells
  than the header is unreadable. An empty cell is an absent field. Blank lines
  are skipped. Quoted cells may span lines; a row's number is the line it
  starts on.
* **JSON Lines** (``.jsonl``, ``.ndjson``): one JSON object per line; blank
  lines are skipped; a line that is not a JSON object is unreadable.

The format comes from the file's extension, or ``format`` (needed for
standard input, ``-``). The text must be UTF-8 (a byte order mark is allowed).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from iotbill.adapters.event_files import read_bytes
from iotbill.domain.errors import InvalidInput

RecordFormat = Literal["csv", "jsonl"]
FORMATS: dict[str, RecordFormat] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


@dataclass(frozen=True, slots=True)
class Rows:
    """The rows of a file: ``rows`` as ``(line, fields)``; ``unreadable`` as ``(line, why)``."""

    source: str
    rows: list[tuple[int, dict[str, Any]]]
    unreadable: list[tuple[int, str]]


def read_rows(path: str, fields: Collection[str], format: str | None = None) -> Rows:
    """The rows of the file ``path`` (``-``: standard input), whose known fields are ``fields``.

    :class:`~iotbill.domain.errors.InvalidInput` when the file cannot be read as
    a whole: not found, not UTF-8, an unknown format, a bad CSV header.
    """
    chosen = _format(path, format)
    data = read_bytes(path)
    source = "<stdin>" if path == "-" else path
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise InvalidInput.at(
            f"{source}:{line}",
            f"is not UTF-8 text (byte {error.start + 1} is 0x{data[error.start]:02x})",
        ) from None
    if chosen == "csv":
        return _csv_rows(text, source, fields)
    return _jsonl_rows(text, source)


def _format(path: str, given: str | None) -> RecordFormat:
    if given is not None:
        if given not in ("csv", "jsonl"):
            raise InvalidInput.at("--format", f"must be csv or jsonl, not {given!r}")
        return "csv" if given == "csv" else "jsonl"
    found = FORMATS.get(Path(path).suffix.lower())
    if found is None:
        what = "standard input" if path == "-" else f"{path!r} (not .csv, .jsonl or .ndjson)"
        raise InvalidInput.at("--format", f"give csv or jsonl: the format of {what} is not known")
    return found


def _csv_rows(text: str, source: str, fields: Collection[str]) -> Rows:
    lines = io.StringIO(text, newline="")
    reader = csv.reader(lines)
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, Any]]] = []
    unreadable: list[tuple[int, str]] = []
    start = 1
    try:
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not cells or cells == [""]:
                continue
            if header is None:
                header = _header(cells, source, line, fields)
                continue
            if len(cells) > len(header):
                unreadable.append(
                    (line, f"has {len(cells)} cells, the header names {len(header)} columns")
                )
                continue
            rows.append(
                (
                    line,
                    {name: cell for name, cell in zip(header, cells, strict=False) if cell != ""},
                )
            )
    except csv.Error as error:
        unreadable.append((start, f"is not valid CSV ({error})"))
    if header is None:
        raise InvalidInput.at(f"{source}:1", "has no header line naming the columns")
    return Rows(source, rows, unreadable)


def _header(cells: list[str], source: str, line: int, fields: Collection[str]) -> list[str]:
    names = [cell.strip() for cell in cells]
    problems = []
    for index, name in enumerate(names):
        if name not in fields:
            problems.append(f"unknown column {name!r}")
        elif name in names[:index]:
            problems.append(f"column {name!r} repeats")
    if problems:
        known = ", ".join(fields)
        raise InvalidInput.at(
            f"{source}:{line}", f"{'; '.join(problems)} (the columns are {known})"
        )
    return names


def _jsonl_rows(text: str, source: str) -> Rows:
    rows: list[tuple[int, dict[str, Any]]] = []
    unreadable: list[tuple[int, str]] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line, parse_float=Decimal, parse_constant=_no_constant)
        except (json.JSONDecodeError, ValueError) as error:
            unreadable.append((number, f"is not valid JSON ({_reason(error)})"))
            continue
        if not isinstance(value, dict):
            unreadable.append((number, f"must be a JSON object, not {_kind(value)}"))
            continue
        rows.append((number, value))
    return Rows(source, rows, unreadable)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _reason(error: Exception) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"{error.msg.lower()} at column {error.colno}"
    return str(error)


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"
