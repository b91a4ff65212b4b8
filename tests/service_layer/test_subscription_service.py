"""Subscriptions through the use cases: refused requests store nothing; versions migrate."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from iotbill.adapters.clock import FrozenClock
from iotbill.adapters.plan_files import parse_plan_document
from iotbill.domain.errors import Conflict, InvalidInput, NotFound
from iotbill.domain.subscriptions import Cancellation, Phase
from iotbill.services.catalog import apply_plan
from iotbill.services.customers import add_device
from iotbill.services.subscriptions import (
    Skipped,
    cancel_subscription,
    change_subscription,
    create_subscription,
    list_subscriptions,
    migrate_subscriptions,
)
from tests.service_layer.conftest import NewUnitOfWork
from tests.service_layer.documents import add_customers, water_plan

# Local midnights: New York is UTC-5 in winter, UTC-4 from 8 March 2026.
NY_JAN_1 = datetime(2026, 1, 1, 5, tzinfo=UTC)
NY_MAR_1 = datetime(2026, 3, 1, 5, tzinfo=UTC)
NY_APR_1 = datetime(2026, 4, 1, 4, tzinfo=UTC)


@pytest.fixture
def catalog(uow: NewUnitOfWork, clock: FrozenClock) -> None:
    """Customers acme (USD, New York) and berlin (EUR); USD plans water and premium."""
    add_customers(uow)
    apply_plan(uow(), parse_plan_document(water_plan("water"), "water.yaml"), clock)
    apply_plan(
        uow(), parse_plan_document(water_plan("premium", fee="62.00"), "premium.yaml"), clock
    )
    apply_plan(
        uow(), parse_plan_document(water_plan("wasser", currency="EUR"), "wasser.yaml"), clock
    )


@pytest.mark.usefixtures("catalog")
def test_subscriptions_get_readable_ids_and_start_at_local_midnight(uow: NewUnitOfWork) -> None:
    first = create_subscription(uow(), customer="acme", plan="water", start=date(2026, 1, 1))
    second = create_subscription(uow(), customer="berlin", plan="wasser", start=date(2026, 1, 1))

    assert (first.id, second.id) == ("sub-000001", "sub-000002")
    assert first.phases == (Phase("water", 1, NY_JAN_1),)
    assert second.start == datetime(2025, 12, 31, 23, tzinfo=UTC)
    assert list_subscriptions(uow()) == [first, second]
    assert list_subscriptions(uow(), customer="berlin") == [second]


@pytest.mark.usefixtures("catalog")
def test_an_unknown_plan_stores_nothing_and_takes_no_id(uow: NewUnitOfWork) -> None:
    with pytest.raises(InvalidInput) as raised:
        create_subscription(uow(), customer="acme", plan="gold", start=date(2026, 1, 1))

    assert [str(p) for p in raised.value.problems] == [
        "plan: unknown plan 'gold' (iotbill plans apply stores it)"
    ]
    assert list_subscriptions(uow()) == []
    later = create_subscription(uow(), customer="acme", plan="water", start=date(2026, 1, 1))
    assert later.id == "sub-000001"  # the refused request's number rolled back with it


@pytest.mark.usefixtures("catalog")
def test_a_plan_in_another_currency_is_refused(uow: NewUnitOfWork) -> None:
    with pytest.raises(InvalidInput) as raised:
        create_subscription(uow(), customer="acme", plan="wasser", start=date(2026, 1, 1))

    (problem,) = raised.value.problems
    assert problem.location == "plan"
    assert "bills in EUR but customer 'acme' pays in USD" in problem.message
    assert list_subscriptions(uow()) == []


@pytest.mark.usefixtures("catalog")
def test_every_problem_of_a_request_is_reported_at_once(uow: NewUnitOfWork) -> None:
    with pytest.raises(InvalidInput) as raised:
        create_subscription(
            uow(),
            customer="nobody",
            plan="water",
            plan_version=4,
            start=datetime(2026, 1, 1),
            trial_days=0,
            device="pump-9",
        )

    assert [p.location for p in raised.value.problems] == [
        "customer",
        "plan_version",
        "start",
        "trial_days",
        "device",
    ]
    assert list_subscriptions(uow()) == []


@pytest.mark.usefixtures("catalog")
def test_a_device_subscription_needs_the_customers_own_device(uow: NewUnitOfWork) -> None:
    add_device(uow(), "pump-1", customer="berlin", start=date(2025, 12, 1))
    add_device(uow(), "pump-2", customer="acme", start=date(2026, 1, 1))

    with pytest.raises(InvalidInput, match="device 'pump-1' belongs to 'berlin'"):
        create_subscription(
            uow(), customer="acme", plan="water", start=date(2026, 1, 1), device="pump-1"
        )
    own = create_subscription(
        uow(), customer="acme", plan="water", start=date(2026, 1, 1), device="pump-2"
    )

    assert list_subscriptions(uow()) == [own]
    assert own.device_id == "pump-2"


@pytest.mark.usefixtures("catalog")
def test_trials_end_after_local_days_or_at_a_date(uow: NewUnitOfWork) -> None:
    by_days = create_subscription(
        uow(), customer="acme", plan="water", start=date(2026, 3, 1), trial_days=14
    )
    by_date = create_subscription(
        uow(),
        customer="acme",
        plan="water",
        start=date(2026, 3, 1),
        trial_end=date(2026, 3, 15),
        billing_mode="anniversary",
    )

    # 14 local days from 1 March cross the DST change of 8 March: 13 days and 23 hours.
    assert by_days.trial_end == by_date.trial_end == datetime(2026, 3, 15, 4, tzinfo=UTC)
    assert by_date.billing_mode == "anniversary"
    with pytest.raises(InvalidInput, match="give trial_days or trial_end, not both"):
        create_subscription(
            uow(),
            customer="acme",
            plan="water",
            start=date(2026, 3, 1),
            trial_days=3,
            trial_end=date(2026, 3, 4),
        )


@pytest.mark.usefixtures("catalog")
def test_changes_immediately_or_at_period_end(uow: NewUnitOfWork) -> None:
    subscription = create_subscription(uow(), customer="acme", plan="water", start=date(2026, 1, 1))
    mid_march = datetime(2026, 3, 10, 10, tzinfo=UTC)

    later = change_subscription(
        uow(), subscription.id, plan="premium", timing="period_end", at=mid_march
    )
    assert later.phases[-1] == Phase("premium", 1, NY_APR_1)
    now = change_subscription(
        uow(), subscription.id, plan="premium", timing="immediate", at=mid_march
    )
    assert now.phases == (Phase("water", 1, NY_JAN_1), Phase("premium", 1, mid_march))
    assert list_subscriptions(uow()) == [now]

    with pytest.raises(InvalidInput, match="timing: must be one of immediate, period_end"):
        change_subscription(uow(), subscription.id, plan="water", timing="soon", at=mid_march)
    with pytest.raises(InvalidInput, match=r"plan: .* bills in EUR"):
        change_subscription(uow(), subscription.id, plan="wasser", timing="immediate", at=NY_APR_1)
    with pytest.raises(NotFound, match="unknown subscription 'sub-000009'"):
        change_subscription(uow(), "sub-000009", plan="water", timing="immediate", at=NY_APR_1)
    assert list_subscriptions(uow()) == [now]


@pytest.mark.usefixtures("catalog")
def test_cancellation_at_period_end_then_never_again(uow: NewUnitOfWork) -> None:
    subscription = create_subscription(uow(), customer="acme", plan="water", start=date(2026, 1, 1))
    asked = datetime(2026, 3, 10, 10, tzinfo=UTC)

    cancelled = cancel_subscription(uow(), subscription.id, timing="period_end", at=asked)

    assert cancelled.cancellation == Cancellation("period_end", asked, NY_APR_1)
    with pytest.raises(Conflict, match="already cancelled"):
        cancel_subscription(uow(), subscription.id, timing="immediate", at=asked)
    assert list_subscriptions(uow()) == [cancelled]


def test_existing_subscriptions_keep_their_version_until_migrated_on_a_date(
    uow: NewUnitOfWork, clock: FrozenClock
) -> None:
    add_customers(uow)
    apply_plan(uow(), parse_plan_document(water_plan(fee="31.00"), "water.yaml"), clock)
    kept = create_subscription(uow(), customer="acme", plan="water", start=date(2026, 1, 1))
    ended = create_subscription(uow(), customer="acme", plan="water", start=date(2026, 1, 1))
    cancel_subscription(uow(), ended.id, timing="immediate", at=date(2026, 2, 1))
    apply_plan(uow(), parse_plan_document(water_plan(fee="35.00"), "water.yaml"), clock)

    newcomer = create_subscription(uow(), customer="acme", plan="water", start=date(2026, 2, 1))
    assert newcomer.phases[0].plan_key == ("water", 2)
    assert list_subscriptions(uow())[0].phases == (Phase("water", 1, NY_JAN_1),)

    migration = migrate_subscriptions(uow(), "water", at=date(2026, 3, 1))

    assert migration.target.version == 2
    assert [s.id for s in migration.migrated] == [kept.id]
    assert migration.skipped == (Skipped(ended.id, "ended at 2026-02-01T05:00:00+00:00"),)
    stored = {s.id: s for s in list_subscriptions(uow())}
    assert stored[kept.id].phases == (Phase("water", 1, NY_JAN_1), Phase("water", 2, NY_MAR_1))
    assert stored[newcomer.id] == newcomer
    assert stored[ended.id].phases == ended.phases

    again = migrate_subscriptions(uow(), "water", at=date(2026, 3, 1))
    assert again.migrated == ()  # everyone is on version 2 already


def test_migrating_an_unknown_plan_is_not_found(uow: NewUnitOfWork) -> None:
    with pytest.raises(NotFound, match="unknown plan 'gold'"):
        migrate_subscriptions(uow(), "gold", at=date(2026, 3, 1))
