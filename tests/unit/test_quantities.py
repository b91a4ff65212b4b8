"""Exact quantities: nano-unit integers, refused rather than rounded, sums that cannot overflow."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from iotbill.domain.quantities import (
    DOT_CHUNK,
    INT64_MAX,
    MAX_QUANTITY,
    QuantityError,
    decimal_text,
    exact_dot,
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


int64s = st.integers(min_value=-INT64_MAX, max_value=INT64_MAX)


@given(pairs=st.lists(st.tuples(int64s, int64s), max_size=40))
def test_exact_dot_equals_the_python_sum_of_products(pairs: list[tuple[int, int]]) -> None:
    values = np.array([v for v, _ in pairs], dtype=np.int64)
    weights = np.array([w for _, w in pairs], dtype=np.int64)
    assert exact_dot(values, weights) == sum(v * w for v, w in pairs)


@pytest.mark.parametrize(
    ("values", "weights", "expected"),
    [
        # (2^63 - 1)^2 needs 126 bits
        ([INT64_MAX], [INT64_MAX], INT64_MAX * INT64_MAX),
        ([-INT64_MAX, INT64_MAX], [INT64_MAX, INT64_MAX], 0),
        ([-INT64_MAX], [3], -3 * INT64_MAX),
        # small numbers take one limb, numbers below 2^42 two
        ([1, 2, 3], [4, 5, 6], 32),
        ([2**41 + 1, 7], [2**30, 2**20 - 1], (2**41 + 1) * 2**30 + 7 * (2**20 - 1)),
        ([], [], 0),
    ],
)
def test_exact_dot_at_the_limits(values: list[int], weights: list[int], expected: int) -> None:
    as_array = np.array(values, dtype=np.int64)
    assert exact_dot(as_array, np.array(weights, dtype=np.int64)) == expected


def test_exact_dot_sums_more_than_one_chunk_of_the_largest_products() -> None:
    # 2^20 + 3 products of (2^63 - 1) x (2^63 - 1): one chunk would overflow int64
    count = DOT_CHUNK + 3
    largest = np.full(count, INT64_MAX, dtype=np.int64)
    assert exact_dot(largest, largest) == count * INT64_MAX * INT64_MAX
    alternating = np.where(np.arange(count) % 2 == 0, INT64_MAX, -INT64_MAX)
    assert exact_dot(alternating, largest) == INT64_MAX * INT64_MAX  # one more + than -


def test_exact_dot_refuses_arrays_of_different_shapes() -> None:
    with pytest.raises(ValueError, match="shapes"):
        exact_dot(np.zeros(2, dtype=np.int64), np.zeros(3, dtype=np.int64))
