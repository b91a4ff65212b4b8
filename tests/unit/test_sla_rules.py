"""The SLA credit's rules: the table read from a plan, the tier of a visit, the period's
credit capped at 100 % and rounded once (docs/models.md, "SLA credits")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iotbill.domain.errors import InvalidInput
from iotbill.domain.models.sla import CreditTier, SlaTerms, capped, period_credit, settled
from iotbill.domain.models.work_orders import WorkOrder
from iotbill.domain.money import currency, round_money
from tests.unit.conftest import plan, problems_of

USD = currency("USD")
JPY = currency("JPY")
TERMS = SlaTerms(
    timedelta(hours=4),
    (CreditTier(timedelta(hours=4), Decimal(10)), CreditTier(timedelta(hours=8), Decimal(25))),
)
OPENED = datetime(2026, 1, 10, 8, tzinfo=UTC)
HEAD = """\
code: pump
currency: USD
interval: month
service:
  labour_rate: "90.00"
"""


@pytest.mark.parametrize(
    ("minutes", "percent"),
    [(1, "0"), (240, "0"), (241, "10"), (300, "10"), (480, "10"), (481, "25"), (6000, "25")],
)
def test_a_visit_earns_the_percent_of_the_last_threshold_it_passes(
    minutes: int, percent: str
) -> None:
    # Exactly 4 h is on time; exactly 8 h is still the 10 % tier.
    assert TERMS.percent_for(timedelta(minutes=minutes)) == Decimal(percent)


def test_a_breach_is_settled_at_arrival_or_once_the_last_threshold_has_passed() -> None:
    order = WorkOrder("acme/work-order/1", "acme", "pump-1", "Noise", OPENED)
    # Not on site: its tier may still change until more than 8 h have passed.
    assert settled(order, TERMS, OPENED + timedelta(hours=8)) is None
    waited = settled(order, TERMS, OPENED + timedelta(hours=8, seconds=1))
    assert waited is not None and (waited.arrived, waited.percent) == (False, Decimal(25))
    arrived = order.dispatch(OPENED).arrive(OPENED + timedelta(hours=5))
    assert settled(arrived, TERMS, OPENED + timedelta(hours=4, minutes=59)) is None
    found = settled(arrived, TERMS, OPENED + timedelta(hours=5))
    assert found is not None and (found.arrived, found.response, found.percent) == (
        True,
        timedelta(hours=5),
        Decimal(10),
    )


def test_breaches_add_and_are_capped_at_100_percent() -> None:
    assert capped([Decimal(10), Decimal(25)]) == Decimal(35)
    assert capped([Decimal(25)] * 5) == Decimal(100)
    # 35 % of 49.00 = 17.15; five late visits credit 49.00, never more.
    assert period_credit(Decimal("49.00"), [], [Decimal(10), Decimal(25)], USD) == Decimal("17.15")
    assert period_credit(Decimal("49.00"), [], [Decimal(25)] * 5, USD) == Decimal("49.00")
    # Already 90 % credited: a 25 % breach adds only the 10 % left, 4.90.
    assert period_credit(Decimal("49.00"), [Decimal(90)], [Decimal(25)], USD) == Decimal("4.90")
    assert period_credit(Decimal("49.00"), [Decimal(100)], [Decimal(25)], USD) == Decimal(0)
    assert period_credit(Decimal(0), [], [Decimal(25)], USD) == Decimal(0)


def test_a_period_credit_is_its_rounded_total_less_what_was_credited_before() -> None:
    # 10 % of 33.33 = 3.333: 3.33. Then 25 % more: 35 % = 11.6655, 11.67 in all, so 8.34
    # (25 % alone, 8.3325, would be 8.33): 3.33 + 8.34 = 11.67, the one rounding.
    assert period_credit(Decimal("33.33"), [], [Decimal(10)], USD) == Decimal("3.33")
    assert period_credit(Decimal("33.33"), [Decimal(10)], [Decimal(25)], USD) == Decimal("8.34")
    # Halves go up (the one rule): 12.5 % of 0.20 = 0.025: 0.03. In yen, 10 % of 1,005: 101.
    assert period_credit(Decimal("0.20"), [], [Decimal("12.5")], USD) == Decimal("0.03")
    assert period_credit(Decimal(1005), [], [Decimal(10)], JPY) == Decimal(101)


def test_the_table_loads_in_exact_values() -> None:
    text = HEAD + (
        "  sla:\n    on_site_within_hours: 2.5\n    credits:\n"
        "      - {more_than_hours: 2.5, percent: 5}\n      - {more_than_hours: 24, percent: 50.5}\n"
    )
    service = plan(text).service
    assert service is not None and service.sla == SlaTerms(
        timedelta(hours=2, minutes=30),
        (
            CreditTier(timedelta(hours=2, minutes=30), Decimal(5)),
            CreditTier(timedelta(hours=24), Decimal("50.5")),
        ),
    )


def test_every_problem_of_the_table_is_reported_at_once_with_its_field() -> None:
    text = HEAD + (
        "  sla:\n    on_site_within_hours: 4\n    late: yes\n    credits:\n"
        "      - {more_than_hours: 3, percent: 10}\n"
        "      - {more_than_hours: 3, percent: 5}\n"
        "      - {more_than_hours: 8, percent: 101}\n"
        "      - {more_than_hours: 0.001, percent: -1}\n"
    )
    with pytest.raises(InvalidInput) as error:
        plan(text)
    assert problems_of(error.value) == [
        "plan.yaml: service.sla.late: unknown field (expected one of: credits,"
        " on_site_within_hours)",
        "plan.yaml: service.sla.credits[0].more_than_hours: must be at least"
        " service.sla.on_site_within_hours (4 h): a visit on time earns no credit",
        "plan.yaml: service.sla.credits[1].more_than_hours: must be more than"
        " service.sla.credits[0].more_than_hours (3 h): thresholds increase",
        "plan.yaml: service.sla.credits[1].percent: must be at least"
        " service.sla.credits[0].percent (10): a later visit never earns less",
        "plan.yaml: service.sla.credits[2].percent: must be at most 100, not 101",
        "plan.yaml: service.sla.credits[3].more_than_hours: must be whole minutes, not 0.001 h",
        "plan.yaml: service.sla.credits[3].percent: must be at least 0, not -1",
    ]


@pytest.mark.parametrize(
    ("sla", "problem"),
    [
        ("{}", "service.sla.on_site_within_hours: is required"),
        ("{on_site_within_hours: 4}", "service.sla.credits: is required"),
        ("{on_site_within_hours: 4, credits: []}", "service.sla.credits: must list at least one"),
        ("{on_site_within_hours: 0, credits: []}", "service.sla.on_site_within_hours: must be"),
        (
            "{on_site_within_hours: 9000, credits: [{more_than_hours: 9000, percent: 1}]}",
            "service.sla.on_site_within_hours: must be at most 8760",
        ),
    ],
)
def test_an_incomplete_sla_is_refused(sla: str, problem: str) -> None:
    with pytest.raises(InvalidInput) as error:
        plan(HEAD + f"  sla: {sla}\n")
    assert any(problem in text for text in problems_of(error.value)), problems_of(error.value)


@settings(max_examples=200, deadline=None)
@given(
    cents=st.integers(min_value=0, max_value=10_000_000),
    batches=st.lists(
        st.lists(st.decimals(min_value=0, max_value=100, places=2), max_size=4), max_size=5
    ),
)
def test_a_period_s_credits_add_up_to_one_rounding_and_never_exceed_its_fees(
    cents: int, batches: list[list[Decimal]]
) -> None:
    """However its breaches are spread over invoices, a period's credit lines are each at
    least 0, add up to the one rounding of its capped total, and never to more than its fees."""
    fees = Decimal(cents) / 100
    credited: list[Decimal] = []
    lines = []
    for batch in batches:
        lines.append(period_credit(fees, credited, batch, USD))
        credited.extend(batch)
    assert all(line >= 0 for line in lines)
    assert sum(lines, Decimal(0)) == round_money(fees * capped(credited) / 100, USD) <= fees
