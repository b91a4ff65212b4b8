"""The event store's meters equal the pure core's, exactly, on generated event streams.

The pure reference is ``metering.selection.select`` and the aggregations of
``metering.AGGREGATIONS`` over an :class:`EventTable` of the same events; the
SQL stores push ``sum``, ``count``, ``max``, ``min``, ``unique_count`` and
``latest`` down to SQL and load the window for the others (a recurring ``sum`` too, with
every event before the period). Streams are seeded:
decimals with up to nine fractional digits (and integers) of both signs,
several devices and customers, filters and group_by on strings, numbers and
booleans, events before the period (carried readings).
"""

from __future__ import annotations

import random
from contextlib import nullcontext
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from unittest.mock import patch

import pytest

from iotbill.adapters.storage.sql.aggregation import PUSHED_DOWN
from iotbill.adapters.storage.sql.events import SqlEventStore
from iotbill.domain.catalog import Meter
from iotbill.domain.errors import InvalidInput
from iotbill.domain.event_table import EventTable
from iotbill.domain.events import UsageEvent
from iotbill.domain.metering import AGGREGATIONS, RECURRING, PropertyKind
from iotbill.domain.metering.selection import select
from iotbill.domain.periods import Period
from iotbill.services.ports import EventScope, GroupQuantity, UnitOfWorkFactory
from tests.contract.conftest import JAN_1, add_devices, device

SEEDS = range(4)
EVENTS_PER_STREAM = 400
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
                and not meter.recurring
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
