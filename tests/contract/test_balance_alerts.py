"""Balance-alert thresholds and alerts on every store."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from iotbill.domain.balance_alerts import BalanceAlert
from iotbill.domain.errors import Conflict, NotFound
from iotbill.services.ports import UnitOfWorkFactory
from tests.contract.conftest import JAN_1


def test_thresholds_and_alerts_round_trip(store: UnitOfWorkFactory, tenant: str) -> None:
    first = BalanceAlert("c1/alert/20/e2", "c1", Decimal(20), Decimal("19.00"), JAN_1, "e2")
    later = BalanceAlert(
        "c2/alert/5.50/e9", "c2", Decimal("5.50"), Decimal("0.01"), JAN_1 + timedelta(days=1), "e9"
    )
    with store(tenant) as uow:
        uow.credits.set_thresholds("c1", [Decimal("5"), Decimal("20.00")])
        uow.credits.set_thresholds("c2", [Decimal("5.50")])
        with pytest.raises(NotFound):
            uow.credits.set_thresholds("c9", [Decimal(1)])
        uow.credits.add_alerts([later, first])
        uow.commit()
    with store(tenant) as uow, pytest.raises(Conflict):
        uow.credits.add_alerts([first])  # recorded once (the transaction rolls back)
    with store(tenant) as uow:
        assert uow.credits.thresholds(["c1", "c2", "c3"]) == {
            "c1": (Decimal("20.00"), Decimal("5")),
            "c2": (Decimal("5.50"),),
        }
        assert uow.credits.alerts() == [first, later]
        assert uow.credits.alerts(["c2"]) == [later]
        uow.credits.set_thresholds("c1", [])
        uow.commit()
    with store(tenant) as uow:
        assert uow.credits.thresholds(["c1"]) == {}
