"""The event store's meters equal the pure core's, exactly, on generated event streams.

The pure reference is ``metering.selection.select`` and the aggregations of
``metering.AGGREGATIONS`` over an :class:`EventTable` of the same events; the
SQL stores push ``sum``, ``count``, ``average``, ``max``, ``min``, ``unique_count`` and
``latest`` down to SQL (a recurring ``sum`` too, over every event up to the period's end)
and load the window for the others. Streams are seeded:
decimals with up to nine fractional digits (and integers) of both signs,
several devices and customers, filters and group_by on strings, numbers and
booleans, events before the period (carried readings).
"""

from __future__ import annotations

import random
from contextlib import nullcontext
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from unittest.mock import patch
from zoneinfo import ZoneInfo

import pytest

from iotbill.adapters.storage.sql.aggregation import PUSHED_DOWN
from iotbill.adapters.storage.sql.events import SqlEventStore
from iotbill.domain.catalog import Meter
from iotbill.domain.errors import InvalidInput
from iotbill.domain.event_table import EventTable
from iotbill.domain.events import UsageEvent
from iotbill.domain.metering import AGGREGATIONS, RECURRING, PropertyKind
from iotbill.domain.metering.selection import (
    MeasuredTable,
    Measurement,
    counts_from_first,
    measurable,
    select,
)
from iotbill.domain.periods import Period
from iotbill.services.ports import EventScope, EventWindow, GroupQuantity, UnitOfWorkFactory
from tests.contract.conftest import JAN_1, add_devices, device

SEEDS = range(4)
EVENTS_PER_STREAM = 400
UTC_ZONE = ZoneInfo("UTC")
GROUPS: tuple[Any, ...] = ("north", "south", "east", 2, Decimal("2.50"), True, Decimal("-1"))
KINDS: tuple[Any, ...] = ("x", "y", 7, Decimal("7.0"), True, False)
KEYS: tuple[Any, ...] = ("a", "b", 1, Decimal("1.000"), Decimal("0.5"), "1", False)
METER_SHAPES: tuple[dict[str, Any], ...] = (
    {},
    {"group_by": "group"},
    {"filters": (("kind", ("x", 7)),)},
    {"filters": (("kind", (True,)),), "group_by": "group"},
)


def _value(rng: random.Random) -> Decimal | int:
    if rng.random() < 0.2:
        return rng.randint(-50, 10_000)
    digits = rng.randint(0, 9)
    return Decimal(rng.randint(-(10**6), 10**9)).scaleb(-digits)


def generate(seed: int) -> list[tuple[UsageEvent, str]]:
    """Events of two customers' devices over January, with their owner."""
    rng = random.Random(seed)
    owners = {"d1": "c1", "d2": "c1", "d3": "c2"}
    events = []
    for index in range(EVENTS_PER_STREAM):
        device_id = rng.choice(sorted(owners))
        properties: dict[str, Any] = {
            "value": _value(rng),
            "group": rng.choice(GROUPS),
            "kind": rng.choice(KINDS),
            "key": rng.choice(KEYS),
        }
        # Equal timestamps are common, so (timestamp, id) ordering matters.
        at = JAN_1 + timedelta(hours=rng.randint(0, 24 * 31), microseconds=rng.choice((0, 1)))
        event = UsageEvent(
            f"e{seed}-{rng.getrandbits(40):x}-{index}", "reading", device_id, at, properties
        )
        events.append((event, owners[device_id]))
    return events


def reference(
    events: list[tuple[UsageEvent, str]], meter: Meter, period: Period, scope: EventScope
) -> list[GroupQuantity]:
    chosen = [
        event
        for event, customer in events
        if customer == scope.customer
        and (scope.devices is None or event.device in scope.devices)
        and event.device not in scope.excluded_devices
    ]
    table = EventTable.build(chosen)
    aggregation = meter.aggregator()
    return [
        GroupQuantity(usage.group, aggregation.aggregate(usage.window))
        for usage in select(table, meter, period)
    ]


def meters() -> list[Meter]:
    """Every aggregation in every shape, and the recurring ones recurring too."""
    found = []
    kinds = [(name, False) for name in AGGREGATIONS] + [(name, True) for name in RECURRING]
    for name, recurring in kinds:
        aggregation = AGGREGATIONS[name]
        for number, shape in enumerate(METER_SHAPES):
            if aggregation.property_kind is PropertyKind.NONE:
                prop = None
            elif aggregation.property_kind is PropertyKind.KEY:
                prop = "key"
            else:
                prop = "value"
            code = f"{name}{'-recurring' if recurring else ''}-{number}"
            options: dict[str, Any] = {"allow_negative": True, "recurring": recurring, **shape}
            found.append(Meter(code, "reading", name, prop, **options))
    return found


def _exact(found: list[GroupQuantity]) -> list[tuple[str | None, str]]:
    return [(group.group, str(group.quantity)) for group in found]


@pytest.mark.parametrize("seed", SEEDS)
def test_store_meters_equal_the_pure_core(store: UnitOfWorkFactory, tenant: str, seed: int) -> None:
    events = generate(seed)
    add_devices(store, tenant, device("d1", "c1"), device("d2", "c1"), device("d3", "c2"))
    with store(tenant) as uow:
        uow.events.append([e for e, _ in events], [c for _, c in events], JAN_1)
        uow.commit()
    rng = random.Random(1000 + seed)
    start = JAN_1 + timedelta(days=rng.randint(3, 12), hours=rng.randint(0, 23))
    period = Period(start, start + timedelta(days=rng.randint(1, 15), seconds=rng.randint(0, 9)))
    scopes = [
        EventScope("c1"),
        EventScope("c1", excluded_devices=frozenset({"d2"})),
        EventScope("c1", devices=frozenset({"d2"})),
        EventScope("c2"),
    ]
    checked = 0
    with store(tenant) as uow:
        for meter in meters():
            # On SQL, these must come from SQL: loading the window would be a silent fallback.
            pushed_down = (
                isinstance(uow.events, SqlEventStore)
                and meter.aggregation in PUSHED_DOWN
                and (not meter.recurring or counts_from_first(meter))
            )
            refuse_loading = patch.object(uow.events, "load", side_effect=AssertionError("loaded"))
            for scope in scopes:
                expected = reference(events, meter, period, scope)
                with refuse_loading if pushed_down else nullcontext():
                    found = uow.events.aggregate(meter, period, scope)
                assert _exact(found) == _exact(expected), (meter, scope)
                checked += 1
    assert checked == (len(AGGREGATIONS) + len(RECURRING)) * len(METER_SHAPES) * len(scopes)


def test_groups_and_quantities_are_exact(store: UnitOfWorkFactory, tenant: str) -> None:
    """A hand-checked case: nano-unit values, 1 equal to 1.0, the string "1" apart."""
    add_devices(store, tenant, device("d1", "c1"))
    at = JAN_1 + timedelta(days=1)
    rows: list[dict[str, Any]] = [
        {"value": Decimal("0.000000001"), "group": 1, "key": 1},
        {"value": Decimal("9223372036.854775807"), "group": Decimal("1.0"), "key": Decimal("1.0")},
        {"value": Decimal("-0.1"), "group": "b", "key": "1"},
    ]
    events = [UsageEvent(f"e{i}", "reading", "d1", at, p) for i, p in enumerate(rows)]
    with store(tenant) as uow:
        uow.events.append(events, ["c1"] * 3, at)
        uow.commit()
    period = Period(JAN_1, JAN_1 + timedelta(days=31))
    scope = EventScope("c1")
    with store(tenant) as uow:
        summed = uow.events.aggregate(
            Meter("m", "reading", "sum", "value", group_by="group", allow_negative=True),
            period,
            scope,
        )
        distinct = uow.events.aggregate(Meter("k", "reading", "unique_count", "key"), period, scope)
        latest = uow.events.aggregate(
            Meter("l", "reading", "latest", "value", allow_negative=True), period, scope
        )
    assert _exact(summed) == [("1", "9223372036.854775808"), ("b", "-0.1")]
    assert _exact(distinct) == [(None, "2")]
    assert _exact(latest) == [(None, "-0.1")]  # same timestamp: the largest id, "e2"


@pytest.mark.parametrize(
    ("properties", "meter"),
    [
        ({"group": "a"}, Meter("m", "reading", "sum", "value")),
        ({"value": "lots"}, Meter("m", "reading", "max", "value")),
        ({"value": -1}, Meter("m", "reading", "sum", "value")),
        ({"value": 1}, Meter("m", "reading", "count", group_by="group")),
        ({"key": {"nested": 1}}, Meter("m", "reading", "unique_count", "key")),
    ],
    ids=["missing", "not-a-number", "negative", "no-group", "not-a-scalar"],
)
def test_events_a_meter_cannot_take_are_reported_as_the_pure_core_does(
    store: UnitOfWorkFactory, tenant: str, properties: dict[str, Any], meter: Meter
) -> None:
    add_devices(store, tenant, device("d1", "c1"))
    at: datetime = JAN_1 + timedelta(days=2)
    good = UsageEvent("good", "reading", "d1", at, {"value": 2, "group": "a", "key": "k"})
    bad = UsageEvent("bad", "reading", "d1", at, properties)
    with store(tenant) as uow:
        uow.events.append([good, bad], ["c1", "c1"], at)
        uow.commit()
    period = Period(JAN_1, JAN_1 + timedelta(days=31))
    with pytest.raises(InvalidInput) as expected:
        select(EventTable.build([good, bad]), meter, period)
    with store(tenant) as uow, pytest.raises(InvalidInput) as found:
        uow.events.aggregate(meter, period, EventScope("c1"))
    field = str(expected.value).split(": ")[1]
    assert str(found.value).startswith("stored event 'bad': ")  # by id, to void it by
    assert field in str(found.value)


def _measurable_meters() -> list[Meter]:
    return [meter for meter in meters() if measurable(meter)]


@pytest.mark.parametrize("seed", SEEDS[:2])
def test_tables_of_measured_quantities_equal_the_pure_core(
    store: UnitOfWorkFactory, tenant: str, seed: int
) -> None:
    """``load_for_pricing`` of windows that list what they are measured by: every meter
    and scope in one call, each over its period and a part of it; the quantities equal
    the pure core's over the same events, and on SQL every meter that SQL aggregates is
    measured there (its table holds quantities, not events)."""
    events = generate(seed)
    add_devices(store, tenant, device("d1", "c1"), device("d2", "c1"), device("d3", "c2"))
    late = [(event, owner) for event, owner in events[: EVENTS_PER_STREAM // 4]]
    with store(tenant) as uow:  # the first quarter received a day later than the rest
        rest = events[EVENTS_PER_STREAM // 4 :]
        uow.events.append([e for e, _ in rest], [c for _, c in rest], JAN_1)
        uow.events.append([e for e, _ in late], [c for _, c in late], JAN_1 + timedelta(days=1))
        uow.commit()
    period = Period(JAN_1 + timedelta(days=2), JAN_1 + timedelta(days=20))
    part = Period(period.start + timedelta(hours=7), period.end - timedelta(days=3))
    scopes = [
        EventScope("c1"),
        EventScope("c1", excluded_devices=frozenset({"d2"})),
        EventScope("c1", devices=frozenset({"d2"})),
        EventScope("c2"),
    ]
    asked = [
        (meter, scope, received_before)
        for meter in _measurable_meters()
        for scope in scopes
        for received_before in (None, JAN_1 + timedelta(hours=12))
    ]
    windows = [
        EventWindow(
            scope,
            (meter,),
            period,
            received_before,
            (Measurement(meter, period), Measurement(meter, part)),
        )
        for meter, scope, received_before in asked
    ]
    with store(tenant) as uow:
        tables = uow.events.load_for_pricing(windows)
        for (meter, scope, received_before), table in zip(asked, tables, strict=True):
            seen = events if received_before is None else rest
            if isinstance(uow.events, SqlEventStore) and meter.aggregation in PUSHED_DOWN:
                assert isinstance(table, MeasuredTable), meter
            for span in (period, part):
                found = [
                    GroupQuantity(usage.group, meter.quantity(usage.window, UTC_ZONE).quantity)
                    for usage in select(table, meter, span)
                ]
                assert _exact(found) == _exact(reference(seen, meter, span, scope)), (
                    meter,
                    scope,
                    received_before,
                    span,
                )


def test_a_measured_table_holds_only_what_it_measured() -> None:
    meter = Meter("m", "reading", "sum", "value")
    period = Period(JAN_1, JAN_1 + timedelta(days=31))
    table = MeasuredTable.of({Measurement(meter, period): ((None, Decimal("2.5")),)})
    (usage,) = select(table, meter, period)
    assert meter.quantity(usage.window, UTC_ZONE).quantity == Decimal("2.5")
    with pytest.raises(LookupError, match="was not measured"):
        select(table, meter, Period(JAN_1, JAN_1 + timedelta(days=1)))
    with pytest.raises(LookupError, match="was not measured"):
        select(table, replace(meter, code="other"), period)
    with pytest.raises(LookupError, match="holds no events"):
        table.view("reading")
    with pytest.raises(LookupError, match="holds no events"):
        table.events  # noqa: B018


@pytest.mark.parametrize(
    ("bad", "meter"),
    [
        ({"value": "lots"}, Meter("m", "reading", "sum", "value")),
        ({"value": -1}, Meter("m", "reading", "max", "value")),
        ({"value": 1}, Meter("m", "reading", "count", group_by="group")),
    ],
    ids=["not-a-number", "negative", "no-group"],
)
def test_a_window_with_an_event_its_meter_cannot_take_is_priced_from_its_events(
    store: UnitOfWorkFactory, tenant: str, bad: dict[str, Any], meter: Meter
) -> None:
    """Not measured: pricing reads the events and reports the bad one, as it does."""
    add_devices(store, tenant, device("d1", "c1"))
    at = JAN_1 + timedelta(days=2)
    good = UsageEvent("good", "reading", "d1", at, {"value": 2, "group": "a"})
    with store(tenant) as uow:
        uow.events.append([good, UsageEvent("bad", "reading", "d1", at, bad)], ["c1"] * 2, at)
        uow.commit()
    period = Period(JAN_1, JAN_1 + timedelta(days=31))
    window = EventWindow(EventScope("c1"), (meter,), period, None, (Measurement(meter, period),))
    with store(tenant) as uow:
        (table,) = uow.events.load_for_pricing([window])
        assert not isinstance(table, MeasuredTable)
        with pytest.raises(InvalidInput, match="stored event 'bad'"):
            select(table, meter, period)


def test_a_correction_the_filters_leave_out_still_replaces_what_it_corrects(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    """A reading of kind x corrected to kind y: a meter of kind x counts neither, as the
    pure core decides which events count before the filters; so does every SQL path."""
    add_devices(store, tenant, device("d1", "c1"))
    at = JAN_1 + timedelta(days=2)
    first = UsageEvent("first", "reading", "d1", at, {"value": 5, "kind": "x"})
    fixed = UsageEvent("fixed", "reading", "d1", at, {"value": 7, "kind": "y"}, corrects="first")
    other = UsageEvent("other", "reading", "d1", at, {"value": 1, "kind": "x"})
    with store(tenant) as uow:
        uow.events.append([first, other], ["c1"] * 2, at)
        uow.events.append([fixed], ["c1"], at + timedelta(hours=1))
        uow.commit()
    meter = Meter("m", "reading", "sum", "value", filters=(("kind", ("x",)),))
    period = Period(JAN_1, JAN_1 + timedelta(days=31))
    scope = EventScope("c1")
    window = EventWindow(scope, (meter,), period, None, (Measurement(meter, period),))
    with store(tenant) as uow:
        (table,) = uow.events.load_for_pricing([window])
        (usage,) = select(table, meter, period)
        assert meter.quantity(usage.window, UTC_ZONE).quantity == Decimal(1)
        assert _exact(uow.events.aggregate(meter, period, scope)) == [(None, "1")]


def test_a_voided_reading_counts_on_no_path(store: UnitOfWorkFactory, tenant: str) -> None:
    """A reading voided later, within the period: the measured table (the events, as the
    window holds an event that voids another) and the store's aggregate leave it out, as
    the pure core does; so does a recurring sum over February, whose total since the first
    event reads January's void."""
    add_devices(store, tenant, device("d1", "c1"))
    at = JAN_1 + timedelta(days=2)
    first = UsageEvent("first", "reading", "d1", at, {"value": 5})
    other = UsageEvent("other", "reading", "d1", at, {"value": 1})
    void = UsageEvent("void", "reading", "d1", at + timedelta(days=1), {}, voids="first")
    with store(tenant) as uow:
        uow.events.append([first, other], ["c1"] * 2, at)
        uow.events.append([void], ["c1"], at + timedelta(days=1))
        uow.commit()
    january = Period(JAN_1, JAN_1 + timedelta(days=31))
    february = Period(january.end, january.end + timedelta(days=28))
    scope = EventScope("c1")
    for meter, period in (
        (Meter("m", "reading", "sum", "value"), january),
        (Meter("r", "reading", "sum", "value", recurring=True), january),
        (Meter("r", "reading", "sum", "value", recurring=True), february),
    ):
        window = EventWindow(scope, (meter,), period, None, (Measurement(meter, period),))
        with store(tenant) as uow:
            (table,) = uow.events.load_for_pricing([window])
            (usage,) = select(table, meter, period)
            assert meter.quantity(usage.window, UTC_ZONE).quantity == Decimal(1), meter
            assert _exact(uow.events.aggregate(meter, period, scope)) == [(None, "1")], meter


@pytest.mark.parametrize(
    ("values", "mean"),
    [
        (("1", "2", "2"), "1.666666667"),
        (("0.000000001", "0.000000002"), "0.000000002"),  # 1.5 nano-units: half to even, 2
        (("0.000000001", "0.000000004"), "0.000000002"),  # 2.5: half to even, 2
        (("-0.000000001", "-0.000000004"), "-0.000000002"),
    ],
)
def test_an_average_is_the_exact_mean_rounded_half_even_on_every_path(
    store: UnitOfWorkFactory, tenant: str, values: tuple[str, ...], mean: str
) -> None:
    """The mean of the values as the pure core takes it, from SQL too (sum over number)."""
    add_devices(store, tenant, device("d1", "c1"))
    at = JAN_1 + timedelta(days=1)
    events = [
        UsageEvent(f"e{index}", "reading", "d1", at, {"value": Decimal(value)})
        for index, value in enumerate(values)
    ]
    with store(tenant) as uow:
        uow.events.append(events, ["c1"] * len(events), at)
        uow.commit()
    meter = Meter("a", "reading", "average", "value", allow_negative=True)
    period = Period(JAN_1, JAN_1 + timedelta(days=31))
    window = EventWindow(EventScope("c1"), (meter,), period, None, (Measurement(meter, period),))
    with store(tenant) as uow:
        stored = uow.events.aggregate(meter, period, EventScope("c1"))
        (table,) = uow.events.load_for_pricing([window])
        (usage,) = select(table, meter, period)
        measured = meter.quantity(usage.window, UTC_ZONE).quantity
    pure = reference([(e, "c1") for e in events], meter, period, EventScope("c1"))
    assert stored == pure == [GroupQuantity(None, Decimal(mean))]
    assert measured == Decimal(mean)
