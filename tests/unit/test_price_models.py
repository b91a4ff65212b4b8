"""Every price model, by hand: exact amounts and the detail lines that explain them."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iotbill.domain.pricing import (
    PRICE_MODELS,
    Detail,
    Dynamic,
    Flat,
    Graduated,
    GraduatedPercentage,
    Package,
    Percentage,
    PerUnit,
    Tier,
    Usage,
    Volume,
)
from iotbill.domain.quantities import decimal_text, scaled_array, to_scaled


def D(text: str) -> Decimal:
    return Decimal(text)


def usage(quantity: str) -> Usage:
    return Usage(D(quantity))


def per_event(*values: str, amounts: tuple[str, ...] = ()) -> Usage:
    """Usage whose in-period events carry ``values`` (and ``amounts``), in order."""
    total = sum((D(v) for v in values), Decimal(0))
    return Usage(
        total,
        scaled_array([to_scaled(D(v)) for v in values]),
        scaled_array([to_scaled(D(a)) for a in amounts]),
    )


def test_every_model_of_the_issue_is_registered() -> None:
    assert sorted(PRICE_MODELS) == sorted(
        [
            "flat",
            "per_unit",
            "graduated",
            "volume",
            "package",
            "percentage",
            "graduated_percentage",
            "dynamic",
        ]
    )


# flat


def test_flat_is_the_same_whatever_the_usage() -> None:
    for quantity in ("0", "1", "1000000.5"):
        rating = Flat(D("9.90")).price(usage(quantity))
        assert (rating.amount, rating.unit_price) == (D("9.90"), D("9.90"))
        assert rating.detail == (Detail("flat", D("9.90")),)


# per_unit


@pytest.mark.parametrize(
    ("unit_price", "quantity", "amount"),
    [
        ("0.25", "0", "0"),
        ("0.25", "12.5", "3.125"),
        ("0.0125", "220.1", "2.75125"),
        ("0.0125", "0.000000001", "0.0000000000125"),
    ],
)
def test_per_unit_is_exact(unit_price: str, quantity: str, amount: str) -> None:
    rating = PerUnit(D(unit_price)).price(usage(quantity))
    assert rating.amount == D(amount)
    assert rating.unit_price == D(unit_price)
    assert rating.detail == (
        Detail("units", D(amount), units=D(quantity), unit_price=D(unit_price)),
    )


# graduated

LADDER = (
    Tier(D("100"), D("0.50"), D("2.00")),
    Tier(D("250"), D("0.30"), D("5.00")),
    Tier(None, D("0.10")),
)


def tier_units(rating_detail: tuple[Detail, ...]) -> list[tuple[int | None, str]]:
    return [(d.tier, decimal_text(d.units or Decimal(0))) for d in rating_detail]


@pytest.mark.parametrize(
    ("quantity", "amount", "units"),
    [
        # zero usage: only the first tier's flat fee
        ("0", "2.00", [(1, "0")]),
        ("12.345", "8.1725", [(1, "12.345")]),  # 12.345 x 0.50 + 2.00
        # exactly at up_to: tier 2 is not entered
        ("100", "52.00", [(1, "100")]),
        # one nano-unit above: tier 2 entered, its flat fee with it
        ("100.000000001", "57.0000000003", [(1, "100"), (2, "0.000000001")]),
        ("250", "102.00", [(1, "100"), (2, "150")]),  # 52 + 150 x 0.30 + 5
        ("250.000000001", "102.0000000001", [(1, "100"), (2, "150"), (3, "0.000000001")]),
        ("300.5", "107.05", [(1, "100"), (2, "150"), (3, "50.5")]),  # 102 + 50.5 x 0.10
        # a negative quantity (net metering) falls in the first tier
        ("-3", "0.50", [(1, "-3")]),
    ],
)
def test_graduated_by_hand(quantity: str, amount: str, units: list[tuple[int, str]]) -> None:
    rating = Graduated(LADDER).price(usage(quantity))
    assert rating.amount == D(amount)
    assert rating.unit_price is None
    assert tier_units(rating.detail) == units
    assert sum((d.amount for d in rating.detail), Decimal(0)) == rating.amount


def test_graduated_detail_explains_each_tier() -> None:
    rating = Graduated(LADDER).price(usage("260"))
    assert [d.as_json() for d in rating.detail] == [
        {"kind": "tier", "tier": 1, "from": "0", "up_to": "100", "units": "100",
         "unit_price": "0.50", "flat_fee": "2.00", "amount": "52.00"},
        {"kind": "tier", "tier": 2, "from": "100", "up_to": "250", "units": "150",
         "unit_price": "0.30", "flat_fee": "5.00", "amount": "50.00"},
        {"kind": "tier", "tier": 3, "from": "250", "up_to": None, "units": "10",
         "unit_price": "0.10", "flat_fee": "0", "amount": "1.00"},
    ]  # fmt: skip


def test_graduated_documented_example() -> None:
    tiers = (Tier(D("100"), D("0.50")), Tier(None, D("0.30"), D("5.00")))
    assert Graduated(tiers).price(usage("150")).amount == D("70.00")
    assert Graduated(tiers).price(usage("100")).amount == D("50.00")


# volume

VOLUME = (
    Tier(D("100"), D("0.50"), D("1")),
    Tier(D("1000"), D("0.40"), D("10")),
    Tier(None, D("0.30")),
)


@pytest.mark.parametrize(
    ("quantity", "tier", "amount"),
    [
        ("0", 1, "1"),  # zero usage falls in the first tier, with its flat fee
        ("0.5", 1, "1.25"),
        ("100", 1, "51"),  # exactly at up_to: still tier 1
        ("100.000000001", 2, "50.0000000004"),  # 100.000000001 x 0.40 + 10
        ("1000", 2, "410"),
        ("1000.000000001", 3, "300.0000000003"),
        ("1500", 3, "450"),
    ],
)
def test_volume_by_hand(quantity: str, tier: int, amount: str) -> None:
    rating = Volume(VOLUME).price(usage(quantity))
    assert rating.amount == D(amount)
    assert rating.unit_price is None
    (detail,) = rating.detail
    assert (detail.tier, detail.units, detail.amount) == (tier, D(quantity), D(amount))


def test_volume_documented_example() -> None:
    tiers = (Tier(D("1000"), D("0.10")), Tier(None, D("0.08")))
    assert Volume(tiers).price(usage("1500")).amount == D("120.00")


# package


@pytest.mark.parametrize(
    ("quantity", "packages", "amount"),
    [
        ("0", "0", "0"),
        ("50", "0", "0"),  # all free
        ("50.000000001", "1", "5"),  # one nano-unit past the free units starts a package
        ("150", "1", "5"),
        ("150.000000001", "2", "10"),
        ("350", "3", "15"),
    ],
)
def test_package_counts_started_blocks_after_free_units(
    quantity: str, packages: str, amount: str
) -> None:
    rating = Package(D("100"), D("5"), D("50")).price(usage(quantity))
    assert (rating.amount, rating.unit_price) == (D(amount), D("5"))
    free, blocks = rating.detail
    assert (free.kind, free.amount, free.units) == ("free_units", 0, min(D(quantity), D(50)))
    assert (blocks.kind, blocks.units, blocks.amount) == ("packages", D(packages), D(amount))


def test_package_documented_examples() -> None:
    assert Package(D("100"), D("3.00"), D("50")).price(usage("150.5")).amount == D("6.00")
    rating = Package(D("100"), D("5")).price(usage("250"))
    assert rating.amount == D(15)
    assert [d.kind for d in rating.detail] == ["packages"]  # no free units, no free line


def test_package_of_a_fractional_size() -> None:
    assert Package(D("0.5"), D("0.20")).price(usage("1.2")).amount == D("0.60")  # 3 blocks


@pytest.mark.parametrize(
    ("quantity", "packages"),
    [
        ("0", "0"),
        ("149.999999999", "0"),  # 99.999999999 billable: not a whole package
        ("150", "1"),
        ("250.5", "2"),  # the documented example: 200.5 billable, 2 whole packages
        ("999999999999.999999999", "9999999999"),
    ],
)
def test_package_rounded_down_counts_whole_blocks_only(quantity: str, packages: str) -> None:
    rating = Package(D("100"), D("3.00"), D("50"), "down").price(usage(quantity))
    blocks = rating.detail[-1]
    assert (blocks.units, rating.amount) == (D(packages), D(packages) * D("3.00"))
    assert blocks.note == f"{packages} whole package(s) of 100 units"


def test_plans_show_says_how_a_package_is_counted() -> None:
    from iotbill.entrypoints.cli.plans import price_lines

    assert price_lines(Package(D(100), D("3.00"), D(50))) == [
        "3.00 per started package of 100, first 50 free"
    ]
    assert price_lines(Package(D(100), D("3.00"), round="down")) == [
        "3.00 per whole package of 100"
    ]


def test_package_blocks_are_counted_exactly_however_many() -> None:
    """A nano-unit over a whole number of the smallest packages starts one more."""
    rating = Package(D("0.000000003"), D("1")).price(usage("999999999999.999999997"))
    assert rating.amount == D("333333333333333333333")  # 999...997 / 3 = 333...332.33: 1 more
    rating = Package(D("0.000000003"), D("1"), round="down").price(usage("999999999999.999999997"))
    assert rating.amount == D("333333333333333333332")


# percentage


def test_percentage_with_free_events_and_a_fee_per_event() -> None:
    model = Percentage(rate=D("12.5"), fixed_fee=D("0.05"), free_events=2)
    rating = model.price(per_event("10", "20", "100", "40"))
    # The first two events are exempt; 12.5 % of (100 + 40) = 17.5, plus 2 x 0.05 = 17.60.
    assert rating.amount == D("17.60")
    assert rating.unit_price is None
    assert [d.as_json() for d in rating.detail] == [
        {"kind": "free_events", "units": "2", "amount": "0", "note": "exempt events"},
        {"kind": "percentage", "units": "140", "rate": "12.5", "amount": "17.5"},
        {"kind": "event_fees", "units": "2", "unit_price": "0.05", "amount": "0.10"},
    ]


def test_percentage_of_fractional_amounts() -> None:
    rating = Percentage(rate=D("2.9")).price(per_event("33.33"))
    assert rating.amount == D("0.96657")
    assert [d.kind for d in rating.detail] == ["percentage"]


def test_percentage_with_no_events_or_all_exempt_is_zero() -> None:
    model = Percentage(rate=D("10"), fixed_fee=D("0.30"), free_events=5)
    assert model.price(per_event()).amount == D(0)
    assert model.price(per_event("10", "20")).amount == D(0)


def charged(model: Percentage, *values: str) -> tuple[Decimal, list[tuple[str, str, str]]]:
    """The amount, and each detail's kind, units and amount."""
    rating = model.price(per_event(*values))
    return rating.amount, [
        (d.kind, decimal_text(d.units or D(0)), decimal_text(d.amount)) for d in rating.detail
    ]


def test_percentage_free_events_or_free_amount_whichever_runs_out_first() -> None:
    """The documented example: the first 3 events or 500 are free; the 4th pays in full."""
    model = Percentage(D("1.2"), D("0.10"), free_events=3, free_amount=D(500))
    assert charged(model, "200", "100", "100", "50") == (
        D("0.70"),  # 1.2 % of 50 + 0.10
        [
            ("free_events", "3", "0"),
            ("free_amount", "400", "0"),  # the 100 left of the allowance is not carried
            ("percentage", "50", "0.6"),
            ("event_fees", "1", "0.10"),
        ],
    )


def test_percentage_the_event_that_uses_up_the_free_amount_pays_beyond_it() -> None:
    """250 free: 200 is free; the next 100 brings 300, so 50 of it is charged, with its fee;
    the rest in full. Setting free_events too changes nothing: the amount runs out first."""
    for free_events in (0, 3):
        model = Percentage(D("1.2"), D("0.10"), free_events=free_events, free_amount=D(250))
        assert charged(model, "200", "100", "100", "50") == (
            D("2.70"),  # 1.2 % of (50 + 100 + 50) = 2.40, and 3 fees
            [
                ("free_events", "1", "0"),
                ("free_amount", "250", "0"),
                ("percentage", "200", "2.4"),
                ("event_fees", "3", "0.30"),
            ],
        )


def test_percentage_an_event_that_reaches_the_free_amount_exactly_is_paid() -> None:
    """It ends the allowance: nothing of it is charged at the rate, but it pays its fee."""
    model = Percentage(D("1.2"), D("0.10"), free_amount=D(300))
    assert charged(model, "200", "100", "50")[0] == D("0.80")  # 1.2 % of 50, and 2 fees


def test_percentage_free_amount_never_used_up_leaves_everything_free() -> None:
    model = Percentage(D("1.2"), D("0.10"), free_amount=D(1000))
    assert charged(model, "200", "100") == (
        D(0),
        [
            ("free_events", "2", "0"),
            ("free_amount", "300", "0"),
            ("percentage", "0", "0.0"),
            ("event_fees", "0", "0.00"),
        ],
    )


def test_percentage_free_amount_may_be_as_large_as_a_plan_number() -> None:
    """Beyond the largest event value (about 9.2 billion), as a total of many events is."""
    model = Percentage(D("1"), free_amount=D("999999999999.999999999"))
    assert charged(model, "9000000000", "9000000000")[0] == D(0)


def test_percentage_limits_per_event() -> None:
    """2.9 % + 0.30, at least 0.50 and at most 5 an event: 5 pays 0.445, raised by 0.055;
    100 pays 3.20; 1,000 pays 29.30, cut by 24.30. In all 0.50 + 3.20 + 5 = 8.70."""
    model = Percentage(D("2.9"), D("0.30"), min_per_event=D("0.50"), max_per_event=D(5))
    assert charged(model, "5", "100", "1000") == (
        D("8.700"),
        [
            ("percentage", "1105", "32.045"),
            ("event_fees", "3", "0.90"),
            ("per_event_minimum", "1", "0.055"),
            ("per_event_maximum", "1", "-24.30"),
        ],
    )


def test_percentage_limits_apply_to_what_the_free_amount_left_charged() -> None:
    """100 free: 90 is free; 20 reaches 110, so 10 is charged: 0.29 + 0.30 = 0.59, above
    the minimum; 5 pays 0.445, raised to 0.50. In all 0.59 + 0.50 = 1.09."""
    model = Percentage(D("2.9"), D("0.30"), free_amount=D(100), min_per_event=D("0.50"))
    assert charged(model, "90", "20", "5")[0] == D("1.09")


@pytest.mark.parametrize(
    ("value", "amount", "limited"),
    [
        ("10", "1", None),  # exactly the minimum: not raised
        ("9.999999999", "1", "per_event_minimum"),  # 0.9999999999, raised by 0.0000000001
        ("50", "5", None),  # exactly the maximum: not cut
        ("50.000000001", "5", "per_event_maximum"),  # 5.0000000001, cut by 0.0000000001
        ("-20", "1", "per_event_minimum"),  # a refund pays the minimum too
    ],
)
def test_percentage_limits_are_exact_at_their_bounds(
    value: str, amount: str, limited: str | None
) -> None:
    model = Percentage(D("10"), min_per_event=D(1), max_per_event=D(5))
    rating = model.price(per_event(value))
    assert rating.amount == D(amount)
    assert [d.kind for d in rating.detail][1:] == ([limited] if limited else [])


def test_percentage_limits_of_a_fee_alone() -> None:
    """At a rate of 0 each paid event pays its fee: raised to the minimum, or cut."""
    assert charged(Percentage(D(0), D("0.10"), min_per_event=D("0.25")), "1", "2")[0] == D("0.50")
    assert charged(Percentage(D(0), D("0.10"), max_per_event=D("0.05")), "1", "2")[0] == D("0.10")


def test_plans_show_says_the_allowance_and_the_limits() -> None:
    from iotbill.entrypoints.cli.plans import price_lines

    model = Percentage(D("1.2"), D("0.10"), 3, D(500), D("0.75"), D(5))
    assert price_lines(model) == [
        "1.2 % of the amount + 0.10 per event, first 3 events or 500 of the amount free,"
        " at least 0.75 and at most 5 per event"
    ]
    assert price_lines(Percentage(D("12.5"), free_amount=D(100))) == [
        "12.5 % of the amount, first 100 of the amount free"
    ]


def reference_percentage(model: Percentage, values: list[Decimal]) -> Decimal:
    """The documented rule, one event at a time."""
    total, running = Decimal(0), Decimal(0)
    allowance = bool(model.free_events or model.free_amount)
    for index, value in enumerate(values):
        charged_value = value
        if allowance:
            if model.free_events and index >= model.free_events:
                allowance = False
            elif not model.free_amount:
                continue
            elif running + value < model.free_amount:
                running += value
                continue
            else:
                charged_value = running + value - model.free_amount
                allowance = False
        fee = charged_value * model.rate / 100 + model.fixed_fee
        if model.min_per_event is not None and fee < model.min_per_event:
            fee = model.min_per_event
        if model.max_per_event is not None and fee > model.max_per_event:
            fee = model.max_per_event
        total += fee
    return total


amounts = st.decimals(min_value=-1000, max_value=100_000, places=3)


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(amounts | st.sampled_from([D(0), D(10), D(50), D(100)]), max_size=12),
    rate=st.sampled_from([D(0), D("2.9"), D(10), D("12.5"), D(100), D("0.000000001")]),
    fee=st.sampled_from([D(0), D("0.30"), D("0.05")]),
    free_events=st.integers(0, 4),
    free_amount=st.sampled_from([D(0), D(50), D(100), D("150.5")]),
    lowest=st.sampled_from([None, D(0), D("0.50"), D(1)]),
    highest=st.sampled_from([None, D(1), D(5), D(10_000)]),
)
def test_percentage_equals_the_rule_applied_event_by_event(
    values: list[Decimal],
    rate: Decimal,
    fee: Decimal,
    free_events: int,
    free_amount: Decimal,
    lowest: Decimal | None,
    highest: Decimal | None,
) -> None:
    if lowest is not None and highest is not None and lowest > highest:
        lowest, highest = highest, lowest
    model = Percentage(rate, fee, free_events, free_amount, lowest, highest)
    rating = model.price(per_event(*map(str, values)))
    assert rating.amount == reference_percentage(model, values)
    assert rating.amount == sum((d.amount for d in rating.detail), D(0))


# graduated_percentage


RATES = GraduatedPercentage(
    (
        Tier(D(1000), D(1), D(200)),
        Tier(D(10_000), D(2), D(300)),
        Tier(None, D(3), D(400)),
    )
)


@pytest.mark.parametrize(
    ("total", "amount", "parts"),
    [
        ("500", "205", [("1", "500", "205")]),  # 1 % of 500 + 200
        ("1000", "210", [("1", "1000", "210")]),  # the bound is in tier 1: tier 2 not entered
        ("1050", "511", [("1", "1000", "210"), ("2", "50", "301")]),
        ("5050", "591", [("1", "1000", "210"), ("2", "4050", "381")]),
        (
            "20000",
            "1390",  # 210 + (2 % of 9,000 + 300) + (3 % of 10,000 + 400)
            [("1", "1000", "210"), ("2", "9000", "480"), ("3", "10000", "700")],
        ),
        ("0", "0", []),  # nothing: no flat fee either
        ("-50", "-0.5", [("1", "-50", "-0.5")]),  # refunds beyond sales: a credit, no fee
    ],
)
def test_graduated_percentage_by_hand(
    total: str, amount: str, parts: list[tuple[str, str, str]]
) -> None:
    """The documented ladder: 1 % to 1,000 + 200; 2 % to 10,000 + 300; 3 % above + 400.
    Period totals of 500, then 1,050, then 5,050 cost 205, 511 and 591: each step adds
    what one more transaction of 500, 550 and 4,000 costs (205, 306, 80)."""
    rating = RATES.price(usage(total))
    assert rating.amount == D(amount)
    assert rating.unit_price is None
    assert [
        (str(d.tier), decimal_text(d.units or D(0)), decimal_text(d.amount)) for d in rating.detail
    ] == parts
    assert rating.amount == sum((d.amount for d in rating.detail), D(0))


def test_graduated_percentage_detail_names_each_tier_and_its_rate() -> None:
    [_, second] = RATES.price(usage("1050")).detail
    assert second.as_json() == {
        "kind": "tier",
        "tier": 2,
        "from": "1000",
        "up_to": "10000",
        "units": "50",
        "flat_fee": "300",
        "rate": "2",
        "amount": "301",
    }


def test_plans_show_says_each_tier_of_a_graduated_percentage() -> None:
    from iotbill.entrypoints.cli.plans import price_lines

    assert price_lines(RATES) == [
        "graduated_percentage:",
        "0 to 1000: 1 % + 200",
        "1000 to 10000: 2 % + 300",
        "above 10000: 3 % + 400",
    ]


# dynamic


def test_dynamic_sums_each_events_own_amount() -> None:
    amounts = scaled_array([to_scaled(D(a)) for a in ("0.1234", "1.5", "0.000000001")])
    rating = Dynamic("cost").price(Usage(D("3"), scaled_array([]), amounts))
    assert rating.amount == D("1.623400001")
    assert rating.unit_price is None
    assert rating.detail == (
        Detail("event_amounts", D("1.623400001"), units=D(3), note="sum of cost"),
    )


def test_dynamic_without_events_is_zero() -> None:
    rating = Dynamic("cost").price(Usage(D(0), np.empty(0, np.int64), np.empty(0, np.int64)))
    assert rating.amount == D(0)
