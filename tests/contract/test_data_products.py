"""Consents, data exports and a product's cells, alike on memory, SQLite and PostgreSQL.

The cells a store groups (on SQL, in the database) equal the pure core's
:func:`~iotbill.domain.models.data_products.tabulate` over the same events.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from iotbill.domain.customers import Customer
from iotbill.domain.errors import Conflict, NotFound
from iotbill.domain.events import UsageEvent
from iotbill.domain.models.consent import Consent
from iotbill.domain.models.data_exports import DataExport
from iotbill.domain.models.data_products import Cell, DataProduct, Reading, tabulate
from iotbill.domain.money import currency
from iotbill.domain.one_off_charges import OneOffCharge
from iotbill.domain.periods import Period
from iotbill.services.ports import UnitOfWorkFactory
from tests.contract.conftest import add_devices, device

JAN_1 = datetime(2026, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
PRODUCT = DataProduct(
    code="energy-hourly",
    meter="energy",
    event_type="energy.reading",
    property="kwh",
    aggregation="sum",
    group_by="region",
    bucket="hour",
    k=2,
    price=Decimal("0.05"),
)


def test_consents_are_stored_with_their_withdrawal(store: UnitOfWorkFactory, tenant: str) -> None:
    add_devices(store, tenant, device("m1", "c1"), device("m2", "c2"))
    given = Consent("m1", JAN_1 + timedelta(microseconds=7))
    with store(tenant) as uow:
        uow.data_products.save_consent(given)
        uow.data_products.save_consent(Consent("m2", JAN_1))
        uow.commit()
    withdrawn = Consent(given.device_id, given.given_at, JAN_1 + timedelta(days=3))
    again = Consent("m1", JAN_1 + timedelta(days=5))
    with store(tenant) as uow:
        uow.data_products.save_consent(withdrawn)
        uow.data_products.save_consent(again)
        uow.commit()
    with store(tenant) as uow:
        assert uow.data_products.consents() == [withdrawn, again, Consent("m2", JAN_1)]
        assert uow.data_products.consents("m2") == [Consent("m2", JAN_1)]
        with pytest.raises(NotFound, match="unknown device 'ghost'"):
            uow.data_products.save_consent(Consent("ghost", JAN_1))


def test_exports_are_stored_exactly_and_listed_per_buyer(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    first = _export("c1/export/1", "c1", day=2)
    second = _export("c2/export/1", "c2", day=1)
    cells = (  # the cells first delivered, kept exactly and in order to deliver again
        Cell("south", JAN_1 + timedelta(hours=1), Decimal("0.000000001"), 1, 3),
        Cell("north", JAN_1, Decimal("123456789012.5"), 7, 2),
    )
    with store(tenant) as uow:
        uow.data_products.add_export(first, cells)
        uow.data_products.add_export(second)
        uow.commit()
    with store(tenant) as uow:
        assert uow.data_products.export_cells("c1/export/1") == cells
        assert uow.data_products.export_cells("c2/export/1") == ()
        assert uow.data_products.export_cells("nope") == ()
        assert uow.data_products.exports() == [second, first]
        assert uow.data_products.exports("c1") == [first]
        assert uow.data_products.get_export("c1/export/1") == first
        with pytest.raises(Conflict, match="data export 'c1/export/1' already exists"):
            uow.data_products.add_export(first)
        with pytest.raises(NotFound, match="unknown data export 'nope'"):
            uow.data_products.get_export("nope")
        with pytest.raises(NotFound, match="unknown customer 'ghost'"):
            uow.data_products.add_export(_export("ghost/export/1", "ghost", day=1))


def test_cells_are_grouped_consented_and_suppressed_as_the_pure_core_does(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    """Seeded events of 6 owners over 12 devices and 2 days, consent given and withdrawn
    at odd instants, corrections and voids, a missing region and a text reading."""
    rng = random.Random(7)
    owners = [f"o{number}" for number in range(6)]
    with store(tenant) as uow:
        for owner in owners:
            found = Customer.create(id=owner, name=owner, currency_code="USD", timezone="UTC")
            uow.customers.add(found)
        uow.commit()
    devices = {f"d{number}": owners[number % 6] for number in range(12)}
    add_devices(store, tenant, *(device(id, owner) for id, owner in devices.items()))
    consents: list[Consent] = []
    for id in devices:
        if rng.random() < 0.2:
            continue
        given = JAN_1 + timedelta(minutes=rng.randrange(0, 600))
        withdrawn = given + timedelta(minutes=rng.randrange(60, 2400))
        consents.append(Consent(id, given, withdrawn if rng.random() < 0.6 else None))
    events: list[UsageEvent] = []
    for number in range(1500):
        id = rng.choice(sorted(devices))
        at = JAN_1 + timedelta(seconds=rng.randrange(0, 2 * 86400), microseconds=number)
        properties: dict[str, object] = {
            "kwh": Decimal(rng.randrange(0, 5000)) / 1000,
            "region": rng.choice(["north", "south", "east"]),
        }
        if number % 97 == 0:
            del properties["region"]
        if number % 89 == 0:
            properties["kwh"] = "n/a"
        events.append(UsageEvent(f"e{number}", "energy.reading", id, at, properties))
    events.append(UsageEvent("other", "water.reading", "d0", JAN_1, {"region": "north"}))
    first = events[10]
    events.append(UsageEvent(
        "fix", first.type, first.device, first.timestamp, {**first.properties, "kwh": 9},
        corrects="e10",
    ))  # fmt: skip
    events.append(UsageEvent("void", events[20].type, events[20].device, events[20].timestamp,
                             voids="e20"))  # fmt: skip
    with store(tenant) as uow:
        for consent in consents:
            uow.data_products.save_consent(consent)
        uow.events.append(events, [devices[event.device] for event in events], JAN_1)
        uow.commit()
    window = Period(JAN_1 + 3 * HOUR, JAN_1 + 40 * HOUR)
    counted = [
        event
        for event in events
        if event.id not in ("e10", "e20", "void") and event.type == "energy.reading"
    ]
    readings = [
        Reading(devices[event.device], event.device, event.timestamp,
                event.properties["region"], event.properties["kwh"])  # type: ignore[arg-type]
        for event in counted
        if "region" in event.properties and not isinstance(event.properties["kwh"], str)
    ]  # fmt: skip
    for k in (2, 3):
        product = DataProduct(**{**_fields(PRODUCT), "k": k})
        expected = tabulate(product, readings, consents, window)
        with store(tenant, read_only=True) as uow:
            found = uow.data_products.tabulate(product, window)
        assert found == expected
        assert len(found.cells) > 20 and found.suppressed > 5
        assert all(cell.owners >= k for cell in found.cells)
    counting = DataProduct(**{**_fields(PRODUCT), "property": None, "aggregation": "count"})
    with store(tenant, read_only=True) as uow:
        counted_cells = uow.data_products.tabulate(counting, window).cells
    assert [cell.value for cell in counted_cells] == [cell.events for cell in counted_cells]


def _fields(product: DataProduct) -> dict[str, object]:
    return {name: getattr(product, name) for name in product.__slots__}  # type: ignore[attr-defined]


def _export(id: str, buyer: str, day: int) -> DataExport:
    return DataExport(
        id=id,
        buyer_id=buyer,
        product="energy-hourly",
        start=JAN_1,
        end=JAN_1 + timedelta(days=1),
        format="csv",
        records=12,
        suppressed=3,
        exported_at=JAN_1 + timedelta(days=day, microseconds=5),
        revenue=Decimal("0.60"),
        currency=currency("USD"),
        charge_id=f"{id}/records",
    )


def test_one_off_charges_are_added_many_at_once_or_none(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    def credit(id: str, customer: str) -> OneOffCharge:
        return OneOffCharge.credit(
            id=id, customer_id=customer, description="30 % share of data export x",
            amount=Decimal("2.23"), currency=currency("USD"), recorded_at=JAN_1,
        )  # fmt: skip

    first, second = credit("x/share/c1", "c1"), credit("x/share/c2", "c2")
    with store(tenant) as uow:
        uow.one_off_charges.add_many([first, second])
        uow.one_off_charges.add_many([])
        uow.commit()
    with store(tenant) as uow:
        assert uow.one_off_charges.list() == [first, second]
        with pytest.raises(Conflict, match="one-off charge 'x/share/c2' already exists"):
            uow.one_off_charges.add_many([credit("y/share/c1", "c1"), second])
    with store(tenant) as uow, pytest.raises(NotFound, match="unknown customer 'ghost'"):
        uow.one_off_charges.add_many([credit("z/share/c1", "c1"), credit("z/g", "ghost")])
    with store(tenant) as uow:
        assert uow.one_off_charges.list() == [first, second]
