"""The event table: one row per id, ordered by (timestamp, id), whatever the file order."""

from __future__ import annotations

from datetime import timedelta, timezone
from decimal import Decimal

from iotbill.domain.event_table import EventTable
from iotbill.domain.events import EventConflict, UsageEvent
from tests.unit.conftest import SOURCE, event, hours, quantity, table


def test_a_repeated_id_with_the_same_content_is_one_duplicate() -> None:
    first = event("a", 1, v=Decimal("2.5"))
    built = table(first, event("b", 2, v=1), first, first)
    assert len(built) == 2
    assert built.duplicates == 2
    assert built.conflicts == ()
    assert [e.id for e in built.events] == ["a", "b"]


def test_another_offset_for_the_same_instant_and_1_0_for_1_are_the_same_content() -> None:
    first = event("a", 1, v=1)
    same_instant = UsageEvent(
        "a", "reading", "device-1", first.timestamp.astimezone(timezone(timedelta(hours=2))),
        {"v": Decimal("1.0")},
    )  # fmt: skip
    built = table(first, same_instant)
    assert (built.duplicates, built.conflicts) == (1, ())


def test_a_repeated_id_with_other_content_is_a_conflict_and_the_first_stands() -> None:
    built = table(
        event("a", 1, v=10),
        event("b", 2, v=1),
        event("a", 1, v=99),  # line 3: another value under the same id
        event("a", 5, v=10),  # line 4: another timestamp under the same id
    )
    assert built.duplicates == 0
    assert built.conflicts == (EventConflict("a", 1, 3), EventConflict("a", 1, 4))
    assert quantity("sum", built.events, hours(0, 10)) == Decimal(11)


def test_conflicts_name_the_source_lines_given() -> None:
    built = EventTable.build([event("a", 1, v=1), event("a", 1, v=2)], lines=[7, 12])
    assert built.conflicts == (EventConflict("a", 7, 12),)


def test_equal_timestamps_are_ordered_by_id_whatever_the_file_order() -> None:
    events = [event("c", 1), event("a", 1), event("d", 0), event("b", 1), event("e", 2)]
    built = table(*events)
    assert [e.id for e in built.events] == ["d", "a", "b", "c", "e"]
    assert [e.id for e in table(*reversed(events)).events] == ["d", "a", "b", "c", "e"]


def test_rows_remember_their_source_lines() -> None:
    built = table(event("late", 3), event("early", 1))
    assert [built.location(row) for row in range(len(built))] == [
        f"{SOURCE}:2",
        f"{SOURCE}:1",
    ]


def test_the_latest_reading_among_equal_timestamps_is_the_greatest_id() -> None:
    readings = [event("b", 1, v=2), event("a", 1, v=1)]
    assert quantity("latest", readings, hours(0, 10)) == Decimal(2)
    assert quantity("latest", readings[::-1], hours(0, 10)) == Decimal(2)


def test_a_type_never_seen_has_an_empty_view() -> None:
    built = table(event("a", 1, v=1))
    assert len(built.view("other")) == 0
    assert len(built.view("reading")) == 1
