"""Exact quantities: nano-unit integers, refused rather than rounded, sums that cannot overflow."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from iotbill.domain.quantities import (
    INT64_MAX,
    MAX_QUANTITY,
    QuantityError,
    decimal_text,
    exact_sum,
    from_scaled,
    scaled_array,
    to_scaled,
)


@pytest.mark.parametrize(
    ("value", "scaled"),
    [
        (3, 3_000_000_000),
        (-3, -3_000_000_000),
        (Decimal("0.1"), 100_000_000),
        (Decimal("0.000000001"), 1),
        ("12.5", 12_500_000_000),
        (Decimal("1.500000000000"), 1_500_000_000),  # trailing zeros are not extra digits
        (MAX_QUANTITY, INT64_MAX),
        (-MAX_QUANTITY, -INT64_MAX),
        (Decimal("1E+3"), 1_000_000_000_000),
    ],
)
def test_to_scaled_is_exact(value: object, scaled: int) -> None:
    assert to_scaled(value) == scaled


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (Decimal("0.0000000001"), "0.0000000001 has more than 9 fractional digits"),
        ("1.1234567891", "1.1234567891 has more than 9 fractional digits"),
        (
            Decimal("9223372036.854775808"),
            "9223372036.854775808 is beyond the largest supported magnitude 9223372036.854775807",
        ),
        (
            Decimal("-9223372036.854775808"),
            "-9223372036.854775808 is beyond the largest supported magnitude 9223372036.854775807",
        ),
        (
            9223372037,
            "9223372037 is beyond the largest supported magnitude 9223372036.854775807",
        ),
        (True, "must be a number, not a boolean"),
        (
            "many",
            "'many' is not a plain decimal number (like -12.50)",
        ),
        (Decimal("NaN"), "must be a finite number"),
        (1.5, "must be a number, got float"),
        (None, "must be a number, got NoneType"),
    ],
)
def test_to_scaled_refuses_instead_of_rounding(value: object, message: str) -> None:
    with pytest.raises(QuantityError) as caught:
        to_scaled(value)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("scaled", "text"),
    [
        (0, "0"),
        (1, "0.000000001"),
        (-1, "-0.000000001"),
        (1_500_000_000, "1.5"),
        (100 * 10**9, "100"),
        (10_000_000_001, "10.000000001"),
        (-2_750_000_000, "-2.75"),
        (INT64_MAX, "9223372036.854775807"),
    ],
)
def test_from_scaled_gives_plain_exact_text(scaled: int, text: str) -> None:
    assert decimal_text(from_scaled(scaled)) == text
    assert to_scaled(from_scaled(scaled)) == scaled


def test_exact_sum_of_ten_tenths_is_exactly_one() -> None:
    tenths = scaled_array([to_scaled(Decimal("0.1"))] * 10)
    assert from_scaled(exact_sum(tenths)) == Decimal(1)
    assert decimal_text(from_scaled(exact_sum(tenths))) == "1"


def test_exact_sum_goes_beyond_int64_without_wrapping() -> None:
    largest = np.full(4, INT64_MAX, dtype=np.int64)
    assert exact_sum(largest) == 4 * INT64_MAX
    mixed = scaled_array([INT64_MAX, INT64_MAX, -INT64_MAX, -5])
    assert exact_sum(mixed) == INT64_MAX - 5
    assert exact_sum(scaled_array([])) == 0
