"""Money: exact decimal amounts in a currency, and the one rounding rule.

Amounts are :class:`decimal.Decimal`, never floats. Detail amounts stay exact;
each invoice line is rounded once, by :func:`round_money`, to the currency's
minor unit using **ROUND_HALF_UP** (halves go away from zero: 0.125 USD becomes
0.13, -0.125 becomes -0.13), the commercial rule finance teams expect. An
invoice total is the exact sum of its rounded lines.

>>> round_money(Decimal("0.125"), currency("USD"))
Decimal('0.13')
>>> round_money(Decimal("1234.5"), currency("JPY"))
Decimal('1235')
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from iotbill.domain.errors import InvalidInput
from iotbill.domain.input_rules import parse_decimal_text

ROUNDING = ROUND_HALF_UP

# ISO 4217 minor units for the currencies whose minor unit is not 2.
_MINOR_UNITS_NOT_TWO: dict[str, int] = {
    "BIF": 0,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "ISK": 0,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "PYG": 0,
    "RWF": 0,
    "UGX": 0,
    "UYI": 0,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
    "BHD": 3,
    "IQD": 3,
    "JOD": 3,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "TND": 3,
    "CLF": 4,
    "UYW": 4,
}
# ISO 4217 codes with two decimals that iotbill accepts.
_MINOR_UNITS_TWO = frozenset(
    (
        "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD",
        "BDT", "BGN", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD",
        "CDF", "CHF", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DKK", "DOP", "DZD", "EGP",
        "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GTQ", "GYD",
        "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IRR", "JMD", "KES", "KGS", "KHR",
        "KPW", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "MAD", "MDL", "MGA", "MKD",
        "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MYR", "MZN", "NAD", "NGN",
        "NIO", "NOK", "NPR", "NZD", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "QAR", "RON",
        "RSD", "RUB", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD",
        "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TOP", "TRY", "TTD", "TWD",
        "TZS", "UAH", "USD", "UYU", "UZS", "VES", "WST", "XCD", "YER", "ZAR", "ZMW", "ZWL",
    )
)  # fmt: skip


_QUANTA = tuple(Decimal(1).scaleb(-digits) for digits in range(5))
"""The quanta of the minor units ISO 4217 has (0 to 4 digits), made once: every line
and total is rounded to one."""


@dataclass(frozen=True, slots=True)
class Currency:
    """An ISO 4217 currency and the number of digits of its minor unit."""

    code: str
    minor_units: int

    @property
    def quantum(self) -> Decimal:
        """The smallest amount: ``Decimal('0.01')`` for USD, ``Decimal('1')`` for JPY."""
        if 0 <= self.minor_units < len(_QUANTA):
            return _QUANTA[self.minor_units]
        return Decimal(1).scaleb(-self.minor_units)

    def __str__(self) -> str:
        return self.code


def currency(code: str) -> Currency:
    """The currency with ISO 4217 ``code``; :class:`InvalidInput` if iotbill does not know it."""
    if code in _MINOR_UNITS_NOT_TWO:
        return Currency(code, _MINOR_UNITS_NOT_TWO[code])
    if code in _MINOR_UNITS_TWO:
        return Currency(code, 2)
    raise InvalidInput.at("currency", f"unknown ISO 4217 currency code {code!r}")


def round_money(amount: Decimal, in_currency: Currency) -> Decimal:
    """Round ``amount`` to the minor unit of ``in_currency``: the one rounding rule."""
    return amount.quantize(in_currency.quantum, rounding=ROUNDING)


def format_money(amount: Decimal, in_currency: Currency) -> str:
    """A rounded amount as a plain decimal string at the minor unit: ``"163.00"``.

    Zero is written without a sign, whatever arithmetic made it (``-0.00`` is ``"0.00"``):

    >>> format_money(Decimal("-0.001"), currency("USD"))
    '0.00'
    """
    rounded = round_money(amount, in_currency)
    return str(abs(rounded) if rounded.is_zero() else rounded)


def to_minor_units(amount: Decimal, in_currency: Currency) -> int:
    """A rounded amount as an integer count of minor units (for storage)."""
    if not amount:
        return 0
    rounded = round_money(amount, in_currency)
    return int(rounded.scaleb(in_currency.minor_units))


def from_minor_units(count: int, in_currency: Currency) -> Decimal:
    """An integer count of minor units (as stored) as an amount: ``1230`` is ``12.30`` USD."""
    return Decimal(count).scaleb(-in_currency.minor_units)


def parse_decimal(value: object, location: str) -> Decimal:
    """An exact decimal from a plan or request value; a float is refused, not guessed at.

    Integers and ``Decimal`` are taken exactly as written, strings by the one grammar
    of :data:`~iotbill.domain.input_rules.DECIMAL_TEXT` (``"2.5"``, not ``" 2.5 "`` or
    ``"1e3"``).
    """
    if isinstance(value, bool):
        raise InvalidInput.at(location, "must be a number, not a boolean")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = parse_decimal_text(value)
        except ValueError as error:
            raise InvalidInput.at(location, str(error)) from None
    elif isinstance(value, float):
        raise InvalidInput.at(
            location, "a binary float cannot be taken exactly; write the number as a string"
        )
    else:
        raise InvalidInput.at(location, f"must be a decimal number, got {type(value).__name__}")
    if not result.is_finite():
        raise InvalidInput.at(location, "must be a finite number")
    return result
