"""Ingestion on every store: owners resolved at each event's time, duplicates stored once."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest

from iotbill.adapters.clock import FrozenClock
from iotbill.adapters.storage.memory import MemoryStore
from iotbill.domain.catalog import Meter
from iotbill.domain.events import SourcedEvent, UsageEvent
from iotbill.domain.metering.selection import select
from iotbill.domain.periods import Period
from iotbill.services.customers import MovedDevice, move_device
from iotbill.services.ingest import Lines, Rejection, ingest, ingest_lines
from iotbill.services.ports import Appended, EventScope, EventWindow, UnitOfWorkFactory
from tests.contract.conftest import JAN_1, add_devices, device

MOVED_AT = JAN_1 + timedelta(days=15)
CLOCK = FrozenClock(JAN_1 + timedelta(days=40))
JANUARY = Period(JAN_1, JAN_1 + timedelta(days=31))
COUNT = Meter("n", "ping", "count")


def _lines(*events: UsageEvent) -> list[SourcedEvent]:
    return [SourcedEvent(event, line) for line, event in enumerate(events, start=1)]


def _ping(id: str, device_id: str, days: float) -> UsageEvent:
    return UsageEvent(id, "ping", device_id, JAN_1 + timedelta(days=days), {})


def _counts(store: UnitOfWorkFactory, tenant: str) -> dict[str, str]:
    with store(tenant) as uow:
        return {
            customer: str(uow.events.aggregate(COUNT, JANUARY, EventScope(customer))[0].quantity)
            for customer in ("c1", "c2")
        }


def test_events_follow_the_owner_and_bad_lines_do_not_block(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    add_devices(store, tenant, device("d1", "c1").move("c2", MOVED_AT), device("d2", "c2"))
    events = _lines(
        _ping("a", "d1", 1),  # c1's
        _ping("b", "d1", 15),  # the instant of the move: c2's
        _ping("c", "ghost", 2),  # unknown device
        _ping("a", "d1", 1),  # repeated in the file
        _ping("d", "d2", -1),  # before its first owner
        _ping("e", "d2", 3),
    )
    report = ingest(store, tenant, events, clock=CLOCK, batch_size=2)
    assert (report.accepted, report.duplicates) == (3, 1)
    assert [r.line for r in report.rejected] == [3, 5]
    assert "unknown device 'ghost'" in report.rejected[0].reason
    assert "had no owner at 2025-12-31T00:00:00+00:00" in report.rejected[1].reason
    assert _counts(store, tenant) == {"c1": "1", "c2": "2"}


def test_ingesting_again_changes_nothing(store: UnitOfWorkFactory, tenant: str) -> None:
    add_devices(store, tenant, device("d1", "c1"))
    events = _lines(*(_ping(f"e{i}", "d1", i / 10) for i in range(25)))
    first = ingest(store, tenant, events, clock=CLOCK, batch_size=10)
    # A batch mixing stored and new ids (the slow path on PostgreSQL) stores only the new.
    more = events + _lines(_ping("new", "d1", 5))
    again = ingest(store, tenant, more, clock=CLOCK, batch_size=100)
    assert (first.accepted, first.duplicates) == (25, 0)
    assert (again.accepted, again.duplicates) == (1, 25)
    with store(tenant) as uow:
        assert uow.events.count() == 26


def test_atomic_rejects_everything_for_one_bad_line(store: UnitOfWorkFactory, tenant: str) -> None:
    add_devices(store, tenant, device("d1", "c1"))
    events = _lines(_ping("a", "d1", 1), _ping("b", "ghost", 1))
    unreadable = [Rejection(7, "not valid JSON")]
    report = ingest(store, tenant, events, clock=CLOCK, atomic=True, rejected=unreadable)
    assert (report.accepted, report.duplicates) == (0, 0)
    assert [r.line for r in report.rejected] == [2, 7]
    with store(tenant) as uow:
        assert uow.events.count() == 0
    stored = ingest(store, tenant, events[:1], clock=CLOCK, atomic=True)
    assert (stored.accepted, stored.rejected) == (1, ())


def test_received_before_shows_what_an_earlier_invoice_saw(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    add_devices(store, tenant, device("d1", "c1"))
    ingest(store, tenant, _lines(_ping("early", "d1", 1)), clock=FrozenClock(JANUARY.end))
    late_clock = FrozenClock(JANUARY.end + timedelta(days=5))
    ingest(store, tenant, _lines(_ping("late", "d1", 2)), clock=late_clock)
    with store(tenant) as uow:
        scope = EventScope("c1")
        seen = uow.events.load(scope, [COUNT], JANUARY, received_before=late_clock.now())
        everything = uow.events.load(scope, [COUNT], JANUARY)
    assert [event.id for event in seen.events] == ["early"]
    assert [event.id for event in everything.events] == ["early", "late"]


def test_a_batch_of_many_statements_stores_each_event_once(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    # More rows than one SQLite statement takes (4,680), and a short last statement.
    add_devices(store, tenant, device("d1", "c1"))
    events = _lines(*(_ping(f"e{i}", "d1", i / 1000) for i in range(9_000)))
    later = FrozenClock(CLOCK.now() + timedelta(hours=1))
    first = ingest(store, tenant, events[:5_000], clock=CLOCK, batch_size=10_000)
    again = ingest(store, tenant, events, clock=later, batch_size=10_000)
    assert (first.accepted, first.duplicates) == (5_000, 0)
    assert (again.accepted, again.duplicates) == (4_000, 5_000)
    assert _counts(store, tenant) == {"c1": "9000", "c2": "0"}
    with store(tenant) as uow:  # every row's values came back together, received_at too
        stored = uow.events.load(EventScope("c1"), [COUNT], JANUARY)
        first_seen = uow.events.load(EventScope("c1"), [COUNT], JANUARY, later.now())
    assert {e.id: e.timestamp for e in stored.events} == {
        s.event.id: s.event.timestamp for s in events
    }
    assert {e.id for e in first_seen.events} == {s.event.id for s in events[:5_000]}


def test_a_reader_sees_a_snapshot_beside_a_writer(store: UnitOfWorkFactory, tenant: str) -> None:
    add_devices(store, tenant, device("d1", "c1"))
    ingest(store, tenant, _lines(_ping("a", "d1", 1)), clock=CLOCK)
    with store(tenant) as writer:
        writer.events.append([_ping("b", "d1", 2)], ["c1"], CLOCK.now())  # holds the write lock
        with store(tenant, read_only=True) as reader:
            assert reader.events.count() == 1  # at once: the writer has not committed
            with pytest.raises(RuntimeError, match="never committed"):
                reader.commit()
        writer.commit()
    with store(tenant, read_only=True) as reader:
        assert reader.events.count() == 2


def test_events_prepared_in_advance_are_appended_once(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    add_devices(store, tenant, device("d1", "c1"))
    events = [_ping("a", "d1", 1), _ping("b", "d1", 2)]
    with store(tenant, read_only=True) as reader:
        prepared = reader.events.prepare(events, ["c1", "c1"], CLOCK.now())
    assert prepared.count == 2
    for expected in (Appended(2), Appended(0, ("a", "b"))):  # then both are duplicates
        with store(tenant) as writer:
            assert writer.events.append_prepared(prepared) == expected
            writer.commit()
    foreign = MemoryStore().unit_of_work_factory()
    with foreign("default") as other:
        elsewhere = other.events.prepare(events, ["c1", "c1"], CLOCK.now())
    if not isinstance(prepared, type(elsewhere)):
        with store(tenant) as writer, pytest.raises(TypeError, match="another kind of store"):
            writer.events.append_prepared(elsewhere)


def test_loading_for_no_meters_finds_no_events(store: UnitOfWorkFactory, tenant: str) -> None:
    add_devices(store, tenant, device("d1", "c1"))
    ingest(store, tenant, _lines(_ping("a", "d1", 1)), clock=CLOCK)
    with store(tenant, read_only=True) as uow:
        assert uow.events.load(EventScope("c1"), [], JANUARY).events == []


def test_a_devices_events_pass_to_a_new_owner_from_an_instant(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    add_devices(store, tenant, device("d1", "c1"), device("d2", "c1"))
    events = [_ping("a", "d1", 1), _ping("b", "d1", 20), _ping("c", "d1", 25), _ping("d", "d2", 20)]
    ingest(store, tenant, _lines(*events), clock=CLOCK)
    since = JAN_1 + timedelta(days=15)
    with store(tenant) as uow:
        assert uow.events.earliest_of_device("d1", "c1", since) == JAN_1 + timedelta(days=20)
        assert uow.events.earliest_of_device("d1", "c2", since) is None
        assert uow.events.reassign("d1", "c1", since, "c2") == 2
        assert uow.events.earliest_of_device("d1", "c1", since) is None  # seen at once
        # not committed: nothing changed
    assert _counts(store, tenant) == {"c1": "4", "c2": "0"}
    with store(tenant) as uow:
        uow.events.append([_ping("e", "d1", 30)], ["c1"], CLOCK.now())  # also passes, uncommitted
        assert uow.events.reassign("d1", "c1", since, "c2") == 3
        uow.commit()
    assert _counts(store, tenant) == {"c1": "2", "c2": "3"}
    with store(tenant) as uow:
        assert uow.events.reassign("d1", "c1", since, "c2") == 0
        loaded = uow.events.load(EventScope("c2"), [COUNT], JANUARY)
    assert sorted(event.id for event in loaded.events) == ["b", "c", "e"]


def test_a_move_waits_for_the_events_of_its_device_being_stored(
    store: UnitOfWorkFactory, tenant: str, request: pytest.FixtureRequest
) -> None:
    if request.node.callspec.params["store"] == "memory":
        pytest.skip("the memory store's units of work never wait for each other")
    add_devices(store, tenant, device("d1", "c1"))
    moved: list[MovedDevice] = []

    def move() -> None:
        moved.append(move_device(store(tenant), "d1", to_customer="c2", at=MOVED_AT))

    with store(tenant) as writer:
        writer.devices.hold()
        writer.events.append([_ping("a", "d1", 20)], ["c1"], CLOCK.now())
        mover = threading.Thread(target=move)
        mover.start()
        mover.join(timeout=0.5)
        assert mover.is_alive()  # waiting for the writer, however long it takes
        writer.commit()
    mover.join()
    assert moved[0].events == 1  # it saw the event the writer stored
    assert _counts(store, tenant) == {"c1": "0", "c2": "1"}


def _reading(id: str, m3: int, **naming: str) -> UsageEvent:
    return UsageEvent(id, "flow", "d1", JAN_1 + timedelta(days=3), {"m3": m3}, **naming)


def test_an_event_corrected_or_voided_counts_no_more(store: UnitOfWorkFactory, tenant: str) -> None:
    add_devices(store, tenant, device("d1", "c1"))
    water = Meter("w", "flow", "sum", "m3")
    first = ingest(store, tenant, _lines(_reading("a", 5), _reading("b", 7)), clock=CLOCK)
    later = FrozenClock(CLOCK.now() + timedelta(days=1))
    fixes = _lines(_reading("a2", 6, corrects="a"), _reading("a3", 9, corrects="a2"))
    fixes.append(
        SourcedEvent(UsageEvent("b-", "flow", "d1", JAN_1 + timedelta(days=3), voids="b"), 3)
    )
    second = ingest(store, tenant, fixes, clock=later)
    again = ingest(store, tenant, fixes, clock=later)  # the same file again changes nothing

    assert (first.accepted, second.accepted, second.rejected) == (2, 3, ())
    assert (again.accepted, again.duplicates, again.rejected) == (0, 3, ())
    with store(tenant) as uow:
        scope = EventScope("c1")
        [now] = uow.events.aggregate(water, JANUARY, scope)
        seen_then = uow.events.load(scope, [water], JANUARY, received_before=later.now())
        known = uow.events.load(scope, [water], JANUARY)
        [many] = uow.events.load_many([EventWindow(scope, (water,), JANUARY)])
        counts = uow.events.count_many(
            [EventWindow(scope, (water,), JANUARY, when) for when in (later.now(), None)]
        )  # what was stored, every correction and void too: the two differ
        assert set(uow.events.find(["a", "b-", "zz"])) == {"a", "b-"}
        assert uow.events.find(["b-"])["b-"].voids == "b"
        assert uow.events.replaced(["a", "a2", "a3", "b"]) == {"a": "a2", "a2": "a3", "b": "b-"}
    assert str(now.quantity) == "9"  # a3 alone: a and a2 corrected, b voided
    assert sorted(e.id for e in seen_then.events) == ["a", "b"]
    assert [e.id for e in known.events] == [e.id for e in many.events] == ["a3"]
    assert counts == [2, 5]


def test_naming_an_event_wrongly_is_rejected(store: UnitOfWorkFactory, tenant: str) -> None:
    add_devices(store, tenant, device("d1", "c1"))
    ingest(store, tenant, _lines(_reading("a", 5)), clock=CLOCK)
    moved = UsageEvent("x", "flow", "d1", JAN_1 + timedelta(days=4), {"m3": 1}, corrects="c1")
    events = _lines(
        _reading("c1", 6, corrects="a"),
        _reading("c2", 7, corrects="a"),  # a is corrected already, by c1
        _reading("c3", 1, corrects="nothing"),
        moved,  # another timestamp
        _reading("c5", 2, corrects="c6"),  # a later line
        _reading("c6", 3),
    )
    report = ingest(store, tenant, events, clock=CLOCK, batch_size=2)

    assert report.accepted == 2
    assert [(r.line, r.reason) for r in report.rejected] == [
        (2, "corrects: event 'a' is already corrected or voided by 'c1' (name that one)"),
        (3, "corrects: no earlier event has the id 'nothing' (name an event stored before)"),
        (
            4,
            "corrects: event 'c1' is of device 'd1', type 'flow', at 2026-01-04T00:00:00+00:00:"
            " a correction or void keeps all three (void it and send a new event instead)",
        ),
        (5, "corrects: no earlier event has the id 'c6' (name an event stored before)"),
    ]


def test_a_corrected_reading_before_the_period_is_the_one_carried_in(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    add_devices(store, tenant, device("d1", "c1"))
    odometer = Meter("km", "odo", "increase", "km")
    february = Period(JAN_1 + timedelta(days=31), JAN_1 + timedelta(days=59))
    before = february.start - timedelta(days=5)

    def reading(id: str, at: datetime, km: int, **naming: str) -> UsageEvent:
        return UsageEvent(id, "odo", "d1", at, {"km": km}, **naming)

    readings = [reading("r1", before - timedelta(days=4), 100), reading("r2", before, 120)]
    readings.append(reading("r3", february.start + timedelta(days=9), 150))
    assert ingest(store, tenant, _lines(*readings), clock=CLOCK).accepted == 3
    quantities = []
    for fix in (reading("r2-fix", before, 110, corrects="r2"), reading("r2-void", before, 0)):
        if fix.id == "r2-void":
            fix = UsageEvent("r2-void", "odo", "d1", before, voids="r2-fix")
        assert ingest(store, tenant, _lines(fix), clock=CLOCK).rejected == ()
        with store(tenant) as uow:
            [pushed] = uow.events.aggregate(odometer, february, EventScope("c1"))
            [loaded] = uow.events.load_many([EventWindow(EventScope("c1"), (odometer,), february)])
        [usage] = select(loaded, odometer, february)
        assert odometer.aggregator().aggregate(usage.window) == pushed.quantity
        quantities.append(str(pushed.quantity))
    assert quantities == ["40", "50"]  # from 110, then (voided) from 100


def _counted(store: UnitOfWorkFactory, tenant: str) -> tuple[str, list[str]]:
    """The sum of m3 in January, pushed down, and the ids that count, loaded."""
    water = Meter("w", "flow", "sum", "m3")
    with store(tenant) as uow:
        [summed] = uow.events.aggregate(water, JANUARY, EventScope("c1"))
        [table] = uow.events.load_many([EventWindow(EventScope("c1"), (water,), JANUARY)])
    return str(summed.quantity), sorted(event.id for event in table.events)


def test_an_event_is_named_once_whatever_the_input_repeats(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    add_devices(store, tenant, device("d1", "c1"))
    for first in (_reading("a", 5), _reading("a2", 6, corrects="a")):
        ingest(store, tenant, _lines(first), clock=CLOCK)
    resent = ingest(
        store, tenant, _lines(_reading("a", 5), _reading("a9", 9, corrects="a")), clock=CLOCK
    )
    chained = ingest(
        store,
        tenant,
        _lines(_reading("b", 6, corrects="a"), _reading("b2", 8, corrects="b")),
        clock=CLOCK,
    )
    later = ingest(  # a correction of a stored event, which the file sends again below it
        store, tenant, _lines(_reading("a3", 7, corrects="a2"), _reading("a", 5)), clock=CLOCK
    )

    assert [r.reason for r in resent.rejected] == [
        "corrects: event 'a' is already corrected or voided by 'a2' (name that one)"
    ]
    assert [r.reason for r in chained.rejected] == [
        "corrects: event 'a' is already corrected or voided by 'a2' (name that one)",
        "corrects: names the event of line 1, which was rejected",
    ]
    assert (later.accepted, later.duplicates, later.rejected) == (1, 1, ())
    assert _counted(store, tenant) == ("7", ["a3"])


def test_an_event_and_its_correction_and_void_in_one_batch(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    add_devices(store, tenant, device("d1", "c1"))
    void = UsageEvent("v", "flow", "d1", JAN_1 + timedelta(days=3), voids="a2")
    events = _lines(_reading("a", 5), _reading("a2", 6, corrects="a"), void)
    both = UsageEvent("w", "flow", "d1", JAN_1, corrects="a", voids="a")  # not from a file
    first = ingest(store, tenant, [*events, SourcedEvent(both, 4)], clock=CLOCK)
    again = ingest(store, tenant, events, clock=CLOCK)

    assert (first.accepted, [(r.line, r.reason) for r in first.rejected]) == (
        3,
        [(4, "voids: an event either corrects or voids another, not both")],
    )
    assert (again.accepted, again.duplicates, again.rejected) == (0, 3, ())
    assert _counted(store, tenant) == ("0", [])


@pytest.mark.parametrize("bad_line", [False, True])
def test_an_atomic_ingest_checks_names_across_stretches(
    store: UnitOfWorkFactory, tenant: str, bad_line: bool
) -> None:
    add_devices(store, tenant, device("d1", "c1"))
    first = [SourcedEvent(_reading("a", 5), 1)]
    if bad_line:
        first.append(SourcedEvent(UsageEvent("x", "flow", "ghost", JAN_1, {"m3": 1}), 2))
    stretches = [Lines(first), Lines([SourcedEvent(_reading("a2", 6, corrects="a"), 3)])]
    report = ingest_lines(store, tenant, stretches, clock=CLOCK, atomic=True)

    if bad_line:  # only the line to mend is named, and nothing is stored
        assert [r.line for r in report.rejected] == [2]
        assert _counted(store, tenant) == ("0", [])
    else:
        assert (report.accepted, report.rejected) == (2, ())
        assert _counted(store, tenant) == ("6", ["a2"])
