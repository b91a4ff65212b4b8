"""Reading a file for import a stretch at a time: every line numbered as in the file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from iotbill.adapters import event_files, event_import
from iotbill.adapters.event_import import EventFile
from iotbill.domain.errors import InvalidInput
from iotbill.domain.events import Rejection, SourcedEvent, UsageEvent

GOOD = '{"id": "%s", "type": "ping", "device": "d1", "timestamp": "2026-01-01T00:00:00Z"}'


def _write(tmp_path: Path, lines: list[str], end: str = "\n") -> str:
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + end)
    return str(path)


@pytest.mark.parametrize("stretch_bytes", [1, 50, 200, 1 << 20])
def test_lines_keep_their_numbers_across_stretches(tmp_path: Path, stretch_bytes: int) -> None:
    lines = [GOOD % "a", "", GOOD % "b", "{not json", GOOD % "c", '{"id": "d"}', GOOD % "e"]
    events = EventFile(_write(tmp_path, lines, end=""), stretch_bytes)
    stretches = list(events)

    found = [(s.line, s.event.id) for stretch in stretches for s in stretch.events]
    rejected = [(r.line, r.reason) for stretch in stretches for r in stretch.rejected]
    assert found == [(1, "a"), (3, "b"), (5, "c"), (7, "e")]
    assert [line for line, _ in rejected] == [4, 6]
    assert rejected[0][1].startswith("not valid JSON")
    assert rejected[1][1] == "type: is required"
    assert events.lines == 7
    if stretch_bytes == 1:
        assert len(stretches) == 7  # a stretch per line
    if stretch_bytes == 1 << 20:
        assert len(stretches) == 1


def test_an_empty_file_has_no_stretches(tmp_path: Path) -> None:
    events = EventFile(_write(tmp_path, [], end=""))
    assert (list(events), events.lines) == ([], 0)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as raised:
        EventFile(str(tmp_path / "nowhere.jsonl"))
    assert str(raised.value.problems[0]).endswith("nowhere.jsonl: file not found")


def test_a_line_naming_another_event_wrongly_is_rejected_with_its_field(tmp_path: Path) -> None:
    start = GOOD[:-1] % "x"
    lines = [
        GOOD % "a",
        start + ', "corrects": "a", "properties": {"m3": 2}}',  # fine
        start + ', "voids": "a", "properties": {"m3": 2}}',
        start + ', "voids": "a", "corrects": "a"}',
        start + ', "voids": "x"}',
    ]
    (stretch,) = EventFile(_write(tmp_path, lines))

    assert [(s.line, s.event.corrects) for s in stretch.events] == [(1, None), (2, "a")]
    assert [(r.line, r.reason) for r in stretch.rejected] == [
        (3, "properties: a void has none: it only says an event does not count"),
        (4, "voids: an event either corrects or voids another, not both"),
        (5, "voids: event 'x' cannot correct or void itself"),
    ]


class CountingDecoder:
    """The event decoder, counting how often each stretch and line is decoded."""

    def __init__(self, decoder: Any) -> None:
        self.decoder = decoder
        self.calls: list[str] = []

    def decode_lines(self, data: bytes) -> Any:
        self.calls.append(f"stretch of {data.count(b'{')}")
        return self.decoder.decode_lines(data)

    def decode(self, data: bytes) -> Any:
        self.calls.append("line")
        return self.decoder.decode(data)


def test_a_stretch_with_a_bad_line_is_decoded_line_by_line_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counting = CountingDecoder(event_files._DECODER)
    monkeypatch.setattr(event_files, "_DECODER", counting)
    # The file's name holds ":1", which a reason cut out of "name:1: ..." would lose.
    path = tmp_path / "day:1.jsonl"
    path.write_text("\n".join([GOOD % "a", '{"id": "b"}', GOOD % "c"]) + "\n")

    (stretch,) = EventFile(str(path))

    assert counting.calls == ["stretch of 3", "line", "line", "line"]
    assert [s.line for s in stretch.events] == [1, 3]
    assert [(r.line, r.reason) for r in stretch.rejected] == [(2, "type: is required")]


def test_a_line_keeps_the_first_reason_it_is_refused_for() -> None:
    line = SourcedEvent(UsageEvent("a", "ping", "d1", datetime(2026, 1, 1, tzinfo=UTC)), 7)

    line.refuse("device: unknown device 'd1' (add it first)")
    line.refuse("id: repeats the id of line 3, which was rejected")

    assert line.rejection() == Rejection(7, "device: unknown device 'd1' (add it first)")


@pytest.mark.parametrize("read_bytes", [1, 7, 64])
def test_the_file_is_read_a_little_at_a_time_with_the_same_stretches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, read_bytes: int
) -> None:
    lines = [GOOD % n for n in range(40)]
    path = _write(tmp_path, lines)
    whole = [[s.line for s in stretch.events] for stretch in EventFile(path, 400)]
    monkeypatch.setattr(event_import, "READ_BYTES", read_bytes)
    reads: list[int] = []
    opened = event_files.open_bytes

    def counting(name: str) -> Any:
        file = opened(name)
        read = file.read

        def read_some(size: int = -1) -> bytes:
            assert size > 0  # never the whole file at once
            reads.append(size)
            return read(size)

        file.read = read_some  # type: ignore[method-assign]
        return file

    monkeypatch.setattr(event_import, "open_bytes", counting)
    events = EventFile(path, 400)

    assert [[s.line for s in stretch.events] for stretch in events] == whole
    assert len(whole) > 3 and events.lines == 40
    assert max(reads) <= max(read_bytes, 400)


def test_standard_input_streams_and_has_no_line_count_before_it_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io
    import sys

    data = ("\n".join([GOOD % "a", GOOD % "b"]) + "\n").encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    events = EventFile("-")

    assert events.lines is None
    assert [s.event.id for stretch in events for s in stretch.events] == ["a", "b"]
