"""Ingestion through the use case, on every store: meters refuse what they cannot bill,
and an input read a stretch at a time is decided exactly as if read whole."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from iotbill.adapters.clock import FrozenClock
from iotbill.adapters.plan_files import parse_plan_document
from iotbill.domain.catalog import Meter
from iotbill.domain.events import SourcedEvent, UsageEvent
from iotbill.domain.periods import Period
from iotbill.services.catalog import apply_plan
from iotbill.services.customers import add_device, move_device
from iotbill.services.ingest import Lines, Rejection, ingest, ingest_lines
from iotbill.services.ports import EventScope, Tenant, UnitOfWorkFactory
from iotbill.services.subscriptions import create_subscription
from tests.service_layer.documents import add_customers, water_plan

CLOCK = FrozenClock(datetime(2026, 2, 3, tzinfo=UTC))
WATER = Meter("water", "pump.flow", "sum", "m3")
JANUARY = Period(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC))
JAN_5 = datetime(2026, 1, 5, tzinfo=UTC)


@pytest.fixture
def tenant(store: UnitOfWorkFactory) -> str:
    """A tenant whose customer acme subscribes pump p1 to water, which meters pump.flow's m3.

    Pump p2 belongs to berlin, who has no subscription: nothing checks its events.
    """
    code = f"i-{uuid.uuid4().hex[:10]}"
    with store("default") as unit:
        unit.tenants.add(Tenant(code, f"Tenant {code}"))
        unit.commit()
    add_customers(lambda: store(code))
    apply_plan(store(code), parse_plan_document(water_plan("water"), "water.yaml"), CLOCK)
    add_device(store(code), "p1", customer="acme", start=date(2026, 1, 1))
    add_device(store(code), "p2", customer="berlin", start=date(2026, 1, 1))
    create_subscription(store(code), customer="acme", plan="water", start=date(2026, 1, 1))
    return code


def _flow(id: str, m3: object, device: str = "p1", hours: int = 0) -> UsageEvent:
    return UsageEvent(id, "pump.flow", device, JAN_5 + timedelta(hours=hours), {"m3": m3})


def _numbered(*events: UsageEvent) -> list[SourcedEvent]:
    return [SourcedEvent(event, line) for line, event in enumerate(events, start=1)]


def _stored_ids(store: UnitOfWorkFactory, tenant: str) -> list[str]:
    with store(tenant, read_only=True) as uow:
        found = [
            uow.events.load(EventScope(customer), [WATER], JANUARY).events
            for customer in ("acme", "berlin")
        ]
    return sorted(event.id for events in found for event in events)


def test_a_negative_quantity_the_meter_forbids_is_rejected_and_not_stored(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    events = _numbered(
        _flow("a", Decimal("1.5")),
        _flow("b", Decimal("-2")),  # water does not allow negative m3
        _flow("c", Decimal("-2"), device="p2"),  # berlin's pump: no meter bills it
        _flow("b", Decimal("3")),  # repeats a rejected id: rejected too
    )
    report = ingest(store, tenant, events, clock=CLOCK)

    assert (report.accepted, report.duplicates) == (2, 0)
    assert [(r.line, r.reason) for r in report.rejected] == [
        (
            2,
            "properties.m3: negative value -2 is not allowed "
            "(set allow_negative: true on the meter to accept it) (meter 'water')",
        ),
        (4, "id: repeats the id of line 2, which was rejected"),
    ]
    assert _stored_ids(store, tenant) == ["a", "c"]


def test_atomic_stores_nothing_when_a_meter_refuses_one_event(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    events = _numbered(_flow("a", 1), _flow("b", -1, hours=1))
    report = ingest(store, tenant, events, clock=CLOCK, atomic=True)

    assert (report.accepted, [r.line for r in report.rejected]) == (0, [2])
    assert _stored_ids(store, tenant) == []


def _input() -> tuple[list[SourcedEvent], list[Rejection]]:
    events = [
        SourcedEvent(_flow("e1", 1), 1),
        SourcedEvent(_flow("e2", -1), 2),  # refused by the meter
        SourcedEvent(_flow("e1", 5), 4),  # repeats an id with other content: a conflict
        SourcedEvent(_flow("e2", 2), 5),  # repeats a refused id: rejected
        SourcedEvent(_flow("e6", 1, device="ghost"), 6),  # unknown device
        SourcedEvent(_flow("e7", 2, hours=1), 7),
        SourcedEvent(_flow("e7", 2, hours=1), 8),  # a duplicate
        SourcedEvent(_flow("e9", -3, device="p2"), 9),  # no meter bills berlin's pump
        SourcedEvent(_flow("e10", 4, hours=2), 10),
    ]
    return events, [Rejection(3, "not valid JSON")]


@pytest.mark.parametrize("size", [1, 3, 10])
def test_stretches_of_any_size_decide_as_the_whole_input_does(
    store: UnitOfWorkFactory, tenant: str, size: int
) -> None:
    events, rejected = _input()
    stretches = [
        Lines(
            [sourced for sourced in events if first <= sourced.line < first + size],
            [rejection for rejection in rejected if first <= rejection.line < first + size],
        )
        for first in range(1, 11, size)
    ]
    seen: list[int] = []
    report = ingest_lines(
        store, tenant, stretches, clock=CLOCK, batch_size=2, on_progress=seen.append
    )

    assert (report.accepted, report.duplicates) == (4, 1)
    assert [(c.line, c.id, c.first_line) for c in report.conflicts] == [(4, "e1", 1)]
    assert report.conflicts[0].reason == (
        "id: 'e1' is the id of the event of line 1, with other content; the first one stands"
    )
    assert [r.line for r in report.rejected] == [2, 3, 5, 6]
    assert report.rejected[2].reason == "id: repeats the id of line 2, which was rejected"
    assert _stored_ids(store, tenant) == ["e1", "e10", "e7", "e9"]
    assert seen == sorted(seen) and seen[-1] == 10  # every line dealt with, counted once


def test_a_repeat_of_an_id_written_already_is_decided_by_the_store(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    # One writer, batches of one event: a batch is written, and its ids forgotten, once the
    # next one is handed over. So line 3's first line (1) is no longer held when it comes,
    # the store skips it and the event read back is the same: a duplicate; line 5's is
    # other content: a conflict with an event stored before (no first line). Refused ids
    # are kept whole: line 7 repeats refused line 6 four stretches on.
    lines = [
        SourcedEvent(_flow("e1", 1), 1),
        SourcedEvent(_flow("e2", 2, hours=1), 2),
        SourcedEvent(_flow("e1", 1), 3),
        SourcedEvent(_flow("e3", 3, hours=2), 4),
        SourcedEvent(_flow("e1", 9), 5),
        SourcedEvent(_flow("e9", -1), 6),  # refused by the meter
        SourcedEvent(_flow("e4", 4, hours=3), 7),
        SourcedEvent(_flow("e5", 5, hours=4), 8),
        SourcedEvent(_flow("e9", 1), 9),
    ]
    report = ingest_lines(
        store, tenant, [Lines([line]) for line in lines], clock=CLOCK, batch_size=1, writers=1
    )

    assert (report.accepted, report.duplicates) == (5, 1)
    assert [(c.line, c.id, c.first_line) for c in report.conflicts] == [(5, "e1", None)]
    assert [r.line for r in report.rejected] == [6, 9]
    assert report.rejected[1].reason == "id: repeats the id of line 6, which was rejected"
    assert _stored_ids(store, tenant) == ["e1", "e2", "e3", "e4", "e5"]
    with store(tenant, read_only=True) as uow:
        assert uow.events.find(["e1"])["e1"].properties == {"m3": 1}  # the first stands
        total = uow.events.running_total(WATER, JANUARY, EventScope("acme"))
    assert total == Decimal(15)  # 1 + 2 + 3 + 4 + 5: the repeats add nothing


def test_a_move_recorded_during_an_ingest_takes_the_events_it_stores(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    # Not with atomic: its one transaction holds the devices (the write lock on SQLite)
    # from its first batch, so a move waits for the whole ingest, here on this thread.
    def stretches() -> Iterator[Lines]:
        yield Lines(_numbered(_flow("a", 1)))  # p1 is read, acme's
        # Recorded while the ingest runs: the next stretch is attributed by what it read.
        moved = move_device(store(tenant), "p1", to_customer="berlin", at=date(2026, 1, 10))
        assert moved.events == 0  # nothing of p1's from January 10 stored yet
        yield Lines([SourcedEvent(_flow("b", 2, hours=24 * 7), 2), SourcedEvent(_flow("c", 3), 3)])

    report = ingest_lines(store, tenant, stretches(), clock=CLOCK)

    assert (report.accepted, report.rejected) == (3, ())
    with store(tenant, read_only=True) as uow:
        owned = {
            customer: sorted(
                e.id for e in uow.events.load(EventScope(customer), [WATER], JANUARY).events
            )
            for customer in ("acme", "berlin")
        }
    assert owned == {"acme": ["a", "c"], "berlin": ["b"]}  # b happened on January 12


def test_an_id_stored_before_with_other_content_is_a_conflict_and_the_first_stands(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    ingest(store, tenant, _numbered(_flow("a", 1), _flow("b", 2)), clock=CLOCK)
    for atomic in (False, True):
        again = _numbered(_flow("a", 1), _flow("b", 7), _flow("c", 3, hours=1))
        report = ingest(store, tenant, again, clock=CLOCK, atomic=atomic, batch_size=2)
        accepted = 1 if not atomic else 0
        assert (report.accepted, report.duplicates) == (accepted, 1 + (not accepted))
        assert [(c.line, c.id, c.first_line) for c in report.conflicts] == [(2, "b", None)]
        assert report.conflicts[0].reason.startswith("id: 'b' is the id of an event stored before")
    with store(tenant) as uow:
        assert uow.events.find(["b"])["b"].properties == {"m3": 2}


def test_the_report_names_the_line_of_every_duplicate_as_the_store_found_it(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    ingest(store, tenant, _numbered(_flow("a", 1), _flow("b", 2)), clock=CLOCK)
    for atomic in (False, True):
        # Line 1 is stored before, the same; line 2 is stored before, other; line 3 is new;
        # line 4 repeats line 3; line 5 repeats line 1; line 6 is new.
        again = _numbered(
            _flow("a", 1),
            _flow("b", 7),
            _flow("c", 3, hours=1),
            _flow("c", 3, hours=1),
            _flow("a", 1),
            _flow("d", 4, hours=2),
        )
        report = ingest(store, tenant, again, clock=CLOCK, atomic=atomic, batch_size=2)
        new = 2 if not atomic else 0  # c and d, stored the first time round
        assert (report.accepted, report.duplicates) == (new, 6 - new - 1)
        assert [conflict.line for conflict in report.conflicts] == [2]
        assert tuple(report.duplicate_lines) == ((1, 4, 5) if not atomic else (1, 3, 4, 5, 6))
    assert _stored_ids(store, tenant) == ["a", "b", "c", "d"]


def test_a_batch_partly_stored_before_is_written_again_knowing_which(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    ingest(store, tenant, _numbered(_flow("b", 2)), clock=CLOCK)
    events = _numbered(_flow("a", 1), _flow("b", 2), _flow("c", 3, hours=1))
    report = ingest(store, tenant, events, clock=CLOCK, batch_size=1000)
    assert (report.accepted, report.duplicates, tuple(report.duplicate_lines)) == (2, 1, (2,))
    assert report.conflicts == ()
    assert _stored_ids(store, tenant) == ["a", "b", "c"]


def test_the_cycle_collector_is_paused_while_ingesting_and_run_every_sixteen_stretches(
    store: UnitOfWorkFactory, tenant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 40 stretches of one line: full collections after the 16th and the 32nd, none
    # automatic in between, and the collector as it was once the ingest ends.
    import gc

    from iotbill.services import ingest as ingesting

    collected: list[int] = []
    paused: list[bool] = []

    def stretches() -> Iterator[Lines]:
        for line in range(1, 41):
            paused.append(not gc.isenabled())
            yield Lines([SourcedEvent(_flow(f"e{line}", line, hours=line), line)])

    monkeypatch.setattr(ingesting, "collect", lambda: collected.append(len(paused)))
    assert gc.isenabled()
    report = ingest_lines(store, tenant, stretches(), clock=CLOCK, batch_size=7)

    assert report.accepted == 40 and not report.rejected
    assert all(paused) and len(paused) == 40
    assert collected == [16, 32]
    assert gc.isenabled()
    assert len(_stored_ids(store, tenant)) == 40
