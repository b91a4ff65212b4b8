"""Customer changes on every store: fields from now on, tax rates from their start, kept."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from iotbill.domain.errors import InvalidInput
from iotbill.domain.tax_rates import TaxRateChange
from iotbill.services.customer_updates import update_customer
from iotbill.services.ports import UnitOfWorkFactory
from tests.contract.conftest import JAN_1

MARCH = JAN_1 + timedelta(days=59)
JULY = JAN_1 + timedelta(days=181)


def test_tax_rate_changes_are_stored_and_read_back(store: UnitOfWorkFactory, tenant: str) -> None:
    update_customer(store(tenant), "c2", tax_rate="21", tax_from=MARCH, name="Zwei")
    update_customer(store(tenant), "c2", tax_rate="7.5", tax_from=JULY, billing_address="Kiel")

    with store(tenant) as uow:
        got, found, listed = (
            uow.customers.get("c2"),
            uow.customers.find(["c2"]),
            uow.customers.list(),
        )
    expected = (TaxRateChange(MARCH, Decimal("21")), TaxRateChange(JULY, Decimal("7.5")))
    assert got.tax_changes == expected
    assert found["c2"] == got and [c for c in listed if c.id == "c2"] == [got]
    assert (got.name, got.billing_address, got.tax_rate) == ("Zwei", "Kiel", Decimal("19"))
    assert [
        str(got.tax_rate_at(at)) for at in (JAN_1, MARCH, JULY - timedelta(seconds=1), JULY)
    ] == [
        "19",
        "21",
        "21",
        "7.5",
    ]
    with pytest.raises(InvalidInput, match=r"^from: must be after 2026-07-01T00:00:00\+00:00"):
        update_customer(store(tenant), "c2", tax_rate="8", tax_from=MARCH)
