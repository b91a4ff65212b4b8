"""Plans stored with versions: a changed plan is a new version, the same plan is not."""

from __future__ import annotations

from datetime import timedelta

import pytest

from iotbill.adapters.clock import FrozenClock
from iotbill.adapters.plan_files import parse_plan_document
from iotbill.domain.errors import InvalidInput, NotFound
from iotbill.services.catalog import apply_plan, list_plans, plan_versions, show_plan
from tests.service_layer.conftest import NewUnitOfWork
from tests.service_layer.documents import water_plan


def test_the_same_file_twice_is_one_version(uow: NewUnitOfWork, clock: FrozenClock) -> None:
    first = apply_plan(uow(), parse_plan_document(water_plan(), "water.yaml"), clock)
    clock.advance(timedelta(hours=1))
    again = apply_plan(uow(), parse_plan_document(water_plan(), "water.yaml"), clock)

    assert (first.created, first.stored.version) == (True, 1)
    assert (again.created, again.stored.version) == (False, 1)
    assert again.stored.created_at == first.stored.created_at  # the stored version, untouched
    assert [stored.version for stored in plan_versions(uow(), "water")] == [1]


def test_comments_and_layout_are_not_the_plan(uow: NewUnitOfWork, clock: FrozenClock) -> None:
    apply_plan(uow(), parse_plan_document(water_plan(comment="first"), "water.yaml"), clock)
    edited = apply_plan(
        uow(), parse_plan_document(water_plan(comment="reworded"), "water.yaml"), clock
    )

    assert (edited.created, edited.stored.version) == (False, 1)
    assert "first" in show_plan(uow(), "water").document


def test_an_edited_plan_is_the_next_version_and_the_old_one_stays(
    uow: NewUnitOfWork, clock: FrozenClock
) -> None:
    apply_plan(uow(), parse_plan_document(water_plan(fee="31.00"), "water.yaml"), clock)
    clock.advance(timedelta(days=30))
    edited = apply_plan(uow(), parse_plan_document(water_plan(fee="35.00"), "water.yaml"), clock)

    assert (edited.created, edited.stored.version) == (True, 2)
    assert edited.stored.created_at == clock.now()
    assert show_plan(uow(), "water").version == 2
    assert show_plan(uow(), "water", 1).plan.fixed_fees[0].amount == 31
    assert show_plan(uow(), "water", 2).plan.fixed_fees[0].amount == 35
    assert 'amount: "31.00"' in show_plan(uow(), "water", 1).document


def test_an_invalid_edit_reports_every_problem_and_stores_nothing(
    uow: NewUnitOfWork, clock: FrozenClock
) -> None:
    apply_plan(uow(), parse_plan_document(water_plan(), "water.yaml"), clock)
    broken = water_plan(fee="31.001", price="cheap")

    with pytest.raises(InvalidInput) as raised:
        apply_plan(uow(), parse_plan_document(broken, "water.yaml"), clock)

    locations = [problem.location for problem in raised.value.problems]
    assert locations == ["water.yaml: fixed_fees[0].amount", "water.yaml: charges[0].unit_price"]
    assert [stored.version for stored in plan_versions(uow(), "water")] == [1]


def test_a_plan_keeps_its_currency_and_interval(uow: NewUnitOfWork, clock: FrozenClock) -> None:
    apply_plan(uow(), parse_plan_document(water_plan(), "water.yaml"), clock)

    with pytest.raises(InvalidInput) as raised:
        apply_plan(
            uow(),
            parse_plan_document(water_plan(currency="EUR", interval="year"), "water.yaml"),
            clock,
        )

    messages = {problem.location: problem.message for problem in raised.value.problems}
    assert set(messages) == {"water.yaml: currency", "water.yaml: interval"}
    assert "give the EUR plan a code of its own" in messages["water.yaml: currency"]
    assert [stored.version for stored in plan_versions(uow(), "water")] == [1]


def test_list_shows_the_latest_version_of_each_plan(uow: NewUnitOfWork, clock: FrozenClock) -> None:
    apply_plan(uow(), parse_plan_document(water_plan("water"), "a.yaml"), clock)
    apply_plan(uow(), parse_plan_document(water_plan("water", price="0.60"), "a.yaml"), clock)
    apply_plan(uow(), parse_plan_document(water_plan("basic"), "b.yaml"), clock)

    assert [(s.plan.code, s.version) for s in list_plans(uow())] == [("basic", 1), ("water", 2)]


def test_unknown_plans_and_versions_are_not_found(uow: NewUnitOfWork, clock: FrozenClock) -> None:
    apply_plan(uow(), parse_plan_document(water_plan(), "water.yaml"), clock)

    with pytest.raises(NotFound, match="unknown plan 'gold'"):
        show_plan(uow(), "gold")
    with pytest.raises(NotFound, match="has no version 3"):
        show_plan(uow(), "water", 3)
