"""A subscription's pauses on every store: kept exactly, open or resumed."""

from __future__ import annotations

from datetime import timedelta

from iotbill.adapters.plan_files import parse_plan_text
from iotbill.domain.pauses import pause, resume
from iotbill.domain.subscriptions import subscribe
from iotbill.services.ports import UnitOfWorkFactory
from tests.contract.conftest import JAN_1
from tests.contract.test_repositories import PLAN_TEXT


def test_pauses_round_trip(store: UnitOfWorkFactory, tenant: str) -> None:
    plan = parse_plan_text(PLAN_TEXT, "plan.yaml")
    with store(tenant) as uow:
        uow.plans.add_version(plan, PLAN_TEXT, JAN_1)
        subscription = subscribe(
            id="s1", customer=uow.customers.get("c1"), plan=plan, plan_version=1, start=JAN_1
        )
        uow.subscriptions.add(subscription)
        uow.commit()
    resumed = resume(
        pause(subscription, at=JAN_1 + timedelta(days=3)), at=JAN_1 + timedelta(days=9)
    )
    paused_again = pause(resumed, at=JAN_1 + timedelta(days=20, seconds=1))
    with store(tenant) as uow:
        uow.subscriptions.save(paused_again)
        uow.commit()
    with store(tenant) as uow:
        stored = uow.subscriptions.get("s1")
        assert stored == paused_again
        assert [(p.start.day, p.end) for p in stored.pauses] == [
            (4, JAN_1 + timedelta(days=9)),
            (21, None),
        ]
