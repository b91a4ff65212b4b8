"""Money: minor units, the one rounding rule (half-up), invoice lines rounded once."""

from __future__ import annotations

from decimal import Decimal

import pytest

from iotbill.domain.errors import InvalidInput
from iotbill.domain.invoicing import InvoiceLine, subtotal
from iotbill.domain.money import (
    currency,
    format_money,
    parse_decimal,
    round_money,
    to_minor_units,
)

USD, JPY, KWD = currency("USD"), currency("JPY"), currency("KWD")


def test_minor_units_follow_iso_4217() -> None:
    assert (USD.minor_units, JPY.minor_units, KWD.minor_units) == (2, 0, 3)
    assert (str(USD.quantum), str(JPY.quantum), str(KWD.quantum)) == ("0.01", "1", "0.001")


def test_unknown_currency_is_refused_with_its_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        currency("XYZ")
    assert str(caught.value) == "currency: unknown ISO 4217 currency code 'XYZ'"


@pytest.mark.parametrize(
    ("code", "exact", "rounded"),
    [
        ("USD", "0.125", "0.13"),  # half goes up, not to the even 0.12
        ("USD", "0.135", "0.14"),
        ("USD", "-0.125", "-0.13"),  # half goes away from zero
        ("USD", "0.124999", "0.12"),
        ("USD", "7", "7.00"),
        ("JPY", "1234.5", "1235"),
        ("JPY", "1233.5", "1234"),  # half-even would keep 1234 here too; see the next case
        ("JPY", "1234.4999", "1234"),
        ("JPY", "0.5", "1"),  # half-even would give 0
        ("KWD", "2.7515", "2.752"),
        ("KWD", "2.7525", "2.753"),  # half-even would give 2.752
        ("KWD", "2.75125", "2.751"),
        ("KWD", "-0.0005", "-0.001"),
    ],
)
def test_round_money_is_half_up_at_the_minor_unit(code: str, exact: str, rounded: str) -> None:
    result = round_money(Decimal(exact), currency(code))
    assert str(result) == rounded


def test_format_and_minor_units_of_rounded_amounts() -> None:
    assert format_money(Decimal("163"), USD) == "163.00"
    assert format_money(Decimal("1234.5"), JPY) == "1235"
    assert format_money(Decimal("2.75125"), KWD) == "2.751"
    assert to_minor_units(Decimal("2.75125"), KWD) == 2751
    assert to_minor_units(Decimal("0.125"), USD) == 13
    assert to_minor_units(Decimal("99.5"), JPY) == 100


def line(exact: str, in_currency: str = "USD") -> InvoiceLine:
    return InvoiceLine.rounded(
        currency(in_currency),
        charge="c",
        kind="usage",
        description="c",
        quantity=Decimal(1),
        unit_price=None,
        exact_amount=Decimal(exact),
    )


def test_an_invoice_line_keeps_the_exact_amount_and_rounds_once() -> None:
    kwd = line("2.75125", "KWD")
    assert (kwd.exact_amount, kwd.amount) == (Decimal("2.75125"), Decimal("2.751"))
    assert kwd.as_json(KWD)["amount"] == "2.751"
    jpy = line("1499.5", "JPY")
    assert jpy.as_json(JPY)["amount"] == "1500"


def test_the_total_is_the_sum_of_rounded_lines_not_the_rounded_sum() -> None:
    lines = [line("0.005"), line("0.005"), line("0.005")]
    # Each line rounds 0.005 up to 0.01; rounding the exact sum 0.015 would give 0.02.
    assert subtotal(lines) == Decimal("0.03")
    assert subtotal([]) == Decimal(0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0.1", Decimal("0.1")), ("2.50", Decimal("2.50")), ("-3", Decimal("-3")), (7, Decimal(7))],
)
def test_parse_decimal_takes_strings_and_integers_exactly(value: object, expected: Decimal) -> None:
    parsed = parse_decimal(value, "x")
    assert parsed == expected
    assert str(parsed) == str(expected)


PLAIN = "is not a plain decimal number (like -12.50)"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0.1, "x: a binary float cannot be taken exactly; write the number as a string"),
        (True, "x: must be a number, not a boolean"),
        ("ten", f"x: 'ten' {PLAIN}"),
        (" 2.50 ", f"x: ' 2.50 ' {PLAIN}"),
        ("1e3", f"x: '1e3' {PLAIN}"),
        ("+7", f"x: '+7' {PLAIN}"),
        ("1_000", f"x: '1_000' {PLAIN}"),
        ("\u0663", f"x: '\u0663' {PLAIN}"),
        ("NaN", f"x: 'NaN' {PLAIN}"),
        ("Infinity", f"x: 'Infinity' {PLAIN}"),
        ([1], "x: must be a decimal number, got list"),
    ],
)
def test_parse_decimal_refuses_what_it_cannot_take_exactly(value: object, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_decimal(value, "x")
    assert str(caught.value) == message
