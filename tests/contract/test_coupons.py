"""Coupons and redemptions on every store: stored exactly, refused alike."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from iotbill.adapters.plan_files import parse_plan_text
from iotbill.domain.coupons import Coupon, Redemption
from iotbill.domain.errors import Conflict, NotFound
from iotbill.domain.money import currency
from iotbill.domain.subscriptions import subscribe
from iotbill.services.ports import UnitOfWorkFactory
from tests.contract.conftest import JAN_1
from tests.contract.test_repositories import PLAN_TEXT


def test_coupons_and_redemptions_round_trip(store: UnitOfWorkFactory, tenant: str) -> None:
    plan = parse_plan_text(PLAN_TEXT, "plan.yaml")
    launch = Coupon.create(code="LAUNCH", percent="12.5", periods=3, created_at=JAN_1)
    ten = Coupon.create(
        code="TEN",
        amount="10.00",
        currency_code="EUR",
        charge="water",
        max_redemptions=2,
        created_at=JAN_1,
        name="Ten off water",
    )
    with store(tenant) as uow:
        uow.plans.add_version(plan, PLAN_TEXT, JAN_1)
        for id in ("s1", "s2"):
            uow.subscriptions.add(
                subscribe(
                    id=id,
                    customer=uow.customers.get("c1"),
                    plan=plan,
                    plan_version=1,
                    start=JAN_1,
                )
            )
        uow.coupons.add(ten)
        uow.coupons.add(launch)
        with pytest.raises(Conflict):
            uow.coupons.add(launch)
        first = Redemption("r1", "TEN", "s1", "c1", JAN_1 + timedelta(days=2))
        second = Redemption("r2", "LAUNCH", "s2", "c1", JAN_1)
        third = Redemption("r3", "TEN", "s2", "c1", JAN_1 + timedelta(days=40))
        for redemption in (first, second, third):
            uow.coupons.redeem(redemption)
        with pytest.raises(Conflict):
            uow.coupons.redeem(first)
        with pytest.raises(NotFound):
            uow.coupons.redeem(Redemption("r4", "NOPE", "s1", "c1", JAN_1))
        with pytest.raises(NotFound):
            uow.coupons.redeem(Redemption("r5", "TEN", "s9", "c1", JAN_1))
        uow.commit()
    with store(tenant) as uow:
        assert uow.coupons.list() == [launch, ten]
        stored = uow.coupons.get("TEN")
        assert (stored.value, stored.currency) == (Decimal("10.00"), currency("EUR"))
        assert uow.coupons.get("LAUNCH").value == Decimal("12.5")
        with pytest.raises(NotFound):
            uow.coupons.get("NOPE")
        assert uow.coupons.redemptions() == [second, first, third]
        assert uow.coupons.redemptions(coupon="TEN") == [first, third]
        assert uow.coupons.redemptions(subscriptions=["s2"]) == [second, third]
        assert uow.coupons.redemptions(coupon="TEN", subscriptions=["s2"]) == [third]
        assert uow.coupons.redemptions(subscriptions=[]) == []
