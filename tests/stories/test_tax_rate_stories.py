"""A customer's tax rate changes from a date: each invoice is taxed, whole, at the rate in
force when it is issued; a finalized invoice keeps the rate it was finalized at."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from iotbill.domain.errors import InvalidInput
from iotbill.services.customer_updates import update_customer
from tests.stories.test_subscription_stories import PUMP
from tests.stories.world import TENANT, World, lines


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def _world() -> World:
    world = World(utc(2026, 1, 1))
    world.plan(PUMP)
    world.customer("acme", "USD", "UTC", tax_rate="19")
    world.device("p1", "acme", utc(2026, 1, 1))
    world.subscribe("sub-1", "acme", "pump", utc(2026, 1, 1))
    return world


def test_a_new_rate_taxes_the_invoices_issued_from_its_start() -> None:
    world = _world()
    world.usage("p1", utc(2026, 1, 20), m3=50)
    world.usage("p1", utc(2026, 2, 10), m3=120)
    world.bill(utc(2026, 2, 1))

    update_customer(world.open(TENANT), "acme", tax_rate="21", tax_from=utc(2026, 3, 1))
    world.bill(utc(2026, 3, 1))

    opening, january, february = world.invoices()
    # Issued 1 January and 1 February, before the change: 19 %.
    assert lines(opening) == [("fixed_fee", "base", "31.00")]
    assert (str(opening.tax_rate), str(opening.tax), str(opening.total)) == ("19", "5.89", "36.89")
    # 50 m3 x 0.50 = 25.00, February's fee 31.00: 56.00 + 19 % (10.64) = 66.64.
    assert lines(january) == [("usage", "water", "25.00"), ("fixed_fee", "base", "31.00")]
    assert (str(january.tax_rate), str(january.tax), str(january.total)) == ("19", "10.64", "66.64")
    # Issued 1 March, when 21 % starts: February's water, 100 x 0.50 + 20 x 0.30 = 56.00, and
    # March's fee 31.00: 87.00 + 21 % (18.27) = 105.27, the whole invoice at the new rate.
    assert lines(february) == [("usage", "water", "56.00"), ("fixed_fee", "base", "31.00")]
    assert (str(february.tax_rate), str(february.tax), str(february.total)) == (
        "21",
        "18.27",
        "105.27",
    )


def test_a_rate_does_not_start_before_a_finalized_invoice_was_issued() -> None:
    world = _world()
    world.bill(utc(2026, 2, 1))  # finalizes January's invoice, issued 1 February

    with pytest.raises(InvalidInput) as refused:
        update_customer(world.open(TENANT), "acme", tax_rate="21", tax_from=utc(2026, 1, 15))
    with pytest.raises(InvalidInput) as wrong:
        update_customer(world.open(TENANT), "acme", tax_rate="120", name=" ")

    assert str(refused.value) == (
        "from: invoice INV-2026-000002 was issued at 2026-02-01T00:00:00+00:00 and is finalized"
        " at 19 %; a finalized invoice never changes: give a start after"
        " 2026-02-01T00:00:00+00:00"
    )
    assert str(wrong.value).splitlines() == [
        "name: must be a non-empty string",
        "tax_rate: must be a percentage from 0 to 100, not 120",
        "from: is required with a new tax rate: when it takes effect",
    ]
    with world.open(TENANT) as uow:
        assert uow.customers.get("acme").tax_changes == ()
