"""Entitlement alerts in SQL: each recorded once, by its key; never changed."""

from __future__ import annotations

import builtins
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from iotbill.adapters.storage.sql import tables as t
from iotbill.adapters.storage.sql.repository import Repository
from iotbill.domain.entitlement_checks import EntitlementAlert
from iotbill.domain.periods import from_micros, to_micros


class SqlEntitlementAlertRepository(Repository):
    def add_new(self, alerts: Sequence[EntitlementAlert]) -> builtins.list[EntitlementAlert]:
        dialect = postgresql if self._connection().dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(t.entitlement_alerts)
            .on_conflict_do_nothing()
            .returning(t.entitlement_alerts.c.subscription_id)  # a row back for each stored
        )
        new = []
        for alert in alerts:
            values = {
                "tenant_id": self._tenant_id(),
                "subscription_id": alert.subscription_id,
                "feature": alert.feature,
                "counted_from": to_micros(alert.counted_from),
                "percent": alert.percent,
                "customer_id": alert.customer_id,
                "used": alert.used,
                "allowance": alert.allowance,
                "reached_at": to_micros(alert.reached_at),
            }
            if self._execute(statement, values).all():
                new.append(alert)
        return new

    def list(self, customer: str | None = None) -> builtins.list[EntitlementAlert]:
        columns = t.entitlement_alerts.c
        statement = select(t.entitlement_alerts).where(columns.tenant_id == self._tenant_id())
        if customer is not None:
            statement = statement.where(columns.customer_id == customer)
        found = [
            EntitlementAlert(
                row.subscription_id,
                row.customer_id,
                row.feature,
                from_micros(row.counted_from),
                row.percent,
                row.used,
                row.allowance,
                from_micros(row.reached_at),
            )
            for row in self._execute(statement)
        ]
        return sorted(found, key=lambda alert: (alert.reached_at, alert.key))
