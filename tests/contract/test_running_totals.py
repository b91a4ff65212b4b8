"""Running totals equal the pure meter, on every store, through everything that changes events.

:meth:`EventStore.running_total` is what an entitlement check reads: the SQL
stores answer from the daily roll-up (plus or less events at the ends),
kept up at every append and reassignment. The reference is the pure core,
``select`` and the aggregation over an :class:`EventTable` of the events as
known, with their owners. Each step that changes the events is followed by a
comparison: a first batch, a replayed batch (duplicates), a batch partly
replayed, late events,
corrections and voids (which name events of earlier batches), and a device
moved to another customer from an instant before its stored events.
"""

from __future__ import annotations

import random
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iotbill.adapters.storage.sql.daily_sums import DAY, HOUR
from iotbill.adapters.storage.sql.rollups import Reading, reading
from iotbill.domain.catalog import Meter
from iotbill.domain.customers import Customer
from iotbill.domain.entitlement_checks import EntitlementAlert
from iotbill.domain.event_table import EventTable
from iotbill.domain.events import UsageEvent
from iotbill.domain.metering import AGGREGATIONS
from iotbill.domain.metering.selection import select
from iotbill.domain.periods import Period, from_micros
from iotbill.services.ports import EventScope, Tenant, UnitOfWorkFactory
from tests.contract.conftest import JAN_1, add_devices, device

COUNT = Meter("readings", "reading", "count")
SUM = Meter("energy", "reading", "sum", "kwh", allow_negative=True)
FILTERED = Meter("north", "reading", "sum", "kwh", (("zone", ("north",)),), allow_negative=True)
SCOPES = (
    EventScope("c1"),
    EventScope("c1", excluded_devices=frozenset({"d2"})),
    EventScope("c1", devices=frozenset({"d2"})),
    EventScope("c2"),
)


@dataclass
class Known:
    """The events as the store should know them, each with its owner."""

    events: list[tuple[UsageEvent, str]] = field(default_factory=list)

    def total(self, meter: Meter, span: Period, scope: EventScope) -> Decimal:
        chosen = [
            event
            for event, owner in self.events
            if owner == scope.customer
            and (scope.devices is None or event.device in scope.devices)
            and event.device not in scope.excluded_devices
        ]
        aggregation = AGGREGATIONS[meter.aggregation]
        groups = select(EventTable.build(chosen), meter, span)
        return sum((aggregation.aggregate(g.window) for g in groups), Decimal(0))


def _reading(rng: random.Random, index: int, device: str, at: datetime) -> UsageEvent:
    value = Decimal(rng.randint(-(10**6), 10**9)).scaleb(-rng.randint(0, 9))
    properties = {"kwh": value, "zone": rng.choice(("north", "south"))}
    return UsageEvent(f"r{index}-{rng.getrandbits(32):x}", "reading", device, at, properties)


def _append(store: UnitOfWorkFactory, tenant: str, events: list[tuple[UsageEvent, str]]) -> int:
    with store(tenant) as uow:
        stored = uow.events.append([e for e, _ in events], [c for _, c in events], JAN_1)
        uow.commit()
    return stored


def _compare(store: UnitOfWorkFactory, tenant: str, known: Known, spans: list[Period]) -> None:
    with store(tenant, read_only=True) as uow:
        for meter in (COUNT, SUM, FILTERED):
            for scope in SCOPES:
                for span in spans:
                    expected = known.total(meter, span, scope)
                    found = uow.events.running_total(meter, span, scope)
                    assert (meter.code, scope, span, found) == (meter.code, scope, span, expected)


def test_running_totals_follow_every_change_to_the_events(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    rng = random.Random(7)
    owners = {"d1": "c1", "d2": "c1", "d3": "c2"}
    add_devices(store, tenant, *(device(d, c) for d, c in owners.items()))
    spans = [
        Period(JAN_1, JAN_1 + timedelta(days=31)),  # whole days only
        Period(JAN_1 + timedelta(hours=5, minutes=17), JAN_1 + timedelta(days=9, seconds=1)),
        Period(JAN_1 + timedelta(minutes=3), JAN_1 + timedelta(minutes=50)),  # inside one day
        # days covered mostly: read as the day's row less the events left out
        Period(JAN_1 + timedelta(hours=1), JAN_1 + timedelta(days=3, hours=20, minutes=1)),
        Period(JAN_1 + timedelta(days=2, minutes=30), JAN_1 + timedelta(days=2, hours=23)),
        Period(JAN_1 + timedelta(hours=6, minutes=30), JAN_1 + timedelta(days=1, hours=2)),
    ]
    known = Known()

    def moment() -> datetime:
        return JAN_1 + timedelta(
            minutes=rng.randint(0, 60 * 24 * 12), microseconds=rng.choice((0, 1))
        )

    first = [
        (_reading(rng, i, d, moment()), owners[d])
        for i, d in enumerate(rng.choices(sorted(owners), k=300))
    ]
    assert _append(store, tenant, first) == 300
    known.events += first
    _compare(store, tenant, known, spans)

    assert _append(store, tenant, first[:50]) == 0  # replayed: nothing changes
    _compare(store, tenant, known, spans)

    again = [(_reading(rng, 500 + i, "d1", moment()), "c1") for i in range(5)]
    assert _append(store, tenant, first[50:60] + again) == 5  # partly replayed: recomputed
    known.events += again
    _compare(store, tenant, known, spans)

    late = [
        (_reading(rng, 1000 + i, "d1", JAN_1 + timedelta(hours=6, minutes=i)), "c1")
        for i in range(20)
    ]
    assert _append(store, tenant, late) == 20
    known.events += late
    _compare(store, tenant, known, spans)

    naming: list[tuple[UsageEvent, str]] = []
    for number, (event, owner) in enumerate(rng.sample(first, 40)):
        if number % 2:
            replacement = UsageEvent(
                f"fix-{number}",
                event.type,
                event.device,
                event.timestamp,
                {"kwh": Decimal(number), "zone": "north"},
                corrects=event.id,
            )
        else:
            replacement = UsageEvent(
                f"void-{number}", event.type, event.device, event.timestamp, voids=event.id
            )
        naming.append((replacement, owner))
    assert _append(store, tenant, naming) == 40
    known.events += naming
    _compare(store, tenant, known, spans)

    since = JAN_1 + timedelta(days=4, minutes=30)
    with store(tenant) as uow:
        moved = uow.events.reassign("d2", "c1", since, "c2")
        uow.commit()
    assert moved == sum(1 for e, c in known.events if e.device == "d2" and e.timestamp >= since)
    known.events = [
        (e, "c2" if e.device == "d2" and e.timestamp >= since else c) for e, c in known.events
    ]
    _compare(store, tenant, known, spans)


def _new_tenant(store: UnitOfWorkFactory) -> str:
    code = f"t-{uuid.uuid4().hex[:10]}"
    with store("default") as uow:
        uow.tenants.add(Tenant(code, code))
        uow.commit()
    with store(code) as uow:
        uow.customers.add(Customer.create(id="c1", name="One", currency_code="USD", timezone="UTC"))
        uow.customers.add(Customer.create(id="c2", name="Two", currency_code="USD", timezone="UTC"))
        uow.commit()
    return code


READINGS = st.lists(
    st.tuples(
        st.sampled_from(("d1", "d2")),
        st.integers(0, 3 * 24 * 60),  # minutes after 1 January 00:00: three days
        st.decimals(-1000, 1000, places=3, allow_nan=False, allow_infinity=False),
        st.sampled_from((None, "corrects", "voids")),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    readings=READINGS,
    start=st.integers(0, 3 * 24 * 60),
    length=st.integers(1, 3 * 24 * 60),
    batches=st.integers(1, 3),
)
def test_property_the_running_total_is_the_pure_meter(
    store: UnitOfWorkFactory,
    readings: list[tuple[str, int, Decimal, str | None]],
    start: int,
    length: int,
    batches: int,
) -> None:
    """Any readings, stored in any number of batches, some later corrected or voided (each
    naming the event before it, in a later batch): every span's total is the pure one."""
    tenant = _new_tenant(store)
    add_devices(store, tenant, device("d1", "c1"), device("d2", "c1"))
    plain: list[tuple[UsageEvent, str]] = []
    naming: list[tuple[UsageEvent, str]] = []
    for index, (device_id, minute, kwh, action) in enumerate(readings):
        at = JAN_1 + timedelta(minutes=minute)
        event = UsageEvent(f"e{index}", "reading", device_id, at, {"kwh": kwh, "zone": "north"})
        plain.append((event, "c1"))
        if action == "corrects":
            fixed = UsageEvent(
                f"c{index}", "reading", device_id, at, {"kwh": kwh + 1}, corrects=event.id
            )
            naming.append((fixed, "c1"))
        elif action == "voids":
            naming.append((UsageEvent(f"v{index}", "reading", device_id, at, voids=event.id), "c1"))
    size = -(-len(plain) // batches)
    for first in range(0, len(plain), size):
        _append(store, tenant, plain[first : first + size])
    if naming:
        _append(store, tenant, naming)
    known = Known(plain + naming)
    span = Period(JAN_1 + timedelta(minutes=start), JAN_1 + timedelta(minutes=start + length))
    with store(tenant, read_only=True) as uow:
        for meter in (COUNT, SUM):
            for scope in SCOPES[:3]:
                assert uow.events.running_total(meter, span, scope) == known.total(
                    meter, span, scope
                )


def test_an_alert_is_recorded_once_by_its_key(store: UnitOfWorkFactory, tenant: str) -> None:
    def alert(percent: int, used: int, day: int) -> EntitlementAlert:
        return EntitlementAlert(
            "sub-1",
            "c1",
            "readings",
            JAN_1,
            Decimal(percent),
            Decimal(used),
            Decimal(1000),
            JAN_1 + timedelta(days=day),
        )

    with store(tenant) as uow:
        assert uow.entitlement_alerts.add_new([alert(80, 812, 3)]) == [alert(80, 812, 3)]
        assert uow.entitlement_alerts.add_new([alert(80, 950, 5), alert(100, 1000, 6)]) == [
            alert(100, 1000, 6)
        ]
        uow.commit()
    with store(tenant) as uow:
        assert uow.entitlement_alerts.add_new([alert(100, 1200, 9)]) == []
        uow.commit()
    with store(tenant, read_only=True) as uow:
        assert uow.entitlement_alerts.list() == [alert(80, 812, 3), alert(100, 1000, 6)]
        assert uow.entitlement_alerts.list("c1") == [alert(80, 812, 3), alert(100, 1000, 6)]
        assert uow.entitlement_alerts.list("c2") == []


@pytest.mark.parametrize("meter", [Meter("peak", "reading", "max", "kwh")])
def test_only_summable_meters_have_running_totals(
    store: UnitOfWorkFactory, tenant: str, meter: Meter
) -> None:
    with store(tenant, read_only=True) as uow, pytest.raises(ValueError, match="not summed"):
        uow.events.running_total(meter, Period(JAN_1, JAN_1 + timedelta(days=1)), SCOPES[0])


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # the docs' example: 1 to 3 January, less 3 January from 15:00 (9 h, not 15)
        (0, 2 * DAY + 15 * HOUR, Reading(0, 2, ((-1, 2 * DAY + 15 * HOUR, 3 * DAY),))),
        # before noon: the morning's events; the whole first day from its row
        (0, DAY + 9 * HOUR, Reading(0, 0, ((1, DAY, DAY + 9 * HOUR),))),
        # a start late in a day: its events; and at noon exactly, the events too
        (
            20 * HOUR,
            DAY + 12 * HOUR,
            Reading(1, 0, ((1, 20 * HOUR, DAY), (1, DAY, DAY + 12 * HOUR))),
        ),
        # inside one day, most of it: the day's row less both ends
        (HOUR, 23 * HOUR, Reading(0, 0, ((-1, 0, HOUR), (-1, 23 * HOUR, DAY)))),
        # inside one day, a little of it: its events
        (3 * HOUR, 4 * HOUR, Reading(1, 0, ((1, 3 * HOUR, 4 * HOUR),))),
        # whole days only
        (DAY, 4 * DAY, Reading(1, 3, ())),
    ],
)
def test_a_span_is_read_from_whole_days_and_the_shorter_side_of_each_partial_day(
    start: int, end: int, expected: Reading
) -> None:
    assert reading(Period(from_micros(start), from_micros(end))) == expected


def test_a_batch_of_mixed_shapes_adds_the_same_whether_new_or_partly_stored(
    store: UnitOfWorkFactory,
) -> None:
    """All new, a batch's sums are computed as it is prepared; with one event stored
    already, from the rows stored. Both give the meters' numbers, whatever the shapes of
    the events' properties and the types of the values beside the summed one."""
    day = timedelta(days=1)

    def reading(id: str, at: timedelta, properties: dict[str, object]) -> UsageEvent:
        return UsageEvent(id, "reading", "d1", JAN_1 + at, properties)

    events = [
        reading("e1", timedelta(hours=10), {"kwh": Decimal("1.5")}),
        reading("e2", timedelta(hours=11), {"kwh": 2, "zone": "n"}),
        reading("e3", timedelta(hours=12), {"kwh": 3, "zone": 4}),  # zone: text, then numbers
        reading("e4", day + timedelta(hours=1), {"kwh": 1, "zone": 4}),
        UsageEvent("e5", "ping", "d2", JAN_1 + day + timedelta(hours=2), {"kwh": "x"}),
        reading("e6", day + timedelta(hours=4), {"kwh": Decimal("-0.25")}),
    ]
    energy = Meter("energy", "reading", "sum", "kwh", allow_negative=True)
    spans = {
        Period(JAN_1, JAN_1 + 2 * day): (5, Decimal("7.25")),
        Period(JAN_1 + timedelta(hours=10, minutes=30), JAN_1 + day + timedelta(hours=3)): (
            3,
            Decimal(6),
        ),
        Period(JAN_1, JAN_1 + day + timedelta(hours=23)): (5, Decimal("7.25")),  # less 23:00
        Period(JAN_1 + timedelta(hours=11), JAN_1 + timedelta(hours=23)): (2, Decimal(5)),
    }
    found = {}
    for already in ([], events[3:4]):  # all new; one stored before
        tenant = _new_tenant(store)
        add_devices(store, tenant, device("d1", "c1"), device("d2", "c1"))
        if already:
            _append(store, tenant, [(event, "c1") for event in already])
        assert _append(store, tenant, [(event, "c1") for event in events]) == 6 - len(already)
        with store(tenant, read_only=True) as uow:
            found[len(already)] = {
                span: (
                    uow.events.running_total(COUNT, span, EventScope("c1")),
                    uow.events.running_total(energy, span, EventScope("c1")),
                )
                for span in spans
            }
    assert found[0] == found[1] == spans


def test_an_id_repeated_within_a_batch_is_stored_and_counted_once(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    add_devices(store, tenant, device("d1", "c1"))
    at = JAN_1 + timedelta(hours=1)
    first = UsageEvent("e1", "reading", "d1", at, {"kwh": Decimal(1)})
    again = UsageEvent("e1", "reading", "d1", at + timedelta(minutes=5), {"kwh": Decimal(7)})
    assert _append(store, tenant, [(first, "c1"), (again, "c1"), (first, "c1")]) == 1
    day = Period(JAN_1, JAN_1 + timedelta(days=1))
    with store(tenant, read_only=True) as uow:
        assert uow.events.running_total(COUNT, day, EventScope("c1")) == 1
        assert uow.events.running_total(SUM, day, EventScope("c1")) == 1  # the first stands
        assert [g.quantity for g in uow.events.aggregate(SUM, day, EventScope("c1"))] == [1]


def test_a_property_named_empty_is_not_taken_for_the_count(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    """The count's row in the roll-up has property ``''``; a number under that name is
    counted as an event like any other, never added to the count."""
    add_devices(store, tenant, device("d1", "c1"))
    at = JAN_1 + timedelta(hours=1)
    events = [
        UsageEvent("e1", "reading", "d1", at, {"": Decimal(5), "kwh": Decimal(1)}),
        UsageEvent("e2", "reading", "d1", at, {"kwh": Decimal(2)}),
    ]
    assert _append(store, tenant, [(event, "c1") for event in events]) == 2
    fix = UsageEvent("f1", "reading", "d1", at, {"": Decimal(6), "kwh": 3}, corrects="e1")
    day = Period(JAN_1, JAN_1 + timedelta(days=1))
    with store(tenant, read_only=True) as uow:
        assert uow.events.running_total(COUNT, day, EventScope("c1")) == 2
    assert _append(store, tenant, [(fix, "c1")]) == 1  # the day recomputed
    with store(tenant, read_only=True) as uow:
        assert uow.events.running_total(COUNT, day, EventScope("c1")) == 2
        assert uow.events.running_total(SUM, day, EventScope("c1")) == 5


def test_two_writers_add_to_the_same_customer_and_day_side_by_side(
    store: UnitOfWorkFactory, tenant: str, request: pytest.FixtureRequest
) -> None:
    """On PostgreSQL an add neither waits for another add under way (each adds to a slot of
    its own), nor lets a recompute of its days run before it ends."""
    if request.node.callspec.params["store"] != "postgresql":
        pytest.skip("SQLite writers take turns; the memory store's never wait")
    add_devices(store, tenant, device("d1", "c1"), device("d2", "c1"))
    at = JAN_1 + timedelta(hours=3)
    day = Period(JAN_1, JAN_1 + timedelta(days=1))
    done: list[str] = []

    def second() -> None:
        with store(tenant) as uow:
            event = UsageEvent("b1", "reading", "d2", at, {"kwh": Decimal(2)})
            uow.events.append([event], ["c1"], JAN_1)
            uow.commit()
        done.append("added")

    def fix() -> None:
        with store(tenant) as uow:
            event = UsageEvent("a2", "reading", "d1", at, {"kwh": Decimal(5)}, corrects="a1")
            uow.events.append([event], ["c1"], JAN_1)
            uow.commit()
        done.append("fixed")

    with store(tenant) as first:
        event = UsageEvent("a1", "reading", "d1", at, {"kwh": Decimal(1)})
        first.events.append([event], ["c1"], JAN_1)
        beside = threading.Thread(target=second)
        beside.start()
        beside.join(timeout=30)
        assert done == ["added"]  # it did not wait for the first to commit
        fixer = threading.Thread(target=fix)
        fixer.start()
        fixer.join(timeout=0.5)
        assert fixer.is_alive()  # the recompute waits for the add under way
        first.commit()
    fixer.join()
    assert done == ["added", "fixed"]
    with store(tenant, read_only=True) as uow:
        assert uow.events.running_total(COUNT, day, EventScope("c1")) == 2
        assert uow.events.running_total(SUM, day, EventScope("c1")) == 7


def test_a_day_with_late_events_is_read_by_the_day_one_without_by_the_hour(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    """Events stored within two days of their timestamps are rolled up by the hour too; a
    day that holds one stored later is read by the day. Either way the total is exact."""
    add_devices(store, tenant, device("d1", "c1"))
    rng = random.Random(11)
    day = timedelta(days=1)
    known = Known()
    recent = [
        (_reading(rng, i, "d1", JAN_1 + timedelta(minutes=37 * i)), "c1") for i in range(60)
    ]  # 1 and 2 January, stored on 2 January: recent
    late = [
        (_reading(rng, 100 + i, "d1", JAN_1 + day + timedelta(minutes=53 * i)), "c1")
        for i in range(10)
    ]  # 2 January, stored on the 20th: late, so 2 January is read by the day
    for batch, received in ((recent, JAN_1 + day), (late, JAN_1 + 19 * day)):
        with store(tenant) as uow:
            uow.events.append([e for e, _ in batch], [c for _, c in batch], received)
            uow.commit()
        known.events += batch
    spans = [
        Period(JAN_1 + timedelta(hours=5, minutes=17), JAN_1 + timedelta(hours=9, seconds=1)),
        Period(JAN_1 + timedelta(minutes=20), JAN_1 + timedelta(hours=23, minutes=10)),
        Period(JAN_1 + timedelta(hours=2), JAN_1 + day + timedelta(hours=20)),
        Period(JAN_1 + day + timedelta(hours=1), JAN_1 + day + timedelta(hours=2)),
    ]
    _compare(store, tenant, known, spans)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # 3 January by the hour: the rows of 1 and 2 January, then 3 January's hours 00:00 to
        # 14:00 (the 15 hours before 15:00)
        (0, 2 * DAY + 15 * HOUR, Reading(0, 1, (), ((48, 62),))),
        # within an hour, the shorter side again: the row of 10:00 less 10:50 to 11:00
        (
            2 * DAY,
            2 * DAY + 10 * HOUR + 50 * 60_000_000,
            Reading(
                1,
                0,
                ((-1, 2 * DAY + 10 * HOUR + 50 * 60_000_000, 2 * DAY + 11 * HOUR),),
                ((48, 58),),
            ),
        ),
    ],
)
def test_a_day_whose_events_are_all_recent_is_read_by_the_hour(
    start: int, end: int, expected: Reading
) -> None:
    found = reading(Period(from_micros(start), from_micros(end)), frozenset({2}))
    assert found == expected
