"""A pump leased for 36 months (memory store): ending early, buying out, renewing.

The template plan (examples/models/lease.yaml): 120.00 a month in advance, a term of 36
months, evergreen after it, an early termination fee of 50 % of the lease fees left in the
term, a buy-out of 300.00. The customer is in UTC, without tax, from 1 January 2026.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from iotbill.adapters.plan_files import parse_plan_text
from iotbill.domain.catalog import ContractTerms, TerminationFee
from iotbill.domain.errors import Conflict, InvalidInput
from iotbill.services.subscriptions import buy_out_subscription, get_subscription
from tests.conftest import ROOT
from tests.stories.world import TENANT, World, lines

TEMPLATE = (ROOT / "examples" / "models" / "lease.yaml").read_text()
START = datetime(2026, 1, 1, tzinfo=UTC)


def month(year: int, number: int, day: int = 1) -> datetime:
    return datetime(year, number, day, tzinfo=UTC)


def months(first: datetime, last: datetime) -> list[datetime]:
    found, at = [], first
    while at <= last:
        found.append(at)
        at = month(at.year + at.month // 12, at.month % 12 + 1)
    return found


def world(plan: str = TEMPLATE, code: str = "lease") -> World:
    world = World(START)
    world.plan(plan)
    world.customer("acme", "USD", "UTC")
    world.device("pump-1", "acme", START)
    world.subscribe("lease-1", "acme", code, START)
    return world


def test_ended_with_the_tenth_month_the_fee_is_half_of_the_26_months_left() -> None:
    story = world()
    for at in months(START, month(2026, 10, 1)):
        story.bill(at)
    story.cancel("lease-1", month(2026, 10, 15), "period_end")  # ends 1 November
    for at in months(month(2026, 11), month(2027, 1)):
        story.bill(at)
        story.bill(at)  # run twice: the fee is billed once
    invoices = story.invoices()
    assert len(invoices) == 11  # the opening and ten closes
    assert all(lines(i)[-1] == ("fixed_fee", "lease", "120.00") for i in invoices[:10])
    october = invoices[-1]
    # No November fee; 0.5 x 26 months (November 2026 to December 2028) x 120.00.
    assert lines(october) == [
        ("usage", "sms", "0.00"),
        ("one_off", "early_termination_fee", "1560.00"),
    ]
    (detail,) = october.lines[-1].detail
    assert detail.note == (
        "50 % x 26 periods x 120.00, the fixed fees left in the term"
        " (2026-11-01T00:00:00+00:00 to 2029-01-01T00:00:00+00:00)"
    )


def test_an_immediate_cancellation_credits_the_month_cut_short_and_bills_the_fee() -> None:
    story = world()
    for at in months(START, month(2026, 10)):
        story.bill(at)
    story.cancel("lease-1", month(2026, 10, 15), "immediate")
    story.bill(month(2026, 11))
    cancellation = next(i for i in story.invoices() if i.kind == "cancellation")
    # 120.00 x 17 / 31 days unused = 65.806...; the 26 whole months from November are left.
    assert lines(cancellation) == [
        ("credit", "lease", "-65.81"),
        ("one_off", "early_termination_fee", "1560.00"),
    ]


def test_a_buy_out_at_term_end_bills_the_price_and_no_lease_fee_follows() -> None:
    story = world()
    for at in months(START, month(2028, 12)):
        story.bill(at)
    with pytest.raises(Conflict, match="offered from the end of the term, 2029-01-01"):
        buy_out_subscription(story.open(TENANT), "lease-1", at=month(2028, 12, 15))
    buy_out_subscription(story.open(TENANT), "lease-1", at=month(2029, 1))
    for at in months(month(2029, 1), month(2029, 3)):
        story.bill(at)
        story.bill(at)
    invoices = story.invoices()
    fees = [line for invoice in invoices for line in invoice.lines if line.charge == "lease"]
    assert len(fees) == 36 and {str(fee.amount) for fee in fees} == {"120.00"}
    bought, december = invoices[-2:]  # both issued on 1 January 2029
    assert lines(december) == [("usage", "sms", "0.00")]  # no fee for January 2029
    assert (bought.kind, lines(bought)) == ("cancellation", [("one_off", "buy_out", "300.00")])
    owned = get_subscription(story.open(TENANT), "lease-1").cancellation
    assert owned is not None and (owned.reason, owned.effective_at) == ("buy_out", month(2029, 1))
    with pytest.raises(Conflict, match="was bought out at 2029-01-01"):
        buy_out_subscription(story.open(TENANT), "lease-1", at=month(2029, 2))


def test_a_buy_out_after_the_term_credits_the_rest_of_the_month() -> None:
    story = world()
    for at in months(START, month(2029, 2)):
        story.bill(at)  # evergreen: February 2029 is billed in advance, 120.00
    buy_out_subscription(story.open(TENANT), "lease-1", at=month(2029, 2, 15))
    story.bill(month(2029, 3))
    bought = next(i for i in story.invoices() if i.kind == "cancellation")
    # 120.00 x 14 / 28 days unused; no fee: the term is over.
    assert lines(bought) == [("credit", "lease", "-60.00"), ("one_off", "buy_out", "300.00")]


def test_a_term_that_renews_charges_the_months_left_in_the_current_term() -> None:
    plan = TEMPLATE.replace("term: 36", "term: 12").replace("evergreen ", "renew ")
    story = world(plan)
    for at in months(START, month(2027, 3)):
        story.bill(at)
    story.cancel("lease-1", month(2027, 3, 10), "period_end")  # ends 1 April 2027
    story.bill(month(2027, 4))
    march = story.invoices()[-1]
    # The second term runs to 1 January 2028: April to December, 9 months x 120.00 x 0.5.
    assert lines(march)[-1] == ("one_off", "early_termination_fee", "540.00")


def test_a_term_that_cancels_ends_service_without_a_fee_unless_ended_sooner() -> None:
    plan = TEMPLATE.replace("term: 36", "term: 3").replace("evergreen ", "cancel ")
    story = world(plan)
    for at in months(START, month(2026, 6)):
        story.bill(at)
    invoices = story.invoices()
    assert [lines(i)[-1] for i in invoices] == [
        ("fixed_fee", "lease", "120.00"),
        ("fixed_fee", "lease", "120.00"),
        ("fixed_fee", "lease", "120.00"),
        ("usage", "sms", "0.00"),  # March closes the term: no fee, nothing follows
    ]
    sooner = world(plan)
    sooner.bill(START)
    sooner.cancel("lease-1", month(2026, 1, 20), "period_end")  # ends 1 February, not 1 April
    sooner.bill(month(2026, 2))
    # February and March left: 0.5 x 2 x 120.00.
    assert lines(sooner.invoices()[-1])[-1] == ("one_off", "early_termination_fee", "120.00")


def test_bad_contract_terms_are_reported_at_once_at_plan_load() -> None:
    bad = (
        TEMPLATE.replace("{percent: 50}", "{percent: 150}")
        .replace('"300.00"', '"300.001"')
        .replace("evergreen ", "forever ")
    )
    with pytest.raises(InvalidInput) as refused:
        parse_plan_text(bad, "lease.yaml")
    assert [str(problem) for problem in refused.value.problems] == [
        "lease.yaml: at_term_end: must be one of renew, evergreen, cancel, not 'forever'",
        "lease.yaml: early_termination_fee.percent: must be at most 100, not 150",
        "lease.yaml: buy_out: 300.001 has more decimals than USD allows (2)",
    ]
    feeless = TEMPLATE.replace(
        '  - {code: lease, name: Pump lease, amount: "120.00", timing: advance}\n', ""
    ).replace("fixed_fees:\n", "")
    with pytest.raises(InvalidInput) as refused:
        parse_plan_text(feeless, "lease.yaml")
    assert [str(problem) for problem in refused.value.problems] == [
        "lease.yaml: term: binds the plan's fixed fees for a number of periods, and the plan"
        " has none",
    ]


def test_a_subscription_may_carry_terms_of_its_own() -> None:
    plain = TEMPLATE.replace("code: lease", "code: monthly")
    for line in ("term: 36", "at_term_end: evergreen", "early_termination_fee: {percent: 50}"):
        plain = "\n".join(row for row in plain.splitlines() if not row.startswith(line)) + "\n"
    plain = plain.replace('buy_out: "300.00"\n', "")
    story = World(START)
    story.plan(plain)
    story.plan(TEMPLATE)
    story.customer("acme", "USD", "UTC")
    own = ContractTerms(12, "evergreen", TerminationFee(amount=Decimal("500.00")))
    story.subscribe("monthly-1", "acme", "monthly", START, contract=own)
    stricter = ContractTerms(12, "evergreen", TerminationFee(percent=Decimal(100)))
    story.subscribe("lease-1", "acme", "lease", START, contract=stricter)
    for at in months(START, month(2026, 3)):
        story.bill(at)
    story.cancel("monthly-1", month(2026, 3, 5), "period_end")  # ends 1 April
    story.cancel("lease-1", month(2026, 3, 5), "period_end")
    story.bill(month(2026, 4))
    fees = {
        invoice.subscription_id: line.amount
        for invoice in story.invoices()
        for line in invoice.lines
        if line.charge == "early_termination_fee"
    }
    # A fixed 500.00 on a plan without a term; on the lease, its own 12-month term at 100 %:
    # April to December, 9 x 120.00 (the plan's 36 months at 50 % would be 1,980.00).
    assert {key: str(value) for key, value in fees.items()} == {
        "monthly-1": "500.00",
        "lease-1": "1080.00",
    }
