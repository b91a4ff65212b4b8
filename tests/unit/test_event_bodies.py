"""The body of ``POST /v1/events`` is read item by item as the event files' lines are,
whether or not it breaks lines between its tokens."""

from __future__ import annotations

import json
from decimal import Decimal

from iotbill.entrypoints.api.routes.events import _decode

ITEMS = [
    {
        "id": "e1",
        "type": "pump.flow",
        "device": "p1",
        "timestamp": "2026-01-01T00:00:00+00:00",
        "properties": {"m3": 2.5, "note": "a\nb"},
    },
    {"id": "e2", "type": "pump.flow", "device": "p1", "timestamp": "2026-01-01T00:00:00"},
    {"id": "e3", "type": "pump.flow", "timestamp": "2026-01-01T00:00:01+00:00"},
    {
        "id": "e4",
        "type": "pump.flow",
        "device": "p2",
        "timestamp": "2026-01-01T00:00:02+00:00",
        "properties": {"m3": "1", "m3 ": 3},
    },
]


def test_a_body_with_line_breaks_reads_as_the_same_body_on_one_line() -> None:
    compact = json.dumps(ITEMS).encode()
    indented = json.dumps(ITEMS, indent=2).encode()
    windows = indented.replace(b"\n", b"\r\n")
    assert b"\n" not in compact and b"\n" in indented
    read = [_decode(body) for body in (compact, indented, windows)]
    assert read[0] == read[1] == read[2]
    single, items, refused = read[0]
    assert not single
    assert [(index, event.id, event.properties) for index, event in items] == [
        (0, "e1", {"m3": Decimal("2.5"), "note": "a\nb"}),
        (3, "e4", {"m3": "1", "m3 ": 3}),
    ]
    assert [(rejection.line, rejection.reason.split(":")[0]) for rejection in refused] == [
        (1, "timestamp"),
        (2, "device"),
    ]
