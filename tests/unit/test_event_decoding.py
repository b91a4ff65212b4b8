"""A line that does not decode as a usage event is refused in iotbill's words: the field,
what it must be, and what was found, never the JSON library's own wording."""

from __future__ import annotations

import pytest

from iotbill.adapters.event_files import decode_event
from iotbill.domain.errors import InvalidInput

GOOD = b'"id": "e1", "type": "pump.flow", "device": "pump-1"'


def _refusal(line: bytes) -> str:
    with pytest.raises(InvalidInput) as refused:
        decode_event(line)
    return str(refused.value)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (
            b"{" + GOOD + b', "timestamp": 1767225600}',
            "timestamp: must be an RFC 3339 string with a UTC offset, got the number 1767225600",
        ),
        (
            b"{" + GOOD + b', "timestamp": "2026-13-01T00:00:00Z"}',
            "timestamp: must be an RFC 3339 date and time, got the string '2026-13-01T00:00:00Z'",
        ),
        (
            b'{"id": 7, "type": "t", "device": "d", "timestamp": "2026-01-01T00:00:00Z"}',
            "id: must be a string, got the number 7",
        ),
        (
            b"{" + GOOD + b', "timestamp": "2026-01-01T00:00:00Z", "properties": [1]}',
            "properties: must be an object, got a list",
        ),
        (b"[1, 2]", "must be an object, got a list"),
        (
            b'{"id": "e1", "type": "t", \xff}',
            "not valid JSON: not UTF-8 text at byte 27 (invalid start byte)",
        ),
        (b'{"id": "e1", "type": ', "not valid JSON: the line ends before its value does"),
        (b'{"id": "e1",, }', "not valid JSON: object keys must be strings at byte 13"),
    ],
)
def test_each_decoding_problem_reads_as_iotbill_says_it(line: bytes, reason: str) -> None:
    assert _refusal(line) == reason


def test_a_stretch_of_lines_names_the_line_refused() -> None:
    from iotbill.adapters.event_files import decode_lines

    lines = decode_lines(
        b"{" + GOOD + b', "timestamp": "2026-01-01T00:00:00Z"}\n{' + GOOD + b', "timestamp": 5}\n',
        1,
    )

    assert [event.event.id for event in lines.events] == ["e1"]
    assert [(r.line, r.reason) for r in lines.rejected] == [
        (2, "timestamp: must be an RFC 3339 string with a UTC offset, got the number 5")
    ]
