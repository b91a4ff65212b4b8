"""Customers are validated whole; a device has exactly one owner at any instant."""

from __future__ import annotations

from decimal import Decimal

import pytest

from iotbill.domain.customers import Customer, Device, Ownership
from iotbill.domain.errors import InvalidInput
from iotbill.domain.money import currency
from iotbill.domain.periods import Period

from .builders import utc


def problems_of(error: pytest.ExceptionInfo[InvalidInput]) -> list[str]:
    return [str(problem) for problem in error.value.problems]


def test_a_customer_from_raw_input() -> None:
    customer = Customer.create(
        id="acme",
        name="Acme Pumps",
        currency_code="JPY",
        timezone="Asia/Tokyo",
        billing_address="1-1 Chiyoda, Tokyo",
        tax_rate="10",
    )

    assert customer.currency == currency("JPY")
    assert customer.tax_rate == Decimal(10)
    assert str(customer.zone) == "Asia/Tokyo"


def test_every_problem_of_a_customer_is_reported_at_once() -> None:
    with pytest.raises(InvalidInput) as error:
        Customer.create(
            id=" ",
            name="",
            currency_code="XXX",
            timezone="Europe/Atlantis",
            tax_rate="100.5",
        )

    assert problems_of(error) == [
        "currency: unknown ISO 4217 currency code 'XXX'",
        "id: must be a non-empty string",
        "name: must be a non-empty string",
        "timezone: unknown IANA time zone 'Europe/Atlantis'",
        "tax_rate: must be a percentage from 0 to 100, not 100.5",
    ]


def test_a_float_tax_rate_is_refused() -> None:
    with pytest.raises(InvalidInput, match="tax_rate: a binary float cannot be taken exactly"):
        Customer.create(id="a", name="A", currency_code="EUR", timezone="UTC", tax_rate=19.0)


def test_a_customer_built_directly_is_validated_too() -> None:
    with pytest.raises(InvalidInput, match="tax_rate: must be a percentage from 0 to 100, not -1"):
        Customer("a", "A", currency("EUR"), "UTC", tax_rate=Decimal(-1))


def test_owner_at_follows_the_ownership_history() -> None:
    device = Device.create("pump-1", "acme", utc(2026, 1, 1)).move("globex", utc(2026, 2, 15, 12))

    assert device.owner_at(utc(2025, 12, 31, 23, 59, 59)) is None
    assert device.owner_at(utc(2026, 1, 1)) == "acme"
    assert device.owner_at(utc(2026, 2, 15, 11, 59, 59)) == "acme"
    assert device.owner_at(utc(2026, 2, 15, 12)) == "globex"
    assert device.owner == "globex"
    assert device.ownership == (
        Ownership("acme", utc(2026, 1, 1)),
        Ownership("globex", utc(2026, 2, 15, 12)),
    )


def test_owners_during_a_period_split_at_the_move() -> None:
    device = Device.create("pump-1", "acme", utc(2026, 1, 1)).move("globex", utc(2026, 2, 15))

    assert device.owners_during(Period(utc(2026, 2, 1), utc(2026, 3, 1))) == [
        ("acme", Period(utc(2026, 2, 1), utc(2026, 2, 15))),
        ("globex", Period(utc(2026, 2, 15), utc(2026, 3, 1))),
    ]
    assert device.owners_during(Period(utc(2025, 12, 1), utc(2026, 1, 1))) == []


def test_a_move_not_after_the_latest_start_is_refused_as_two_owners_at_once() -> None:
    device = Device.create("pump-1", "acme", utc(2026, 1, 1)).move("globex", utc(2026, 2, 15))

    with pytest.raises(InvalidInput) as error:
        device.move("initech", utc(2026, 2, 15))

    assert problems_of(error) == [
        "from: must be after 2026-02-15T00:00:00+00:00, when device 'pump-1' passed to 'globex'"
        " (a device never has two owners at once)"
    ]


def test_a_move_to_the_current_owner_and_a_naive_instant_are_both_reported() -> None:
    device = Device.create("pump-1", "acme", utc(2026, 1, 1))

    with pytest.raises(InvalidInput) as error:
        device.move("acme", utc(2026, 3, 1).replace(tzinfo=None))

    assert problems_of(error) == [
        "customer_id: device 'pump-1' already belongs to 'acme'",
        "from: must include a UTC offset (naive times are ambiguous)",
    ]


def test_an_ownership_history_out_of_order_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"ownership\[1\]\.start: must be after"):
        Device(
            "pump-1",
            (Ownership("acme", utc(2026, 2, 1)), Ownership("globex", utc(2026, 1, 1))),
        )
