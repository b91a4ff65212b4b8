"""Reading usage events from JSON Lines, fast and exactly.

Numbers in event properties are decoded as ``int`` or ``Decimal`` (never a
binary float), timestamps must carry a UTC offset, and every malformed line is
reported with its file, line number and field. The whole file is decoded in
one call when it is well formed; only when it is not is it decoded again, once,
line by line, to keep each good line and say what is wrong with each bad one.

Every event also obeys the rules of :mod:`iotbill.domain.input_rules`
(:func:`~iotbill.domain.events.event_problem`), and the rules that only the
text shows are checked here: at most six fractional digits of a second (the
decoder would round the seventh), and no key named twice in one object (the
decoder would keep the last). Both are found without a second decode in the
usual case: the text of a stretch is searched for seven digits after a point,
and the keys written (``"name":``) are counted against the keys decoded; only
the lines whose count differs are parsed again, pair by pair.
"""

from __future__ import annotations

import gc
import json
import sys
from decimal import Decimal
from operator import attrgetter
from pathlib import Path
from typing import BinaryIO

import msgspec
import numpy
import numpy.typing

from iotbill.adapters.decoding_problems import decoding_problem
from iotbill.domain.errors import InvalidInput, Problem
from iotbill.domain.event_table import EventTable
from iotbill.domain.events import (
    MAX_PROPERTY_NAME,
    Lines,
    Rejection,
    SourcedEvent,
    UsageEvent,
    event_problem,
)
from iotbill.domain.input_rules import (
    EARLIEST,
    LATEST,
    MAX_DEPTH,
    DuplicateKey,
    fraction_problem,
    unique_keys,
)

MAX_REPORTED = 50
_DECODER = msgspec.json.Decoder(UsageEvent, float_hook=Decimal)
_PROPERTIES = attrgetter("properties")
_TOO_DEEP = Problem("properties", f"nested deeper than {MAX_DEPTH} levels of lists and objects")
_NUL = b"\\u0000"
_QUOTE = ord(b'"')
_WHITE = numpy.zeros(256, dtype=bool)
_WHITE[[0x20, 0x09, 0x0D, 0x0A]] = True  # JSON's white space, indexed by byte


class _Stamp(msgspec.Struct):
    """Only the timestamp of an event, as written."""

    timestamp: str = ""


_STAMPS = msgspec.json.Decoder(_Stamp)


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
    except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):
        return _decode_line_by_line(data, first_line)
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    if (
        len(events) == lines
        and not _names_another_wrongly(data, events)
        and not _breaks_rules(data, events)
    ):
        # One event on every line: line n of the stretch holds its n-th event.
        return list(map(SourcedEvent, events, range(first_line, first_line + lines))), []
    return _decode_line_by_line(data, first_line)


def _long_text(data: bytes, written: numpy.typing.NDArray[numpy.uint8]) -> bool:
    """Whether a string of ``data`` may hold more than :data:`MAX_PROPERTY_NAME` characters:
    a character takes at least a byte, so such a string spans more bytes than that between
    two quotes, unless an escaped quote splits it. (Only then are the names looked at.)"""
    quotes = numpy.flatnonzero(written == _QUOTE)
    if quotes.size > 1 and int(numpy.diff(quotes).max()) > MAX_PROPERTY_NAME:
        return True
    return b'\\"' in data


def _breaks_rules(data: bytes, events: list[UsageEvent]) -> bool:
    """Whether a line of ``data`` (one event per line, in order) breaks a rule of
    :mod:`~iotbill.domain.input_rules`: then each line is checked on its own."""
    if _NUL in data or not all(EARLIEST <= event.timestamp < LATEST for event in events):
        return True  # no NUL can be decoded without "\u0000" in the text: raw NUL is not JSON
    written = numpy.frombuffer(data, dtype=numpy.uint8)
    if _long_text(data, written) and any(
        len(name) > MAX_PROPERTY_NAME for event in events for name in event.properties
    ):
        return True
    if _seven_digits(written) and any(
        fraction_problem(stamp.timestamp) for stamp in _STAMPS.decode_lines(data)
    ):
        return True
    if _keys_once(data, written, events):
        return False
    odd = _odd_lines(data, written, events)
    if odd.size == 0:
        return False
    lines = data.split(b"\n")
    return any(_line_problem(lines[index], events[index]) for index in odd.tolist())


def _seven_digits(written: numpy.typing.NDArray[numpy.uint8]) -> bool:
    """Whether a point or comma is followed by seven digits anywhere in ``written``."""
    marks = numpy.flatnonzero((written == 0x2E) | (written == 0x2C))
    marks = marks[marks < written.size - 7]  # seven digits need room after the mark
    for step in range(1, 8):  # keep the marks followed by a digit at each step
        marks = marks[written[marks + step] - 0x30 < 10]  # below "0" wraps round, above 9
    return bool(marks.size)


def _keys_once(
    data: bytes, written: numpy.typing.NDArray[numpy.uint8], events: list[UsageEvent]
) -> bool:
    """Whether no key is named twice in ``data`` (one event per line), judged by counting
    over the whole of it: ``False`` when the counts cannot tell.

    Where no quote is followed by white space, every key is written ``"name":``, so on
    each line the occurrences of ``":`` are at least the keys written, which are at
    least the keys decoded. When every line has non-empty properties and the document
    has two opening brackets per line, no line has nested properties, and the keys
    decoded on a line are 5, its properties', and ``corrects`` or ``voids``. If the
    totals of ``":`` and of keys decoded are equal, so is every line's: no key was
    written twice.
    """
    sizes = list(map(len, map(_PROPERTIES, events)))
    if not sizes or min(sizes) == 0:
        return False
    if data.count(b"{") + data.count(b"[") != 2 * len(events):
        return False
    after = written[numpy.flatnonzero(written[:-1] == 0x22) + 1]  # what follows each quote
    if _WHITE[after].any():
        return False
    keys = 5 * len(events) + sum(sizes)
    if b'"corrects"' in data or b'"voids"' in data:
        keys += sum(event.replaces is not None for event in events)
    return int(numpy.count_nonzero(after == 0x3A)) == keys


def _odd_lines(
    data: bytes, written: numpy.typing.NDArray[numpy.uint8], events: list[UsageEvent]
) -> numpy.typing.NDArray[numpy.intp]:
    """The lines of ``data`` (0-based, one event each) on which a key might be named twice.

    Where no quote is followed by white space, every key is written ``"name":``, so
    the occurrences of ``":`` on a line are at least the keys written there; if they
    are no more than the keys its event has, no key was written twice. The keys of
    a line with two opening brackets and no other (the event's and its properties')
    are 5, plus its properties', plus ``corrects`` or ``voids``. Odd are the other
    lines: a key named twice, ``":`` inside a string, an explicit ``null``, a quote
    before white space, nested properties, an event without properties.
    """
    count = len(events)
    newlines = numpy.flatnonzero(written == 0x0A)

    def per_line(positions: numpy.typing.NDArray[numpy.intp]) -> numpy.typing.NDArray[numpy.intp]:
        return numpy.bincount(numpy.searchsorted(newlines, positions), minlength=count + 1)[:count]

    quotes = numpy.flatnonzero(written[:-1] == 0x22)
    after = written[quotes + 1]
    colons = per_line(quotes[after == 0x3A])
    spaced = quotes[_WHITE[after]]
    opening = per_line(numpy.flatnonzero((written == 0x7B) | (written == 0x5B)))
    keys = numpy.fromiter(map(len, map(_PROPERTIES, events)), dtype=numpy.int64, count=count)
    expected = keys + 5
    if b'"corrects"' in data or b'"voids"' in data:
        expected += numpy.fromiter(
            (event.replaces is not None for event in events), dtype=numpy.int64, count=count
        )
    odd = (colons != expected) | (opening != 2) | (keys == 0)
    odd[numpy.searchsorted(newlines, spaced)] = True
    return numpy.flatnonzero(odd)


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
            bad.append((number, decoding_problem(error, line)))
            continue
        except RecursionError:
            bad.append((number, _TOO_DEEP))
            continue
        naming = event.replacement_problem() or _line_problem(line, event)
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
        raise InvalidInput([decoding_problem(error, data)]) from None
    except RecursionError:
        raise InvalidInput([_TOO_DEEP]) from None
    problem = event.replacement_problem() or _line_problem(data, event)
    if problem is not None:
        raise InvalidInput([problem])
    return event


def _line_problem(line: bytes, event: UsageEvent) -> Problem | None:
    """What is wrong with the decoded ``event`` of ``line`` by the rules of
    :mod:`~iotbill.domain.input_rules`, if anything."""
    problem = event_problem(event)
    if problem is not None:
        return problem
    wrong = fraction_problem(_STAMPS.decode(line).timestamp)
    if wrong is not None:
        return Problem("timestamp", wrong)
    if _odd_lines(line, numpy.frombuffer(line, dtype=numpy.uint8), [event]).size:
        try:
            pairs = json.loads(line, object_pairs_hook=list, parse_float=Decimal)
        except (ValueError, RecursionError):
            return None  # msgspec read it, so Python's json refused something else: no key
        return _twice(pairs, "")
    return None


def _twice(pairs: list[tuple[str, object]], at: str) -> Problem | None:
    """Where a key is named twice in the objects ``pairs`` (as ``object_pairs_hook=list``
    leaves them), walked without recursion."""
    pending: list[tuple[object, str]] = [(pairs, at)]
    while pending:
        value, path = pending.pop()
        if not isinstance(value, list):
            continue
        is_object = all(isinstance(item, tuple) for item in value) and value != []
        if is_object:
            try:
                unique_keys(value)
            except DuplicateKey as error:
                return Problem(
                    f"{path}.{error.key}" if path else str(error.key),
                    "named twice in one object (which one counts would be a guess)",
                )
            pending.extend((item, f"{path}.{key}" if path else key) for key, item in value)
        else:
            pending.extend((item, f"{path}[{index}]") for index, item in enumerate(value))
    return None
