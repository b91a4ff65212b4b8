"""Amounts, numbers, rates and dates spelled in a customer's locale, through Babel.

Rounding is the domain's, done once (:func:`~iotbill.domain.money.round_money`);
Babel only spells. Babel's own currency formatting rounds silently to the
digits that CLDR gives a currency (which are not always ISO 4217's: CLDR gives
the Iraqi dinar 0 decimals, ISO 4217 3), so every pattern here is applied with
its fraction digits set to the currency's ISO 4217 minor unit and Babel's
quantization switched off:

* :meth:`Spelling.money` spells an amount that is already rounded, with exactly
  the minor unit's digits (JPY none, USD two, KWD three), and refuses one that
  is not rounded instead of rounding it.
* :meth:`Spelling.exact_money` spells an exact amount (a unit price, a step of
  a charge's arithmetic) with at least the minor unit's digits and every digit
  it has: ``$0.0045`` stays ``$0.0045``.
* :meth:`Spelling.number` spells a quantity with every digit it has.

>>> from iotbill.domain.money import currency
>>> spell = Spelling("de_DE", currency("EUR"))
>>> spell.money(Decimal("1234.50")), spell.exact_money(Decimal("0.0045"))
('1.234,50\\xa0€', '0,0045\\xa0€')
>>> Spelling("ja_JP", currency("JPY")).money(Decimal("12518"))
'￥12,518'
>>> Spelling("en_US", currency("KWD")).money(Decimal("1234.568"))
'KWD1,234.568'
"""

from __future__ import annotations

import copy
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import NumberPattern, format_decimal

from iotbill.domain.money import Currency, round_money


class Spelling:
    """How one locale writes one currency's amounts, and numbers and dates."""

    def __init__(self, locale: str, currency: Currency) -> None:
        self.locale = Locale.parse(locale)
        self.currency = currency
        self._money = _with_fraction_digits(
            self.locale.currency_formats["standard"], currency.minor_units
        )

    def money(self, amount: Decimal) -> str:
        """A rounded amount with exactly the currency's minor-unit digits.

        :class:`ValueError` if ``amount`` is not at the minor unit: rounding is
        the domain's rule, done before, never Babel's.
        """
        rounded = round_money(amount, self.currency)
        if rounded != amount:
            raise ValueError(f"{amount} is not rounded to the minor unit of {self.currency}")
        return _spelled(
            self._money.apply(
                rounded,
                self.locale,
                currency=self.currency.code,
                currency_digits=False,
                decimal_quantization=False,
            )
        )

    def exact_money(self, amount: Decimal) -> str:
        """An exact amount, every digit kept, at least the minor unit's."""
        return _spelled(
            self._money.apply(
                amount,
                self.locale,
                currency=self.currency.code,
                currency_digits=False,
                decimal_quantization=False,
            )
        )

    def number(self, value: Decimal) -> str:
        """A quantity with every digit it has: ``1.573,8176`` in ``de_DE``."""
        return format_decimal(value, locale=self.locale, decimal_quantization=False)

    def percent(self, rate: Decimal) -> str:
        """A percentage given in percent (``Decimal("8.25")``), exact: ``8.25%``."""
        pattern = _with_fraction_digits(self.locale.percent_formats[None], 0)
        return _spelled(pattern.apply(rate.scaleb(-2), self.locale, decimal_quantization=False))

    def date(self, day: date) -> str:
        """A date as the locale writes it in full: ``Jan 31, 2026``, ``31.01.2026``."""
        return format_date(day, format="medium", locale=self.locale)

    def instant(self, instant: datetime, zone: ZoneInfo) -> str:
        """An instant in ``zone``: its date, and its time unless it is midnight there."""
        local = instant.astimezone(zone)
        if local.hour == local.minute == local.second == local.microsecond == 0:
            return self.date(local.date())
        return format_datetime(local, format="medium", locale=self.locale)


def _spelled(text: object) -> str:
    assert isinstance(text, str)
    return text


def _with_fraction_digits(pattern: NumberPattern, digits: int) -> NumberPattern:
    fixed = copy.copy(pattern)
    fixed.frac_prec = (digits, digits)
    return fixed
