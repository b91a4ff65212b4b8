"""Prepaid credit bought is a one-off charge of its own kind, alike on every store."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from iotbill.domain.money import currency
from iotbill.domain.one_off_charges import OneOffCharge
from iotbill.services.ports import UnitOfWorkFactory
from tests.contract.conftest import JAN_1


def test_a_credit_purchase_keeps_its_kind(store: UnitOfWorkFactory, tenant: str) -> None:
    bought = OneOffCharge.create(
        id="c1/one-off/1",
        customer_id="c1",
        description="Prepaid credit",
        unit_price="68.20",
        quantity=Decimal(1),
        currency=currency("USD"),
        recorded_at=JAN_1,
        kind="credit_purchase",
    )
    sold = OneOffCharge.create(
        id="c1/one-off/2",
        customer_id="c1",
        description="Spare impeller",
        unit_price="12.00",
        quantity=Decimal(1),
        currency=currency("USD"),
        recorded_at=JAN_1 + timedelta(days=1),
    )
    with store(tenant) as uow:
        uow.one_off_charges.add(bought)
        uow.one_off_charges.add(sold)
        uow.commit()
    with store(tenant) as uow:
        assert uow.one_off_charges.pending(["c1"]) == [bought, sold]
    assert [(c.kind, c.line().kind) for c in (bought, sold)] == [
        ("credit_purchase", "credit_purchase"),
        ("one_off", "one_off"),
    ]
