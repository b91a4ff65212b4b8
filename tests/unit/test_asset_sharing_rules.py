"""The asset-sharing rules: the plan's sharing terms, sales read from events, the split,
and the invoice lines and ledger entries of a settlement, with exact numbers."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iotbill.domain.credits import balances
from iotbill.domain.errors import InvalidInput
from iotbill.domain.events import UsageEvent
from iotbill.domain.models.asset_sharing import (
    ASSET_SALES,
    MARKET_RECEIPTS,
    OPERATOR_REVENUE,
    AssetBuyer,
    Settlement,
    SharingTerms,
    SoldLine,
    buyer_problem,
    read_sales,
    settlement_charges,
    settlement_entries,
    settlement_id,
    sold_lines,
    split,
)
from iotbill.domain.money import currency
from iotbill.domain.periods import Period
from tests.unit.conftest import plan, problems_of

EUR = currency("EUR")
MARCH = Period(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
TERMS = SharingTerms("capacity.sold", "kwh", "price", "buyer", Decimal(30), "kWh")
HEAD = """\
code: battery
currency: EUR
interval: month
"""


def sale(id: str, device: str, day: int, kwh: object, price: object, buyer: object) -> UsageEvent:
    return UsageEvent(
        id,
        "capacity.sold",
        device,
        datetime(2026, 3, day, 12, tzinfo=UTC),
        {"kwh": kwh, "price": price, "buyer": buyer},
    )


BUYERS = {
    ("b1", "grid"): AssetBuyer("b1", "grid", "grid-op", MARCH.start),
    ("b1", "spot"): AssetBuyer("b1", "spot", None, MARCH.start),
    ("b2", "grid"): AssetBuyer("b2", "grid", "grid-op", MARCH.start),
}


def test_the_template_loads_into_exact_terms() -> None:
    template = Path(__file__).parents[2] / "examples" / "models" / "asset-sharing.yaml"
    assert plan(template.read_text()).sharing == TERMS


def test_a_share_outside_0_to_100_and_every_other_problem_are_refused_with_their_fields() -> None:
    text = (
        HEAD + 'sharing: {event_type: capacity.sold, quantity: kwh, price: kwh, share: "100.5"}\n'
    )
    with pytest.raises(InvalidInput) as error:
        plan(text)
    assert problems_of(error.value) == [
        "plan.yaml: sharing.buyer: is required",
        "plan.yaml: sharing.share: must be a percentage from 0 to 100, not 100.5",
        "plan.yaml: sharing.price: 'kwh' is already the quantity property",
    ]
    below = HEAD + "sharing: {event_type: s, quantity: q, price: p, buyer: b, share: -1}\n"
    with pytest.raises(InvalidInput) as error:
        plan(below)
    assert problems_of(error.value) == [
        "plan.yaml: sharing.share: must be a percentage from 0 to 100, not -1"
    ]


def test_0_and_100_are_shares_too() -> None:
    for share in ("0", "100"):
        text = (
            HEAD + f"sharing: {{event_type: s, quantity: q, price: p, buyer: b, share: {share}}}\n"
        )
        terms = plan(text).sharing
        assert terms is not None and terms.share == Decimal(share) and terms.unit == "unit"


def test_the_split_rounds_the_share_once_and_gives_the_rest_to_the_operator() -> None:
    # 30 % of 10.05 = 3.015 -> 3.02 (half up); the operator keeps 10.05 - 3.02 = 7.03.
    assert split(Decimal("10.05"), Decimal(30), EUR) == (Decimal("3.02"), Decimal("7.03"))
    # 12.5 % of 0.01 = 0.00125 -> 0.00: the cent stays with the operator.
    assert split(Decimal("0.01"), Decimal("12.5"), EUR) == (Decimal("0.00"), Decimal("0.01"))
    assert split(Decimal("7.77"), Decimal(100), EUR) == (Decimal("7.77"), Decimal("0.00"))
    assert split(Decimal(1234), Decimal("33.3"), currency("JPY")) == (Decimal(411), Decimal(823))


def test_sales_are_grouped_by_device_buyer_and_price_and_rounded_once_per_line() -> None:
    events = [
        sale("s1", "b1", 2, "5", "0.2100", "grid"),
        sale("s2", "b1", 3, "7.5", "0.2100", "grid"),  # 12.5 x 0.21 = 2.625 -> 2.63
        sale("s3", "b1", 4, "40.125", "0.185", "grid"),  # 7.423125 -> 7.42
        sale("s4", "b1", 5, "3", "0.095", "spot"),  # 0.285 -> 0.29, paid directly
        sale("s5", "b2", 5, "1", "0", "grid"),  # free: 0.00
        UsageEvent("x", "other", "b1", MARCH.start, {}),
    ]
    lines = sold_lines(read_sales(events, TERMS), BUYERS, EUR)
    assert lines == (
        SoldLine("b1", "grid", "grid-op", Decimal("0.185"), Decimal("40.125"), Decimal("7.42")),
        SoldLine("b1", "grid", "grid-op", Decimal("0.2100"), Decimal("12.5"), Decimal("2.63")),
        SoldLine("b1", "spot", None, Decimal("0.095"), Decimal("3"), Decimal("0.29")),
        SoldLine("b2", "grid", "grid-op", Decimal("0"), Decimal("1"), Decimal("0.00")),
    )


def test_a_sale_without_its_numbers_or_of_an_unregistered_buyer_is_named() -> None:
    events = [
        sale("s1", "b1", 2, "0", "0.21", "grid"),
        sale("s2", "b1", 2, "1", "-0.05", "grid"),
        sale("s3", "b1", 2, "abc", None, ""),
    ]
    with pytest.raises(InvalidInput) as error:
        read_sales(events, TERMS)
    assert problems_of(error.value) == [
        "event 's1': properties.kwh: must be greater than 0, not 0",
        "event 's2': properties.price: must be at least 0, not -0.05"
        " (negative prices are not sold)",
        "event 's3': properties.kwh: 'abc' is not a plain decimal number (like -12.50)",
        "event 's3': properties.price: is required",
        "event 's3': properties.buyer: must name the buyer",
    ]
    with pytest.raises(InvalidInput) as error:
        sold_lines(read_sales([sale("s4", "b2", 2, "1", "1", "spot")], TERMS), BUYERS, EUR)
    assert problems_of(error.value) == [
        "event 's4': buyer 'spot' is not registered for device 'b2'"
    ]


def test_a_buyer_is_a_third_party_billed_in_the_plan_currency() -> None:
    assert buyer_problem("acme", "grid-op", EUR, EUR) is None
    assert buyer_problem("acme", "acme", EUR, EUR) == (
        "'acme' owns the asset; a buyer is a third party"
    )
    assert buyer_problem("acme", "us-grid", currency("USD"), EUR) == (
        "'us-grid' is billed in USD, but the asset's plan is in EUR: a buyer is invoiced"
        " in the owner's plan currency (there is no currency conversion)"
    )


def settlement(number: int = 1) -> Settlement:
    events = [
        sale("s1", "b1", 2, "12.5", "0.21", "grid"),  # 2.625 -> 2.63
        sale("s2", "b1", 4, "40.125", "0.185", "grid"),  # 7.423125 -> 7.42
        sale("s3", "b1", 5, "3", "0.095", "spot"),  # 0.285 -> 0.29
        sale("s4", "b2", 5, "10", "0.2", "grid"),  # 2.00
    ]
    return Settlement(
        id=settlement_id("sub-1", MARCH, number),
        subscription_id="sub-1",
        customer_id="acme",
        period=MARCH,
        number=number,
        settled_at=datetime(2026, 4, 1, 12, tzinfo=UTC),
        billed_at=MARCH.end,
        currency=EUR,
        share=Decimal(30),
        unit="kWh",
        lines=sold_lines(read_sales(events, TERMS), BUYERS, EUR),
    )


def test_each_asset_is_split_on_its_own_rounded_revenue() -> None:
    b1, b2 = settlement().splits()
    # b1: 7.42 + 2.63 + 0.29 = 10.34; 30 % = 3.102 -> 3.10; operator 7.24.
    assert (b1.device_id, b1.revenue, b1.credit, b1.operator) == (
        "b1",
        Decimal("10.34"),
        Decimal("3.10"),
        Decimal("7.24"),
    )
    # b2: 2.00; 30 % = 0.60; operator 1.40.
    assert (b2.revenue, b2.credit, b2.operator) == (
        Decimal("2.00"),
        Decimal("0.60"),
        Decimal("1.40"),
    )


def test_a_settlement_bills_the_buyer_its_lines_and_credits_the_owner_before_tax() -> None:
    charges = settlement_charges(settlement(), ZoneInfo("Europe/Berlin"))
    assert [
        (c.id, c.customer_id, c.kind, c.line().quantity, c.line().unit_price, c.line().amount)
        for c in charges
    ] == [
        ("sub-1/sales/2026-03-01T00:00:00+00:00/1/b1/grid/001", "grid-op", "one_off",
         Decimal("40.125"), Decimal("0.185"), Decimal("7.42")),
        ("sub-1/sales/2026-03-01T00:00:00+00:00/1/b1/grid/002", "grid-op", "one_off",
         Decimal("12.5"), Decimal("0.21"), Decimal("2.63")),
        ("sub-1/sales/2026-03-01T00:00:00+00:00/1/b1/credit", "acme", "credit",
         Decimal(1), Decimal("-3.10"), Decimal("-3.10")),
        ("sub-1/sales/2026-03-01T00:00:00+00:00/1/b2/grid/001", "grid-op", "one_off",
         Decimal("10"), Decimal("0.2"), Decimal("2.00")),
        ("sub-1/sales/2026-03-01T00:00:00+00:00/1/b2/credit", "acme", "credit",
         Decimal(1), Decimal("-0.60"), Decimal("-0.60")),
    ]  # fmt: skip
    assert charges[0].description == (
        "kWh bought from b1 at 0.185 EUR, 2026-03-01 01:00 to 2026-04-01 02:00"
    )
    assert charges[2].description == (
        "30 % share of 10.34 EUR sold from b1, 2026-03-01 01:00 to 2026-04-01 02:00"
    )
    late = settlement_charges(settlement(2), ZoneInfo("UTC"))
    assert (
        late[0].description
        == "Late sale: kWh bought from b1 at 0.185 EUR, 2026-03-01 to 2026-04-01"
    )
    assert late[2].description.startswith("Late sale: 30 % share of 10.34 EUR")


def test_the_ledger_entries_balance_and_sales_equal_credits_plus_operator_revenue() -> None:
    entries = settlement_entries(settlement())
    shown = [(e.id.rsplit("/1/")[1], e.customer_id, e.debit, e.credit, e.amount) for e in entries]
    assert shown == [
        ("b1/sold/grid", "grid-op", "customer:grid-op:receivable", ASSET_SALES, Decimal("10.05")),
        ("b1/sold/spot", "acme", MARKET_RECEIPTS, ASSET_SALES, Decimal("0.29")),
        ("b1/share", "acme", ASSET_SALES, "customer:acme:revenue_share", Decimal("3.10")),
        ("b1/operator", "acme", ASSET_SALES, OPERATOR_REVENUE, Decimal("7.24")),
        ("b1/credited", "acme", "customer:acme:revenue_share", "customer:acme:receivable",
         Decimal("3.10")),
        ("b2/sold/grid", "grid-op", "customer:grid-op:receivable", ASSET_SALES, Decimal("2.00")),
        ("b2/share", "acme", ASSET_SALES, "customer:acme:revenue_share", Decimal("0.60")),
        ("b2/operator", "acme", ASSET_SALES, OPERATOR_REVENUE, Decimal("1.40")),
        ("b2/credited", "acme", "customer:acme:revenue_share", "customer:acme:receivable",
         Decimal("0.60")),
    ]  # fmt: skip
    assert all(entry.at == MARCH.end and entry.document == settlement().id for entry in entries)
    totals = balances(entries)
    assert sum(totals.values()) == 0
    assert totals[ASSET_SALES] == 0  # the clearing account is emptied by the split
    assert totals[OPERATOR_REVENUE] == Decimal("8.64")
    assert totals["customer:acme:receivable"] == Decimal("3.70")  # the credit lines
    sold = -totals["customer:grid-op:receivable"] - totals[MARKET_RECEIPTS]
    assert sold == Decimal("12.34") == totals[OPERATOR_REVENUE] + Decimal("3.70")


def test_a_buyer_registration_names_each_problem() -> None:
    with pytest.raises(InvalidInput) as error:
        AssetBuyer.create(device_id="b1", code=" ", customer_id="", added_at=datetime(2026, 1, 1))
    assert problems_of(error.value) == [
        "buyer: must name the buyer as the sale events do",
        "customer: must be a customer's id",
        "at: must include a UTC offset (naive times are ambiguous)",
    ]


@given(
    revenue=st.decimals("0", "1000000", places=2),
    share=st.decimals("0", "100", places=3),
    code=st.sampled_from(["EUR", "JPY", "BHD"]),
)
def test_the_split_loses_and_makes_up_nothing(revenue: Decimal, share: Decimal, code: str) -> None:
    money = currency(code)
    revenue = revenue.quantize(money.quantum, rounding=ROUND_DOWN)
    credit, operator = split(revenue, share, money)
    assert credit + operator == revenue
    assert Decimal(0) <= credit <= revenue and credit == credit.quantize(money.quantum)
    assert abs(credit - revenue * share / 100) <= money.quantum / 2  # rounded once, to the unit
