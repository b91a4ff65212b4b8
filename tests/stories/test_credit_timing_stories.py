"""Credits before or after tax: a tenant's choice. After tax (the default) credits settle
what is due; before tax they are a line that lowers the subtotal, and tax is on the rest."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from iotbill.domain.errors import InvalidInput
from iotbill.services.balance import customer_balance, grant_credit, set_credit_timing
from tests.stories.world import TENANT, World, lines

PUMP = """\
code: pump
name: Pump
currency: USD
interval: month
fixed_fees: [{code: base, amount: "31.00", timing: advance}]
"""
JAN_1 = datetime(2026, 1, 1, tzinfo=UTC)


def two_openings(timing: str | None) -> World:
    world = World(JAN_1)
    if timing is not None:
        set_credit_timing(world.open(TENANT), timing)
    world.plan(PUMP)
    world.customer("acme", "USD", "UTC", tax_rate="10")
    for id in ("sub-1", "sub-2"):
        world.subscribe(id, "acme", "pump", JAN_1)
    grant_credit(world.open(TENANT), customer="acme", amount="50.00", at=JAN_1)
    world.bill(JAN_1)
    return world


def test_after_tax_credits_settle_what_is_due() -> None:
    first, second = two_openings(None).invoices()
    # 31.00 + 3.10 tax each: the first takes 34.10 of the 50.00, the second the 15.90 left.
    assert [(i.total, i.balance_applied, i.amount_due) for i in (first, second)] == [
        (Decimal("34.10"), Decimal("34.10"), Decimal(0)),
        (Decimal("34.10"), Decimal("15.90"), Decimal("18.20")),
    ]


def test_before_tax_credits_lower_the_taxed_subtotal() -> None:
    world = two_openings("before_tax")
    first, second = world.invoices()
    # The first's 31.00 is covered before tax: nothing is taxed, nothing is due.
    assert lines(first) == [
        ("fixed_fee", "base", "31.00"),
        ("adjustment", "prepaid_credit", "-31.00"),
    ]
    assert (first.tax, first.total, first.status) == (Decimal("0.00"), Decimal("0.00"), "paid")
    # The second uses the 19.00 left: 12.00 is taxed, 1.20, so 13.20 is due.
    assert lines(second) == [
        ("fixed_fee", "base", "31.00"),
        ("adjustment", "prepaid_credit", "-19.00"),
    ]
    assert (second.subtotal, second.tax, second.amount_due, second.balance_applied) == (
        Decimal("12.00"),
        Decimal("1.20"),
        Decimal("13.20"),
        Decimal(0),
    )
    assert customer_balance(world.open(TENANT), "acme") == Decimal(0)
    assert world.bill(JAN_1).issued == []  # each credit used once


def test_an_unknown_timing_is_refused_with_its_field() -> None:
    world = World(JAN_1)
    with pytest.raises(InvalidInput, match=r"credits: must be one of after_tax, before_tax"):
        set_credit_timing(world.open(TENANT), "sometimes")
    with world.open(TENANT) as uow:
        assert uow.tenants.get(TENANT).credits == "after_tax"
