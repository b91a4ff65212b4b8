"""Exports of a data product through the service, on the memory store: windows on the
product's buckets, a repeated export delivering exactly the cells first billed, automatic
ids that never take a chosen one, and the ledger entries each party sees."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from iotbill.adapters.clock import FrozenClock
from iotbill.adapters.plan_files import parse_plan_document
from iotbill.adapters.storage.memory import MemoryStore
from iotbill.domain.errors import InvalidInput
from iotbill.domain.events import SourcedEvent, UsageEvent
from iotbill.domain.models.data_products import Cell, DataProduct
from iotbill.services import data_products as service
from iotbill.services.catalog import apply_plan
from iotbill.services.customers import add_customer, add_device
from iotbill.services.ingest import ingest
from iotbill.services.ports import UnitOfWorkFactory
from iotbill.services.subscriptions import create_subscription

START = datetime(2026, 1, 1, tzinfo=UTC)
DAY = datetime(2026, 1, 10, tzinfo=UTC)
OWNERS = ("a", "b", "c", "d")
PLAN = """\
code: feed
currency: USD
interval: month
fixed_fees: [{code: access, amount: '1.00'}]
meters: [{code: energy, event_type: energy.reading, aggregation: sum, property: kwh}]
data_products:
  - {code: hourly, meter: energy, group_by: region, bucket: hour, k: 3, price: "0.50",
     owner_share: 40}
"""


def _at(hour: int, minute: int = 0) -> datetime:
    return DAY + timedelta(hours=hour, minutes=minute)


def _store() -> UnitOfWorkFactory:
    store = MemoryStore().unit_of_work_factory()
    clock = FrozenClock(START)
    apply_plan(store("default"), parse_plan_document(PLAN, "feed.yaml"), clock)
    add_customer(store("default"), id="buyer", name="buyer", currency="USD", timezone="UTC")
    create_subscription(store("default"), customer="buyer", plan="feed", start=START)
    for owner in OWNERS:
        add_customer(store("default"), id=owner, name=owner, currency="USD", timezone="UTC")
        add_device(store("default"), f"m-{owner}", customer=owner, start=START)
        service.give_consent(store("default"), f"m-{owner}", at=START)
    return store


def _read(store: UnitOfWorkFactory, readings: Sequence[tuple[str, datetime]]) -> None:
    """Ingest one kWh in the north for each (owner, time), received at the last time."""
    events = [
        SourcedEvent(
            UsageEvent(f"{owner}-{at.isoformat()}", "energy.reading", f"m-{owner}", at,
                       {"kwh": 1, "region": "north"}),
            line,
        )
        for line, (owner, at) in enumerate(readings, start=1)
    ]  # fmt: skip
    report = ingest(store, "default", events, clock=FrozenClock(max(at for _, at in readings)))
    assert not report.rejected


def _export(
    store: UnitOfWorkFactory,
    start: datetime,
    end: datetime,
    *,
    at: datetime,
    export_id: str | None = None,
    into: list[tuple[Cell, ...]] | None = None,
) -> service.ExportResult:
    def deliver(product: DataProduct, cells: Sequence[Cell]) -> None:
        if into is not None:
            into.append(tuple(cells))

    return service.export_data(
        store("default"), product="hourly", buyer="buyer", start=start, end=end,
        format="csv", at=at, deliver=deliver, export_id=export_id,
    )  # fmt: skip


def test_a_window_off_the_products_buckets_is_refused_and_nothing_stored() -> None:
    # k = 3: a reads at 10:05, b, c and d at 10:40-10:50. [10:00, 11:00) holds four owners,
    # [10:30, 11:00) three: the two cells differ by a's reading alone.
    store = _store()
    _read(store, [("a", _at(10, 5)), ("b", _at(10, 40)), ("c", _at(10, 45)),
                         ("d", _at(10, 50))])  # fmt: skip
    with pytest.raises(InvalidInput) as refused:
        _export(store, _at(10, 30), _at(11, 0), at=_at(12))
    assert [(p.location, p.message) for p in refused.value.problems] == [
        ("start", "must fall on a hour boundary (UTC) of product 'hourly', "
                  "not 2026-01-10T10:30:00+00:00"),
    ]  # fmt: skip
    with pytest.raises(InvalidInput) as refused:
        _export(store, _at(10), _at(10, 59), at=_at(12))
    assert [p.location for p in refused.value.problems] == ["end"]
    with store("default") as uow:
        assert uow.data_products.exports() == []
        assert uow.one_off_charges.list() == []
    whole = _export(store, _at(10), _at(11), at=_at(12))
    assert [(c.bucket, c.events, c.owners) for c in whole.tabulation.cells] == [(_at(10), 4, 4)]


def test_a_repeated_export_delivers_exactly_the_cells_first_billed() -> None:
    store = _store()
    _read(store, [("a", _at(10, 5)), ("b", _at(10, 40)), ("c", _at(10, 45))])
    first: list[tuple[Cell, ...]] = []
    made = _export(store, _at(10), _at(11), at=_at(12), export_id="x", into=first)
    assert [(c.value, c.events, c.owners) for c in first[0]] == [(1 * 3, 3, 3)]
    # d's reading of 10:50 arrives late: the cell of 10:00 would now hold 4 events, but the
    # buyer was billed for the one of 3.
    _read(store, [("d", _at(10, 50)), ("a", _at(13))])
    again: list[tuple[Cell, ...]] = []
    repeated = _export(store, _at(10), _at(11), at=_at(14), export_id="x", into=again)
    assert repeated.repeated and repeated.export == made.export
    assert again == first
    assert (repeated.tabulation.cells, repeated.tabulation.suppressed) == (first[0], 0)
    with store("default") as uow:
        assert [c.quantity for c in uow.one_off_charges.list("buyer")] == [1]
        assert uow.data_products.export_cells("x") == first[0]


def test_a_window_ending_after_the_export_is_refused() -> None:
    store = _store()
    _read(store, [("a", _at(10, 5)), ("b", _at(10, 40)), ("c", _at(10, 45))])
    with pytest.raises(InvalidInput) as refused:
        _export(store, _at(10), _at(11), at=_at(10, 50))
    assert [(p.location, p.message) for p in refused.value.problems] == [
        ("end", "must not be after the export's instant (2026-01-10T10:50:00+00:00), not "
                "2026-01-10T11:00:00+00:00: data not yet recorded cannot be sold"),
    ]  # fmt: skip
    with store("default") as uow:
        assert uow.data_products.exports() == []


def test_an_automatic_id_never_takes_one_a_caller_chose() -> None:
    store = _store()
    _read(store, [(owner, _at(hour, 10)) for hour in (10, 11) for owner in ("a", "b", "c")])
    chosen = _export(store, _at(10), _at(11), at=_at(12), export_id="buyer/export/2")
    automatic = _export(store, _at(11), _at(12), at=_at(12))
    assert (chosen.export.id, automatic.export.id) == ("buyer/export/2", "buyer/export/3")
    assert not automatic.repeated and automatic.export.records == 1
    with store("default") as uow:
        assert [e.id for e in uow.data_products.exports("buyer")] == [
            "buyer/export/2",
            "buyer/export/3",
        ]
