"""Reading a file for import a stretch at a time: every line numbered as in the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from iotbill.adapters.event_import import EventFile
from iotbill.domain.errors import InvalidInput

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
