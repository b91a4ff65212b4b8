"""An archived plan on every store: no new subscription takes it or moves onto it, and the
subscriptions on it keep billing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from iotbill.adapters.plan_files import parse_plan_text
from iotbill.domain.errors import Conflict, InvalidInput, NotFound
from iotbill.services.billing import bill_run
from iotbill.services.catalog import archive_plan, archived_plans
from iotbill.services.invoices import list_invoices
from iotbill.services.ports import UnitOfWorkFactory
from iotbill.services.subscriptions import (
    change_subscription,
    create_subscription,
    migrate_subscriptions,
)
from tests.contract.conftest import JAN_1
from tests.stories.test_subscription_stories import PUMP

ARCHIVED_AT = JAN_1 + timedelta(days=10)
REFUSAL = re.escape(
    "plan: plan 'pump' is archived since 2026-01-11T00:00:00+00:00: it takes no new"
)


def test_an_archived_plan_takes_no_new_subscription_and_its_own_keep_billing(
    store: UnitOfWorkFactory, tenant: str
) -> None:
    with store(tenant) as uow:
        uow.plans.add_version(parse_plan_text(PUMP, "pump.yaml"), PUMP, JAN_1)
        uow.plans.add_version(
            parse_plan_text(PUMP.replace("pump", "other"), "other.yaml"), PUMP, JAN_1
        )
        uow.commit()
    kept = create_subscription(store(tenant), customer="c1", plan="pump", start=JAN_1)
    other = create_subscription(store(tenant), customer="c1", plan="other", start=JAN_1)

    archive_plan(store(tenant), "pump", ARCHIVED_AT)

    assert archived_plans(store(tenant)) == {"pump": ARCHIVED_AT}
    with pytest.raises(InvalidInput, match=REFUSAL):
        create_subscription(store(tenant), customer="c1", plan="pump", start=ARCHIVED_AT)
    with pytest.raises(InvalidInput, match=REFUSAL):
        change_subscription(
            store(tenant), other.id, plan="pump", timing="immediate", at=ARCHIVED_AT
        )
    with pytest.raises(InvalidInput, match=REFUSAL):
        migrate_subscriptions(store(tenant), "pump", at=ARCHIVED_AT)
    with pytest.raises(Conflict, match="plan 'pump' is archived already"):
        archive_plan(store(tenant), "pump", ARCHIVED_AT)
    with pytest.raises(NotFound, match="unknown plan 'gone'"):
        archive_plan(store(tenant), "gone", ARCHIVED_AT)
    february = JAN_1 + timedelta(days=31)
    bill_run(store, tenant, as_of=february, now=february)
    billed = list_invoices(store(tenant), subscription=kept.id)
    # January's advance fee (31.00) and, at its close, February's: the archived plan bills on
    assert sorted(invoice.as_json()["subtotal"] for invoice in billed) == ["31.00", "31.00"]
