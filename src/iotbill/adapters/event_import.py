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

from iotbill.adapters.event_files import decode_lines, read_bytes
from iotbill.domain.events import Lines

STRETCH_BYTES = 16 * 1024 * 1024
"""About how much of the file is decoded at once: some 100,000 lines of telemetry."""


class EventFile:
    """The events of a JSON Lines file (``-``: standard input), read for :func:`ingest_lines`.

    The file is read whole when opened (so an unreadable file fails at once),
    then decoded a stretch at a time as it is iterated.
    """

    def __init__(self, path: str, stretch_bytes: int = STRETCH_BYTES) -> None:
        if stretch_bytes < 1:
            raise ValueError("stretch_bytes must be at least 1")
        self._data = read_bytes(path)
        self.source = "<stdin>" if path == "-" else path
        self._stretch_bytes = stretch_bytes

    @property
    def lines(self) -> int:
        """How many lines the file has."""
        data = self._data
        return data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)

    def __iter__(self) -> Iterator[Lines]:
        data, start, before = self._data, 0, 0  # ``before``: lines before ``start``
        # The first stretches are short, so that storing begins soon; each is
        # twice the one before, up to ``stretch_bytes``.
        size = max(1, self._stretch_bytes // 16)
        while start < len(data):
            end = data.find(b"\n", start + size - 1)
            end = len(data) if end < 0 else end + 1
            stretch = data[start:end]
            yield self._decode(stretch, before)
            before += stretch.count(b"\n")
            start = end
            size = min(2 * size, self._stretch_bytes)

    def _decode(self, stretch: bytes, before: int) -> Lines:
        collecting = gc.isenabled()
        gc.disable()  # many new objects, none in a cycle
        try:
            return decode_lines(stretch, before + 1)
        finally:
            if collecting:
                gc.enable()
