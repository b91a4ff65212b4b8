"""Which events of a batch correct or void another: told in one pass over the batch."""

from __future__ import annotations

from datetime import UTC, datetime

from iotbill.domain.events import UsageEvent, naming_another

AT = datetime(2026, 1, 1, tzinfo=UTC)


def plain(id: str) -> UsageEvent:
    return UsageEvent(id, "pump.flow", "pump-1", AT, {"m3": 1})


def test_a_batch_naming_nothing_has_no_positions() -> None:
    assert naming_another([plain("a"), plain("b")]) == []
    assert naming_another([]) == []


def test_corrections_and_voids_are_found_at_their_positions() -> None:
    events = [
        plain("a"),
        UsageEvent("b", "pump.flow", "pump-1", AT, {"m3": 2}, corrects="a"),
        plain("c"),
        UsageEvent("d", "pump.flow", "pump-1", AT, voids="c"),
        plain("e"),
    ]

    assert naming_another(events) == [1, 3]
    assert naming_another(events) == [i for i, e in enumerate(events) if e.replaces is not None]
