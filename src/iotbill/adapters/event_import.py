"""Reading a JSON Lines file for import: a stretch at a time, every readable event and
why each other line is not.

Unlike :func:`~iotbill.adapters.event_files.decode_events`, which refuses a
file with any bad line (a preview must not price a guess), an import keeps the
good lines and reports the bad ones, so one broken line cannot hold back a
day of telemetry. Each stretch (about 100,000 lines) is decoded in one call
when it is well formed; only a stretch with a bad line is decoded again, once,
line by line (:func:`~iotbill.adapters.event_files.decode_lines`).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import BinaryIO

from iotbill.adapters.event_files import decode_lines, open_bytes
from iotbill.domain.events import Lines

STRETCH_BYTES = 16 * 1024 * 1024
"""About how much of the file is decoded at once: some 100,000 lines of telemetry."""
READ_BYTES = 1024 * 1024
"""How much of the file is read at a time, to count its lines or fill a stretch."""


class EventFile:
    """The events of a JSON Lines file (``-``: standard input), read for :func:`ingest_lines`.

    The file is opened at once (so a missing or unreadable file fails before
    anything is stored), then read and decoded a stretch at a time as it is
    iterated: memory holds one stretch of the file, never the whole of it.
    """

    def __init__(self, path: str, stretch_bytes: int = STRETCH_BYTES) -> None:
        if stretch_bytes < 1:
            raise ValueError("stretch_bytes must be at least 1")
        self._path = path
        self._stdin = path == "-"
        self._file = open_bytes(path)
        self.source = "<stdin>" if path == "-" else path
        self._stretch_bytes = stretch_bytes

    @property
    def lines(self) -> int | None:
        """How many lines the file has, counted by one read of it that keeps nothing;
        ``None`` for standard input, which can be read only once."""
        if self._stdin:
            return None
        count, last = 0, b"\n"
        with open_bytes(self._path) as file:
            while chunk := file.read(READ_BYTES):
                count += chunk.count(b"\n")
                last = chunk[-1:]
        return count + (0 if last == b"\n" else 1)

    def __iter__(self) -> Iterator[Lines]:
        file = self._file
        try:
            yield from self._stretches(file)
        finally:
            if not self._stdin:
                file.close()

    def _stretches(self, file: BinaryIO) -> Iterator[Lines]:
        read = file.read
        pending, before, ended = b"", 0, False  # ``before``: lines before ``pending``
        # The first stretches are short, so that storing begins soon; each is
        # twice the one before, up to ``stretch_bytes``.
        size = max(1, self._stretch_bytes // 16)
        while True:
            end = pending.find(b"\n", size - 1)
            while end < 0 and not ended:
                chunk = read(max(READ_BYTES, size - len(pending)))
                ended = not chunk
                searched = max(size - 1, len(pending) - 1, 0)
                pending += chunk
                end = pending.find(b"\n", searched)
            if end < 0:
                if pending:
                    yield self._decode(pending, before)
                return
            stretch, pending = pending[: end + 1], pending[end + 1 :]
            yield self._decode(stretch, before)
            before += stretch.count(b"\n")
            size = min(2 * size, self._stretch_bytes)

    def _decode(self, stretch: bytes, before: int) -> Lines:
        collecting = gc.isenabled()
        gc.disable()  # many new objects, none in a cycle
        try:
            return decode_lines(stretch, before + 1)
        finally:
            if collecting:
                gc.enable()
