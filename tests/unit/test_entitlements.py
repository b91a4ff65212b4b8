"""Entitlements as plan data: three kinds of feature, every problem at once, exact answers."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from iotbill.adapters.storage.memory import MemoryStore
from iotbill.domain.customers import Customer
from iotbill.domain.entitlement_checks import (
    alerts_reached,
    metered_answer,
    static_answer,
    usage_window,
)
from iotbill.domain.entitlements import BooleanFeature, MeteredFeature, StaticFeature
from iotbill.domain.errors import InvalidInput
from iotbill.domain.pricing import Graduated, Tier, Usage
from iotbill.domain.subscriptions import change_plan, subscribe
from iotbill.services.entitlements import check_entitlement
from tests.unit.conftest import plan, problems_of

EXAMPLES = Path(__file__).parents[2] / "examples" / "models"
FREE = (EXAMPLES / "freemium.yaml").read_text()
PRO = (EXAMPLES / "freemium-pro.yaml").read_text()


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_the_three_kinds_of_feature_load_exactly() -> None:
    free = plan(FREE)
    assert free.features == (
        BooleanFeature("remote_diagnostics", False),
        StaticFeature("retention_days", Decimal(7)),
        MeteredFeature(
            "readings", "readings", Decimal(1000), "block", None, (Decimal(80), Decimal(100))
        ),
    )
    # A blocked allowance bills no usage: its readings go on the invoice at 0.00.
    [charge] = free.charges
    assert (charge.code, charge.meter, charge.model) == (
        "readings",
        "readings",
        Graduated((Tier(None, Decimal(0)),)),
    )
    assert charge.name == "readings: 1000 included, overage blocked"
    assert free.feature("retention_days") == StaticFeature("retention_days", Decimal(7))
    assert free.feature("unknown") is None


def test_a_billed_overage_is_a_charge_with_the_allowance_free() -> None:
    pro = plan(PRO)
    [charge] = pro.charges
    assert (charge.code, charge.meter) == ("readings", "readings")
    assert charge.name == "readings: 10000 included, then 0.002 each"
    assert charge.model == Graduated(
        (Tier(Decimal(10000), Decimal(0)), Tier(None, Decimal("0.002")))
    )
    # 10,500 readings: 10,000 free, 500 x 0.002 = 1.00.
    assert charge.model.price(Usage(Decimal(10500))).amount == Decimal("1.000")


def test_every_feature_problem_is_reported_at_once() -> None:
    text = """\
code: bad
currency: USD
interval: month
meters:
  - {code: readings, event_type: reading, aggregation: count}
  - {code: peak, event_type: reading, aggregation: max, property: kw}
charges:
  - {code: readings_fee, meter: readings, model: per_unit, unit_price: "0.01"}
  - {code: taken, model: flat, amount: "1.00"}
features:
  peak_power: {meter: peak, allowance: 10}
  readings: {meter: readings, allowance: 1000, overage: block, price: "0.01"}
  storage: {meter: bytes, allowance: -1, overage: bill}
  taken: {meter: readings, allowance: 5, overage: bill, price: "0.1", alerts: [80, 50, 0]}
  colour: [red]
  quota: {meter: readings, allowance: 1, overage: sometimes, limit: 3}
"""
    with pytest.raises(InvalidInput) as caught:
        plan(text)
    assert problems_of(caught.value) == [
        "plan.yaml: features.peak_power.meter: meter 'peak' aggregates by max, which cannot be"
        " summed into an allowance (use a meter that counts or sums: count, sum)",
        "plan.yaml: features.readings.price: prices the overage, which overage: block never bills",
        "plan.yaml: features.readings.overage: is block, but charges[0] (readings_fee) bills"
        " meter 'readings': a blocked allowance bills no usage (use overage: bill)",
        "plan.yaml: features.storage.meter: unknown meter 'bytes' (meters: peak, readings)",
        "plan.yaml: features.storage.allowance: must be at least 0, not -1",
        "plan.yaml: features.storage.price: is required",
        "plan.yaml: features.taken.alerts[1]: must be greater than the alert before (80)",
        "plan.yaml: features.taken.alerts[2]: must be a percentage above 0 and at most 1000, not 0",
        "plan.yaml: features.colour: must be true or false, a number or a text, or a metered"
        " allowance (a mapping)",
        "plan.yaml: features.quota.limit: unknown field (expected one of: alerts, allowance,"
        " meter, overage, price)",
        "plan.yaml: features.quota.overage: must be one of block, bill, not 'sometimes'",
    ]


def test_an_overage_charge_may_not_take_a_charge_code() -> None:
    text = """\
code: clash
currency: USD
interval: month
meters: [{code: readings, event_type: reading, aggregation: count}]
charges: [{code: readings, model: flat, amount: "1.00"}]
features:
  readings: {meter: readings, allowance: 5, overage: bill, price: "0.1"}
"""
    with pytest.raises(InvalidInput) as caught:
        plan(text)
    assert problems_of(caught.value) == [
        "plan.yaml: features.readings: its usage is invoiced as a charge of the same code,"
        " which charges already use"
    ]


def test_an_upgrade_to_a_plan_in_another_currency_is_refused_at_change_time() -> None:
    acme = Customer.create(id="acme", name="Acme", currency_code="USD", timezone="UTC")
    free = plan(FREE)
    euro_pro = plan(PRO.replace("currency: USD", "currency: EUR"))
    subscription = subscribe(
        id="s", customer=acme, plan=free, plan_version=1, start=utc(2026, 1, 1)
    )
    with pytest.raises(InvalidInput) as caught:
        change_plan(
            subscription,
            acme,
            plan=euro_pro,
            plan_version=1,
            at=utc(2026, 1, 10),
            timing="immediate",
        )
    assert problems_of(caught.value) == [
        "plan: plan 'monitor-pro' bills in EUR but customer 'acme' pays in USD (one plan per"
        " currency: use the USD plan)"
    ]


def test_usage_counts_from_the_phase_start_against_the_whole_allowance() -> None:
    acme = Customer.create(id="acme", name="Acme", currency_code="USD", timezone="UTC")
    free, pro = plan(FREE), plan(PRO)
    subscription = subscribe(
        id="s", customer=acme, plan=free, plan_version=1, start=utc(2026, 1, 1)
    )
    upgraded = change_plan(
        subscription, acme, plan=pro, plan_version=1, at=utc(2026, 1, 10), timing="immediate"
    )
    before = usage_window(upgraded, free, "UTC", utc(2026, 1, 9, 12))
    after = usage_window(upgraded, pro, "UTC", utc(2026, 1, 20))
    assert (before.period.start, before.counted_from) == (utc(2026, 1, 1), utc(2026, 1, 1))
    assert (after.period.start, after.period.end) == (utc(2026, 1, 1), utc(2026, 2, 1))
    assert after.counted_from == utc(2026, 1, 10)
    feature = pro.feature("readings")
    assert isinstance(feature, MeteredFeature)
    answer = metered_answer(feature, after, Decimal(10500), "acme")
    # Billed overage: access stays; nothing remains of the 10,000 (not prorated to 22 days).
    assert (answer.has_access, answer.used, answer.limit, answer.remaining) == (
        True,
        Decimal(10500),
        Decimal(10000),
        Decimal(0),
    )


def test_a_blocked_allowance_answers_no_from_its_last_unit() -> None:
    free = plan(FREE)
    feature = free.feature("readings")
    assert isinstance(feature, MeteredFeature)
    acme = Customer.create(id="acme", name="Acme", currency_code="USD", timezone="UTC")
    subscription = subscribe(
        id="s", customer=acme, plan=free, plan_version=1, start=utc(2026, 1, 1)
    )
    window = usage_window(subscription, free, "UTC", utc(2026, 1, 9))
    answers = [metered_answer(feature, window, Decimal(n), "acme") for n in (999, 1000, 1001)]
    assert [(a.has_access, str(a.remaining)) for a in answers] == [
        (True, "1"),
        (False, "0"),
        (False, "0"),
    ]
    assert answers[1].reason == "the allowance of 1000 is used up"
    boolean = static_answer("acme", free.features[0], window)
    static = static_answer("acme", free.features[1], window)
    assert (boolean.has_access, boolean.reason) == (False, "plan 'monitor-free' withholds it")
    assert (static.has_access, static.value) == (True, Decimal(7))


def test_alerts_are_reached_at_their_share_of_the_allowance() -> None:
    feature = MeteredFeature(
        "readings", "readings", Decimal(1000), alerts=(Decimal(80), Decimal(100))
    )
    acme = Customer.create(id="acme", name="Acme", currency_code="USD", timezone="UTC")
    free = plan(FREE)
    subscription = subscribe(
        id="s", customer=acme, plan=free, plan_version=1, start=utc(2026, 1, 1)
    )
    window = usage_window(subscription, free, "UTC", utc(2026, 1, 9))
    reached = [
        [
            str(alert.percent)
            for alert in alerts_reached(feature, window, "acme", Decimal(n), at=window.as_of)
        ]
        for n in (0, 799, 800, 999, 1000)
    ]
    assert reached == [[], [], ["80"], ["80"], ["80", "100"]]
    [alert] = alerts_reached(feature, window, "acme", Decimal(800), at=window.as_of)
    assert alert.key == ("s", "readings", utc(2026, 1, 1), Decimal(80))


def test_a_check_with_a_naive_instant_and_a_bad_feature_names_both() -> None:
    store = MemoryStore().unit_of_work_factory()
    with pytest.raises(InvalidInput) as caught:
        check_entitlement(
            store("default"), customer="acme", feature="x\0y", as_of=datetime(2026, 1, 1)
        )
    assert [problem.location for problem in caught.value.problems] == ["as_of", "feature"]


def test_a_change_at_period_end_switches_the_features_when_the_next_period_starts() -> None:
    store = MemoryStore().unit_of_work_factory()
    free, pro = plan(FREE), plan(PRO)
    acme = Customer.create(id="acme", name="Acme", currency_code="USD", timezone="UTC")
    subscription = subscribe(
        id="s", customer=acme, plan=free, plan_version=1, start=utc(2026, 1, 1)
    )
    later = change_plan(
        subscription, acme, plan=pro, plan_version=1, at=utc(2026, 1, 10), timing="period_end"
    )
    with store("default") as uow:
        uow.customers.add(acme)
        uow.plans.add_version(free, FREE, utc(2026, 1, 1))
        uow.plans.add_version(pro, PRO, utc(2026, 1, 1))
        uow.subscriptions.add(later)
        uow.commit()

    def answer(at: datetime) -> tuple[bool, str | None, str | None]:
        found = check_entitlement(store("default"), customer="acme", feature="readings", as_of=at)
        assert found.window is not None
        return found.has_access, found.window.plan_code, str(found.limit)

    # Still the free plan until January ends; pro's 10,000 from 1 February.
    assert answer(utc(2026, 1, 31, 23)) == (True, "monitor-free", "1000")
    assert answer(utc(2026, 2, 1)) == (True, "monitor-pro", "10000")
    diagnostics = check_entitlement(
        store("default"), customer="acme", feature="remote_diagnostics", as_of=utc(2026, 2, 1)
    )
    assert diagnostics.has_access is True
