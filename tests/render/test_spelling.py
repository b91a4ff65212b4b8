"""Amounts spelled in a locale: rounded by the domain first, never by Babel."""

from __future__ import annotations

from decimal import Decimal

import pytest

from iotbill.domain.money import currency
from iotbill.entrypoints.render.spelling import Spelling


@pytest.mark.parametrize(
    ("locale", "code", "amount", "expected"),
    [
        ("en_US", "USD", "1234.50", "$1,234.50"),
        ("en_US", "USD", "-12.50", "-$12.50"),
        ("de_DE", "EUR", "1234.50", "1.234,50\xa0€"),
        ("ja_JP", "JPY", "12518", "￥12,518"),
        ("en_US", "JPY", "1235", "¥1,235"),
        ("en_US", "KWD", "1234.568", "KWD1,234.568"),
        ("de_DE", "KWD", "0.005", "0,005\xa0KWD"),
        # CLDR gives the Iraqi dinar no decimals; ISO 4217 (and iotbill) three.
        ("en_US", "IQD", "10.125", "IQD10.125"),
    ],
)
def test_a_rounded_amount_has_exactly_the_minor_unit_digits(
    locale: str, code: str, amount: str, expected: str
) -> None:
    assert Spelling(locale, currency(code)).money(Decimal(amount)) == expected


@pytest.mark.parametrize(
    ("code", "amount"), [("JPY", "1234.5"), ("KWD", "1.2345"), ("USD", "0.125")]
)
def test_an_unrounded_amount_is_refused_not_rounded_by_babel(code: str, amount: str) -> None:
    with pytest.raises(ValueError, match="is not rounded to the minor unit"):
        Spelling("en_US", currency(code)).money(Decimal(amount))


def test_a_rounded_amount_written_with_fewer_digits_gets_them_all() -> None:
    assert Spelling("en_US", currency("USD")).money(Decimal("49")) == "$49.00"
    assert Spelling("en_US", currency("KWD")).money(Decimal("0")) == "KWD0.000"


def test_exact_amounts_and_quantities_keep_every_digit() -> None:
    usd = Spelling("en_US", currency("USD"))
    assert usd.exact_money(Decimal("0.0045")) == "$0.0045"
    assert usd.exact_money(Decimal("2")) == "$2.00"
    assert usd.number(Decimal("1000000.123456789")) == "1,000,000.123456789"
    assert Spelling("de_DE", currency("EUR")).number(Decimal("1573.8176")) == "1.573,8176"
    assert Spelling("ja_JP", currency("JPY")).exact_money(Decimal("2.5")) == "￥2.5"


def test_rates_are_exact_percentages_in_the_locale() -> None:
    assert Spelling("en_US", currency("USD")).percent(Decimal("8.25")) == "8.25%"
    assert Spelling("de_DE", currency("EUR")).percent(Decimal("19")) == "19\xa0%"
