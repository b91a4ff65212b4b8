"""Instalments: the parts of a price add up to it exactly, and no part is zero."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from iotbill.domain.instalments import MAX_INSTALMENTS, instalment_parts
from iotbill.domain.money import currency


def test_the_issue_s_example_and_a_currency_without_decimals() -> None:
    usd, jpy, kwd = currency("USD"), currency("JPY"), currency("KWD")
    assert instalment_parts(Decimal("1000.00"), 3, usd) == tuple(
        Decimal(part) for part in ("333.34", "333.33", "333.33")
    )
    assert instalment_parts(Decimal("100"), 7, jpy) == tuple(
        Decimal(part) for part in ("16", "14", "14", "14", "14", "14", "14")
    )
    assert instalment_parts(Decimal("1.000"), 3, kwd) == tuple(
        Decimal(part) for part in ("0.334", "0.333", "0.333")
    )
    assert instalment_parts(Decimal("0.05"), 1, usd) == (Decimal("0.05"),)


@given(
    cents=st.integers(min_value=1, max_value=10**14),
    count=st.integers(min_value=1, max_value=MAX_INSTALMENTS),
)
def test_the_parts_add_up_and_only_the_first_carries_the_remainder(cents: int, count: int) -> None:
    usd = currency("USD")
    amount = Decimal(cents).scaleb(-2)
    parts = instalment_parts(amount, count, usd)
    assert len(parts) == count
    assert sum(parts) == amount
    assert all(part == part.quantize(usd.quantum) for part in parts)
    first, *rest = parts
    assert len(set(rest)) <= 1
    if rest:
        # the rest is amount / count rounded down; the first exceeds it by less than count cents
        assert rest[0] * count <= amount < (rest[0] + usd.quantum) * count
        assert Decimal(0) <= first - rest[0] < usd.quantum * count
