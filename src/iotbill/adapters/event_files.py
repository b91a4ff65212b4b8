"""Reading usage events from JSON Lines, fast and exactly.

Numbers in event properties are decoded as ``int`` or ``Decimal`` (never a
binary float), timestamps must carry a UTC offset, and every malformed line is
reported with its file, line number and field. The whole file is decoded in
one call when it is well formed; only when it is not is it decoded again, once,
line by line, to keep each good line and say what is wrong with each bad one.
"""

from __future__ import annotations

import gc
import re
import sys
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

import msgspec

from iotbill.domain.errors import InvalidInput, Problem
from iotbill.domain.event_table import EventTable
from iotbill.domain.events import Lines, Rejection, SourcedEvent, UsageEvent

MAX_REPORTED = 50
_DECODER = msgspec.json.Decoder(UsageEvent, float_hook=Decimal)
_PATH = re.compile(r" - at `\$(?:\[\d+\])?\.?([^`]*)`$")


def read_bytes(path: str) -> bytes:
    """The bytes of ``path`` (``-`` for standard input); :class:`InvalidInput` if unreadable."""
    if path == "-":
        return sys.stdin.buffer.read()
    with open_bytes(path) as file:
        return file.read()


def open_bytes(path: str) -> BinaryIO:
    """``path`` opened to read its bytes (``-``: standard input); :class:`InvalidInput` if
    it cannot be."""
    if path == "-":
        return sys.stdin.buffer
    try:
        if Path(path).is_dir():
            raise IsADirectoryError(path)
        return Path(path).open("rb")
    except FileNotFoundError:
        raise InvalidInput.at(path, "file not found") from None
    except IsADirectoryError:
        raise InvalidInput.at(path, "is a directory, not a file") from None
    except PermissionError:
        raise InvalidInput.at(path, "permission denied") from None


def decode_events(data: bytes, source: str) -> tuple[list[UsageEvent], list[int]]:
    """The events of a JSON Lines document and the line number of each.

    Blank lines are allowed. Raises :class:`InvalidInput` naming every bad
    line (the first fifty), each at ``source:line``.
    """
    good, bad = _decode(data, 1)
    if bad:
        problems = [problem.within(f"{source}:{line}", ": ") for line, problem in bad]
        if len(problems) > MAX_REPORTED:
            more = len(problems) - MAX_REPORTED
            problems = [*problems[:MAX_REPORTED], Problem("", f"... and {more} more bad lines")]
        raise InvalidInput(problems)
    return [sourced.event for sourced in good], [sourced.line for sourced in good]


def decode_lines(data: bytes, first_line: int = 1) -> Lines:
    """The readable events of a stretch of JSON Lines and, for each unreadable line, why.

    ``first_line`` is the number of the stretch's first line in its file. A
    rejection's reason is ``field: reason`` (or the reason alone, when it is not
    about one field).
    """
    good, bad = _decode(data, first_line)
    return Lines(good, [Rejection(line, str(problem)) for line, problem in bad])


def _decode(data: bytes, first_line: int) -> tuple[list[SourcedEvent], list[tuple[int, Problem]]]:
    """Each readable line's event, and each unreadable line's problem (at a field of the
    line, not yet at the file): decoded in one call when every line is good, else line by
    line, once."""
    try:
        events = _DECODER.decode_lines(data)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return _decode_line_by_line(data, first_line)
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    if len(events) == lines and not _names_another_wrongly(data, events):
        # One event on every line: line n of the stretch holds its n-th event.
        return list(map(SourcedEvent, events, range(first_line, first_line + lines))), []
    return _decode_line_by_line(data, first_line)


def _names_another_wrongly(data: bytes, events: list[UsageEvent]) -> bool:
    """Whether an event corrects or voids another in a way it may not."""
    if b'"corrects"' not in data and b'"voids"' not in data:
        return False
    return any(e.replacement_problem() for e in events if e.replaces is not None)


def read_event_table(path: str) -> EventTable:
    """The deduplicated, ordered events of the JSON Lines file at ``path``."""
    source = "<stdin>" if path == "-" else path
    data = read_bytes(path)
    # Millions of new objects, none in a reference cycle: collecting cycles
    # while they are made only costs time.
    collecting = gc.isenabled()
    gc.disable()
    try:
        events, lines = decode_events(data, source)
        return EventTable.build(events, lines, source)
    finally:
        if collecting:
            gc.enable()


def _decode_line_by_line(
    data: bytes, first_line: int
) -> tuple[list[SourcedEvent], list[tuple[int, Problem]]]:
    good: list[SourcedEvent] = []
    bad: list[tuple[int, Problem]] = []
    for number, line in enumerate(data.split(b"\n"), start=first_line):
        if not line.strip():
            continue
        try:
            event = _DECODER.decode(line)
        except (msgspec.ValidationError, msgspec.DecodeError) as error:
            bad.append((number, _problem(error)))
            continue
        naming = event.replacement_problem()
        if naming is None:
            good.append(SourcedEvent(event, number))
        else:
            bad.append((number, naming))
    return good, bad


def decode_event(data: bytes) -> UsageEvent:
    """One event from one JSON document (an MQTT message): :class:`InvalidInput` naming the
    field and the reason when it is not valid JSON or not a usage event."""
    try:
        event = _DECODER.decode(data)
    except (msgspec.ValidationError, msgspec.DecodeError) as error:
        raise InvalidInput([_problem(error)]) from None
    problem = event.replacement_problem()
    if problem is not None:
        raise InvalidInput([problem])
    return event


def _problem(error: Exception) -> Problem:
    """What is wrong with a line, at the field of the event it is about (if any)."""
    message = str(error)
    if not isinstance(error, msgspec.ValidationError):  # a ValidationError is a DecodeError too
        return Problem("", f"not valid JSON ({message})")
    match = _PATH.search(message)
    field = match.group(1) if match else ""
    text = message[: match.start()] if match else message
    if "timezone component" in text:
        text = "must include a UTC offset, e.g. 2026-01-01T00:00:00Z (naive times are ambiguous)"
    elif text.startswith("Object missing required field"):
        field = text.split("`")[1]
        text = "is required"
    elif text.startswith("Object contains unknown field"):
        field = text.split("`")[1]
        text = (
            "unknown field (an event has id, type, device, timestamp, properties, and may"
            " name an earlier event with corrects or voids)"
        )
    elif "length >= 1" in text:
        text = "must not be empty"
    return Problem(field, text)
