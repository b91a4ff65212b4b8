"""Many event windows at once: ``load_many`` is ``load`` for each window, ``count_many`` counts.

The SQL stores read every window whose meters take no reading from before the
period in one query and filter the devices and event types of each window
themselves; these tests hold them to ``load``, window by window, and to a plain
count of the generated events. Streams are seeded: two customers, devices with
their own subscription or not, two event types, events before and after the
period, and two arrivals (so ``received_before`` matters).
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from iotbill.domain.catalog import Meter
from iotbill.domain.event_table import EventTable, KeyColumn
from iotbill.domain.events import UsageEvent
from iotbill.domain.periods import Period
from iotbill.services.ports import EventScope, EventWindow, UnitOfWorkFactory
from tests.contract.conftest import JAN_1, add_devices, device

FIRST_ARRIVAL = JAN_1 + timedelta(days=40)
SECOND_ARRIVAL = JAN_1 + timedelta(days=50)
OWNERS = {"d1": "c1", "d2": "c1", "d3": "c2"}
FLOW = Meter("flow", "pump.flow", "sum", "m3")
STARTS = Meter("starts", "pump.start", "count")
LEVEL = Meter("level", "pump.flow", "increase", "m3")  # carries the reading before the period
JANUARY = Period(JAN_1, JAN_1 + timedelta(days=31))
MID_JANUARY = Period(JAN_1 + timedelta(days=10), JAN_1 + timedelta(days=20))
SCOPES = (
    EventScope("c1"),
    EventScope("c1", excluded_devices=frozenset({"d2"})),
    EventScope("c1", devices=frozenset({"d2"})),
    EventScope("c2"),
    EventScope("c3"),  # no events at all
)


def _stream(seed: int) -> list[tuple[UsageEvent, str, datetime]]:
    """Events with their owner and arrival: over December to February, two types."""
    rng = random.Random(seed)
    found = []
    for index in range(300):
        device_id = rng.choice(sorted(OWNERS))
        kind = rng.choice(("pump.flow", "pump.flow", "pump.start"))
        at = JAN_1 + timedelta(
            hours=rng.randint(-24 * 10, 24 * 40), microseconds=rng.choice((0, 1))
        )
        properties = (
            {"m3": Decimal(rng.randint(0, 10_000)).scaleb(-3)} if kind == "pump.flow" else {}
        )
        event = UsageEvent(f"e{seed}-{index}", kind, device_id, at, properties)
        found.append((event, OWNERS[device_id], rng.choice((FIRST_ARRIVAL, SECOND_ARRIVAL))))
    return found


def _store_stream(
    store: UnitOfWorkFactory, tenant: str, seed: int
) -> list[tuple[UsageEvent, str, datetime]]:
    stream = _stream(seed)
    add_devices(store, tenant, *(device(id, customer) for id, customer in OWNERS.items()))
    for arrival in (FIRST_ARRIVAL, SECOND_ARRIVAL):
        arrived = [(event, customer) for event, customer, at in stream if at == arrival]
        with store(tenant) as uow:
            uow.events.append([e for e, _ in arrived], [c for _, c in arrived], arrival)
            uow.commit()
    return stream


def _windows(*meter_sets: tuple[Meter, ...]) -> list[EventWindow]:
    return [
        EventWindow(scope, meters, period, received_before)
        for scope in SCOPES
        for meters in meter_sets
        for period in (JANUARY, MID_JANUARY)
        for received_before in (None, SECOND_ARRIVAL, FIRST_ARRIVAL)
    ]


def _rows(table: EventTable) -> list[tuple[UsageEvent, int]]:
    return list(zip(table.events, table.lines.tolist(), strict=True))


@pytest.mark.parametrize("seed", range(2))
def test_load_many_is_load_for_each_window(
    store: UnitOfWorkFactory, tenant: str, seed: int
) -> None:
    _store_stream(store, tenant, seed)
    windows = _windows((FLOW,), (STARTS,), (FLOW, STARTS), (FLOW, LEVEL))
    with store(tenant) as uow:
        many = uow.events.load_many(windows)
        one_by_one = [
            uow.events.load(window.scope, window.meters, window.period, window.received_before)
            for window in windows
        ]
    assert [_rows(table) for table in many] == [_rows(table) for table in one_by_one]
    assert sum(len(table) for table in many) > 0


@pytest.mark.parametrize("seed", range(2))
def test_count_many_counts_each_windows_events(
    store: UnitOfWorkFactory, tenant: str, seed: int
) -> None:
    stream = _store_stream(store, tenant, seed)
    windows = _windows((FLOW,), (STARTS,), (FLOW, STARTS), ())
    expected = [
        sum(
            1
            for event, customer, arrival in stream
            if customer == window.scope.customer
            and (window.scope.devices is None or event.device in window.scope.devices)
            and event.device not in window.scope.excluded_devices
            and any(meter.event_type == event.type for meter in window.meters)
            and event.timestamp in window.period
            and (window.received_before is None or arrival < window.received_before)
        )
        for window in windows
    ]
    with store(tenant) as uow:
        assert uow.events.count_many(windows) == expected
    assert len(set(expected)) > 5  # the windows tell the events apart


def test_a_window_without_meters_reads_nothing(store: UnitOfWorkFactory, tenant: str) -> None:
    _store_stream(store, tenant, 0)
    with store(tenant) as uow:
        assert uow.events.load_many([]) == []
        assert uow.events.count_many([]) == []
        (table,) = uow.events.load_many([EventWindow(EventScope("c1"), (), JANUARY)])
        assert len(table) == 0


PLAIN = (Decimal("2.5"), 1, Decimal("1.0"), -3, "2.5", "on")
"""Plain numbers and strings, which a store may read from its own measures."""
VALUES = (
    *PLAIN,
    Decimal("0.000000001"),
    Decimal("0.0000000001"),  # more than nine decimals: not measured
    0,
    True,
    False,
    None,
    {"nested": 1},
)
"""Property values of every kind a meter may meet: the columns of a table read from a
store must be those of the pure core, whatever they hold."""
KINDS = (
    Meter("kinds", "pump.flow", "sum", "m3", group_by="mode", filters=(("site", ("a", 1)),)),
    STARTS,
)


def _varied_stream(seed: int) -> list[UsageEvent]:
    """January's flow events, each property drawn from :data:`VALUES` or left out; the
    first hundred carry only :data:`PLAIN` values (numbers, for ``m3``)."""
    rng = random.Random(seed)
    found = []
    for index in range(200):
        clean = index < 100
        properties: dict[str, object] = {}
        for name in ("m3", "mode", "site"):
            if clean or rng.random() < 0.9:
                plain = PLAIN[:4] if name == "m3" else PLAIN  # m3: numbers
                properties[name] = rng.choice(plain if clean else VALUES)
        at = JAN_1 + timedelta(hours=rng.randint(0, 24 * 30))
        found.append(UsageEvent(f"v{seed}-{index}", "pump.flow", "d1", at, properties))
    return found


def _labelled(column: KeyColumn) -> tuple[list[str | None], dict[tuple[str, object], str]]:
    """Each row's label (``None``: no key), and each key's label: codes are numbered in
    the order the events came in, which a table read from a store need not keep."""
    labels = column.labels
    return (
        [labels[code] if code >= 0 else None for code in column.codes.tolist()],
        {key: labels[code] for key, code in column.code_of.items()},
    )


@pytest.mark.parametrize("seed", range(3))
def test_load_many_columns_are_the_pure_cores(
    store: UnitOfWorkFactory, tenant: str, seed: int
) -> None:
    """Numbers and keys of every property, as the pure core reads them from the events."""
    add_devices(store, tenant, *(device(id, customer) for id, customer in OWNERS.items()))
    stream = _varied_stream(seed)
    with store(tenant) as uow:
        uow.events.append(stream, ["c1"] * len(stream), FIRST_ARRIVAL)
        uow.commit()
    clean = Period(JAN_1, min(event.timestamp for event in stream[100:]))
    windows = [
        EventWindow(EventScope("c1"), KINDS, period) for period in (JANUARY, MID_JANUARY, clean)
    ]
    with store(tenant) as uow:
        tables = uow.events.load_many(windows)
    compared = 0
    for table in tables:
        reference = EventTable.build(table.events)
        view, expected = table.view("pump.flow"), reference.view("pump.flow")
        for name in ("m3", "mode", "site", "absent"):
            numbers, pure = view.numbers(name), expected.numbers(name)
            assert numbers.values.tolist() == pure.values.tolist()
            assert numbers.status.tolist() == pure.status.tolist()
            assert numbers.errors == pure.errors
            assert _labelled(view.keys(name)) == _labelled(expected.keys(name))
            compared += len(view)
    assert compared > 0


def test_a_negative_zero_keeps_its_label(store: UnitOfWorkFactory, tenant: str) -> None:
    """``-0`` and ``0`` are one group, labelled as the first of them came (as the pure
    core labels it), though a store measures both as 0 nano-units."""
    add_devices(store, tenant, *(device(id, customer) for id, customer in OWNERS.items()))
    stream = [
        UsageEvent(f"z{index}", "pump.flow", "d1", JAN_1 + timedelta(hours=index), {"mode": mode})
        for index, mode in enumerate((Decimal("-0.0"), 2, 0, Decimal("2.0")))
    ]
    with store(tenant) as uow:
        uow.events.append(stream, ["c1"] * len(stream), FIRST_ARRIVAL)
        uow.commit()
    with store(tenant) as uow:
        (table,) = uow.events.load_many([EventWindow(EventScope("c1"), KINDS, JANUARY)])
    labelled = _labelled(table.view("pump.flow").keys("mode"))
    assert labelled == _labelled(EventTable.build(table.events).view("pump.flow").keys("mode"))
    assert labelled[0] == ["-0", "2", "-0", "2"]


def _columns(table: EventTable) -> list[object]:
    """What pricing reads of a table, and every event with its line."""
    flow = table.view("pump.flow").numbers("m3")
    return [
        _rows(table),
        table.timestamps.tolist(),
        flow.values.tolist(),
        flow.status.tolist(),
        flow.errors,
        [table.location(row) for row in range(len(table))],
    ]


@pytest.mark.parametrize("seed", range(3))
def test_load_for_pricing_is_load_many(store: UnitOfWorkFactory, tenant: str, seed: int) -> None:
    """The tables pricing reads (their rarely read columns read only when asked for, in the
    unit of work) are those of ``load_many``: with events at one instant, zeros and text
    among the readings, corrections and voids, windows of devices and of several types."""
    stream = _store_stream(store, tenant, seed)
    rng = random.Random(seed)
    named = rng.sample([event for event, _, _ in stream if event.type == "pump.flow"], 5)
    late = JAN_1 + timedelta(days=60)
    fixes = [
        UsageEvent(f"fix-{event.id}", event.type, event.device, event.timestamp,
                   {"m3": Decimal(7)}, corrects=event.id)
        for event in named[:3]
    ] + [
        UsageEvent(f"void-{event.id}", event.type, event.device, event.timestamp,
                   voids=event.id)
        for event in named[3:]
    ] + [
        UsageEvent(f"text-{seed}", "pump.flow", "d1", JAN_1 + timedelta(days=15), {"m3": "much"}),
    ]  # fmt: skip
    with store(tenant) as uow:
        uow.events.append(fixes, [OWNERS[event.device] for event in fixes], late)
        uow.commit()
    windows = _windows((FLOW,), (STARTS,), (FLOW, STARTS))
    windows += [replace(window, received_before=late) for window in windows]
    with store(tenant) as uow:
        many = [_columns(table) for table in uow.events.load_many(windows)]
        priced = [_columns(table) for table in uow.events.load_for_pricing(windows)]
    assert priced == many
    assert any(errors for *_, errors, _ in many)  # the text reading, where a window has it
