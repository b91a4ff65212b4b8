"""Coupons and their redemptions in SQL: rows added, never changed."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import insert, select

from iotbill.adapters.storage.sql import tables as t
from iotbill.adapters.storage.sql.repository import Repository, chunks
from iotbill.domain.coupons import Coupon, CouponKind, Redemption
from iotbill.domain.errors import Conflict, NotFound
from iotbill.domain.money import currency
from iotbill.domain.periods import from_micros, to_micros


class SqlCouponRepository(Repository):
    def add(self, coupon: Coupon) -> None:
        self._refuse_taken_code(coupon.code)
        self._execute(
            insert(t.coupons).values(
                tenant_id=self._tenant_id(),
                code=coupon.code,
                name=coupon.name,
                kind=coupon.kind,
                value=coupon.value,
                currency=None if coupon.currency is None else coupon.currency.code,
                plan_code=coupon.plan,
                charge_code=coupon.charge,
                periods=coupon.periods,
                max_redemptions=coupon.max_redemptions,
                created_at=to_micros(coupon.created_at),
            )
        )

    def get(self, code: str) -> Coupon:
        statement = select(t.coupons).where(self._mine(t.coupons), t.coupons.c.code == code)
        rows = builtins.list(self._execute(statement))
        if not rows:
            raise NotFound(f"unknown coupon {code!r}")
        return _coupon(rows[0])

    def list(self) -> builtins.list[Coupon]:
        rows = self._execute(select(t.coupons).where(self._mine(t.coupons)))
        return sorted((_coupon(row) for row in rows), key=lambda coupon: coupon.code)

    def redeem(self, redemption: Redemption) -> None:
        self._refuse_taken(t.coupon_redemptions, "redemption", redemption.id)
        self._require(t.coupons, "coupon", code=redemption.coupon)
        self._require(t.subscriptions, "subscription", id=redemption.subscription_id)
        self._execute(
            insert(t.coupon_redemptions).values(
                tenant_id=self._tenant_id(),
                id=redemption.id,
                coupon_code=redemption.coupon,
                subscription_id=redemption.subscription_id,
                customer_id=redemption.customer_id,
                redeemed_at=to_micros(redemption.redeemed_at),
            )
        )

    def redemptions(
        self, *, coupon: str | None = None, subscriptions: Sequence[str] | None = None
    ) -> builtins.list[Redemption]:
        table = t.coupon_redemptions
        statement = select(table).where(self._mine(table))
        if coupon is not None:
            statement = statement.where(table.c.coupon_code == coupon)
        rows: builtins.list[Any] = []
        if subscriptions is None:
            rows.extend(self._execute(statement))
        else:
            for chunk in chunks(subscriptions):
                rows.extend(self._execute(statement.where(table.c.subscription_id.in_(chunk))))
        found = [
            Redemption(
                row.id,
                row.coupon_code,
                row.subscription_id,
                row.customer_id,
                from_micros(row.redeemed_at),
            )
            for row in rows
        ]
        return sorted(found, key=lambda redemption: (redemption.redeemed_at, redemption.id))

    def _refuse_taken_code(self, code: str) -> None:
        if self._exists(t.coupons, code=code):
            raise Conflict(f"coupon {code!r} already exists")


def _coupon(row: Any) -> Coupon:
    return Coupon(
        code=row.code,
        kind=cast(CouponKind, row.kind),
        value=row.value,
        currency=None if row.currency is None else currency(row.currency),
        plan=row.plan_code,
        charge=row.charge_code,
        periods=row.periods,
        max_redemptions=row.max_redemptions,
        created_at=from_micros(row.created_at),
        name=row.name,
    )
