"""Reading a JSON Lines file for import: every readable event, and why each other line is not.

Unlike :func:`~iotbill.adapters.event_files.decode_events`, which refuses a
file with any bad line (a preview must not price a guess), an import keeps the
good lines and reports the bad ones, so one broken line cannot hold back a
day of telemetry. The whole file is decoded in one call when it is well formed.
"""

from __future__ import annotations

import gc

from iotbill.adapters.event_files import decode_events, read_bytes
from iotbill.domain.errors import InvalidInput
from iotbill.domain.events import SourcedEvent
from iotbill.services.ingest import Rejection


def read_events_for_import(path: str) -> tuple[list[SourcedEvent], list[Rejection]]:
    """The events of the file at ``path`` (``-`` for standard input) and its unreadable lines."""
    data = read_bytes(path)
    source = "<stdin>" if path == "-" else path
    collecting = gc.isenabled()
    gc.disable()  # millions of new objects, none in a cycle
    try:
        return _decode(data, source)
    finally:
        if collecting:
            gc.enable()


def _decode(data: bytes, source: str) -> tuple[list[SourcedEvent], list[Rejection]]:
    try:
        events, lines = decode_events(data, source)
    except InvalidInput:
        pass
    else:
        return list(map(SourcedEvent, events, lines)), []
    events_found: list[SourcedEvent] = []
    rejected: list[Rejection] = []
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            [event], _ = decode_events(line, source)
        except InvalidInput as error:
            # Each problem is located at "<source>:1" (the line alone); keep the field and reason.
            prefix = f"{source}:1"
            reasons = [
                str(problem).removeprefix(prefix).removeprefix(": ") for problem in error.problems
            ]
            rejected.append(Rejection(number, "; ".join(reasons)))
        else:
            events_found.append(SourcedEvent(event, number))
    return events_found, rejected
