"""Customers and devices: every problem reported at once; a device never has two owners."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from iotbill.domain.customers import Ownership
from iotbill.domain.errors import Conflict, InvalidInput, NotFound
from iotbill.services.customers import (
    add_customer,
    add_device,
    get_customer,
    list_customers,
    list_devices,
    move_device,
)
from tests.service_layer.conftest import NewUnitOfWork
from tests.service_layer.documents import add_customers


def test_a_customer_is_stored_with_its_currency_zone_address_and_tax_rate(
    uow: NewUnitOfWork,
) -> None:
    add_customer(
        uow(),
        id="kaisha",
        name="Kaisha KK",
        currency="JPY",
        timezone="Asia/Tokyo",
        billing_address="1-1 Chiyoda, Tokyo",
        tax_rate="10",
    )

    stored = get_customer(uow(), "kaisha")
    assert (stored.name, stored.currency.code, stored.timezone) == (
        "Kaisha KK",
        "JPY",
        "Asia/Tokyo",
    )
    assert (stored.billing_address, str(stored.tax_rate)) == ("1-1 Chiyoda, Tokyo", "10")


def test_a_bad_customer_names_every_field_and_stores_nothing(uow: NewUnitOfWork) -> None:
    with pytest.raises(InvalidInput) as raised:
        add_customer(
            uow(), id="x", name="X", currency="XXX", timezone="Mars/Olympus", tax_rate="100.5"
        )

    assert [p.location for p in raised.value.problems] == ["currency", "timezone", "tax_rate"]
    assert list_customers(uow()) == []


def test_a_customer_id_is_taken_once(uow: NewUnitOfWork) -> None:
    add_customers(uow)

    with pytest.raises(Conflict, match="customer 'acme' already exists"):
        add_customer(uow(), id="acme", name="Other", currency="EUR", timezone="UTC")
    assert get_customer(uow(), "acme").name == "Acme"


def test_a_device_date_is_midnight_in_its_owners_zone(uow: NewUnitOfWork) -> None:
    add_customers(uow)

    device = add_device(uow(), "pump-1", customer="berlin", start=date(2026, 1, 1))

    assert device.ownership == (Ownership("berlin", datetime(2025, 12, 31, 23, tzinfo=UTC)),)
    assert list_devices(uow()) == [device]


def test_a_device_of_an_unknown_customer_stores_nothing(uow: NewUnitOfWork) -> None:
    add_customers(uow)

    with pytest.raises(InvalidInput) as raised:
        add_device(uow(), " ", customer="nobody", start=date(2026, 1, 1))

    assert [p.location for p in raised.value.problems] == ["id", "customer"]
    assert list_devices(uow()) == []


def test_adding_a_device_twice_is_refused_and_keeps_the_owner(uow: NewUnitOfWork) -> None:
    add_customers(uow)
    add_device(uow(), "pump-1", customer="acme", start=date(2026, 1, 1))

    with pytest.raises(Conflict, match=r"owned by 'acme'.*devices move"):
        add_device(uow(), "pump-1", customer="berlin", start=date(2026, 2, 1))

    assert [d.owner for d in list_devices(uow())] == ["acme"]


def test_a_device_moves_to_another_customer_from_a_date(uow: NewUnitOfWork) -> None:
    add_customers(uow)
    add_device(uow(), "pump-1", customer="acme", start=date(2026, 1, 1))

    moved = move_device(uow(), "pump-1", to_customer="berlin", at=date(2026, 2, 15)).device

    berlin_midnight = datetime(2026, 2, 14, 23, tzinfo=UTC)
    assert moved.ownership[1] == Ownership("berlin", berlin_midnight)
    assert list_devices(uow(), customer="acme") == [moved]  # acme owned it once
    stored = list_devices(uow(), customer="berlin")[0]
    assert stored.owner_at(datetime(2026, 2, 14, 22, 59, 59, tzinfo=UTC)) == "acme"
    assert stored.owner_at(berlin_midnight) == "berlin"


def test_a_device_never_has_two_owners_at_once(uow: NewUnitOfWork) -> None:
    add_customers(uow)
    add_device(uow(), "pump-1", customer="acme", start=date(2026, 3, 1))
    move_device(uow(), "pump-1", to_customer="berlin", at=date(2026, 4, 1))
    before = list_devices(uow())

    with pytest.raises(InvalidInput) as raised:  # back to acme, overlapping berlin's ownership
        move_device(uow(), "pump-1", to_customer="acme", at=date(2026, 3, 15))

    (problem,) = raised.value.problems
    assert problem.location == "at"
    assert "a device never has two owners at once" in problem.message
    assert list_devices(uow()) == before


def test_moving_to_the_current_owner_or_an_unknown_one_is_refused(uow: NewUnitOfWork) -> None:
    add_customers(uow)
    add_device(uow(), "pump-1", customer="acme", start=date(2026, 1, 1))

    with pytest.raises(InvalidInput, match="already belongs to 'acme'"):
        move_device(uow(), "pump-1", to_customer="acme", at=date(2026, 2, 1))
    with pytest.raises(InvalidInput, match="to_customer: unknown customer 'nobody'"):
        move_device(uow(), "pump-1", to_customer="nobody", at=date(2026, 2, 1))
    with pytest.raises(NotFound, match="unknown device 'pump-9'"):
        move_device(uow(), "pump-9", to_customer="berlin", at=date(2026, 2, 1))
    assert [len(d.ownership) for d in list_devices(uow())] == [1]


def test_a_naive_instant_is_refused(uow: NewUnitOfWork) -> None:
    add_customers(uow)

    with pytest.raises(InvalidInput, match="start: must include a UTC offset"):
        add_device(uow(), "pump-1", customer="acme", start=datetime(2026, 1, 1, 12))
    assert list_devices(uow()) == []
