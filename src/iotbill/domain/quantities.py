"""Exact usage quantities as scaled integers.

A metered value is kept as an integer count of 10^-9 units (nano-units), so
ten readings of ``0.1`` sum to exactly ``1`` and numpy can aggregate millions of
them at machine speed. A value with more than :data:`SCALE` fractional digits,
or whose magnitude does not fit a signed 64-bit count of nano-units (about
9.2 billion units), is bad input: it is refused, never rounded. Sums are taken
exactly (:func:`exact_sum`), so they cannot overflow silently.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import numpy.typing as npt

from iotbill.domain.input_rules import parse_decimal_text

SCALE = 9
UNIT = 10**SCALE
INT64_MAX = 2**63 - 1
MAX_QUANTITY = Decimal(INT64_MAX).scaleb(-SCALE)
NANO = Decimal(1).scaleb(-SCALE)

Scaled = npt.NDArray[np.int64]


class QuantityError(ValueError):
    """A value cannot be taken as an exact quantity; the message says why."""


def to_scaled(value: object) -> int:
    """The exact nano-unit count of a JSON number (int, Decimal, or a string written by
    the one grammar of :data:`~iotbill.domain.input_rules.DECIMAL_TEXT`).

    >>> to_scaled(Decimal("0.1"))
    100000000
    """
    if isinstance(value, bool):
        raise QuantityError("must be a number, not a boolean")
    scaled: int
    if isinstance(value, int):
        scaled = value * UNIT
    else:
        if isinstance(value, str):
            try:
                value = parse_decimal_text(value)
            except ValueError as error:
                raise QuantityError(str(error)) from None
        if not isinstance(value, Decimal):
            raise QuantityError(f"must be a number, got {type(value).__name__}")
        if not value.is_finite():
            raise QuantityError("must be a finite number")
        # Plain text as a user writes it (0.0000000001, not 1E-10), unless absurdly long.
        text = decimal_text(value) if abs(value.adjusted()) <= 30 else str(value)
        # copy_abs and comparisons are exact: abs() would overflow on 1E+1000000.
        if value.copy_abs() > MAX_QUANTITY:
            raise QuantityError(f"{text} is beyond the largest supported magnitude {MAX_QUANTITY}")
        # In range, quantize is exact or rounds, never signals; scaleb alone would
        # underflow 1E-1000040 to 0 and accept it.
        nano = value.quantize(NANO)
        if nano != value:
            raise QuantityError(f"{text} has more than {SCALE} fractional digits")
        scaled = int(nano.scaleb(SCALE))
    if not -INT64_MAX <= scaled <= INT64_MAX:
        raise QuantityError(f"{value} is beyond the largest supported magnitude {MAX_QUANTITY}")
    return scaled


def from_scaled(scaled: int) -> Decimal:
    """The exact decimal value of a nano-unit count, without trailing fractional zeros.

    >>> from_scaled(1_500_000_000)
    Decimal('1.5')
    >>> decimal_text(from_scaled(100 * UNIT))
    '100'
    """
    whole, fraction = divmod(abs(scaled), UNIT)
    sign = "-" if scaled < 0 else ""
    if fraction == 0:
        return Decimal(f"{sign}{whole}")
    return Decimal(f"{sign}{whole}.{fraction:0{SCALE}d}".rstrip("0"))  # text: always exact


def decimal_text(value: Decimal) -> str:
    """A decimal as plain positional text, never in exponent form: ``'0.000000005'``."""
    return format(value, "f")


def exact_sum(values: Scaled) -> int:
    """The exact sum of int64 nano-unit counts, as a Python int.

    Splits each value into its high and low 32 bits so neither partial sum can
    overflow int64 for up to 2^31 values, then recombines them exactly.
    """
    if values.size == 0:
        return 0
    if values.size >= 2**31:
        return sum(int(v) for v in values.tolist())
    high = values >> 32
    low = values & 0xFFFFFFFF
    return (int(high.sum(dtype=np.int64)) << 32) + int(low.sum(dtype=np.int64))


#: Bits of each limb in :func:`exact_dot`: a product of two limbs stays below 2^42.
LIMB_BITS = 21
_LIMB_MASK = (1 << LIMB_BITS) - 1
#: Terms summed per numpy dot product: 2^20 products below 2^42 stay below 2^62.
DOT_CHUNK = 1 << 20


def _limbs(values: npt.NDArray[np.int64]) -> list[npt.NDArray[np.int64]]:
    """``values`` as ``limbs[0] + limbs[1] * 2^21 + limbs[2] * 2^42``, lowest first.

    The two lower limbs are in ``[0, 2^21)``, the top one (an arithmetic shift) in
    ``[-2^21, 2^21)``. Limbs above the highest one needed are left out.
    """
    limbs = [values & _LIMB_MASK, (values >> LIMB_BITS) & _LIMB_MASK, values >> 2 * LIMB_BITS]
    low, high = int(values.min()), int(values.max())
    if low >= 0 and high < 1 << LIMB_BITS:
        return limbs[:1]
    if low >= 0 and high < 1 << 2 * LIMB_BITS:
        return limbs[:2]
    return limbs


def exact_dot(values: Scaled, weights: npt.NDArray[np.int64]) -> int:
    """The exact ``sum(values[i] * weights[i])`` of two int64 arrays, as a Python int.

    A product of two int64 can need 126 bits. Each array is split into 21-bit limbs
    (:func:`_limbs`), so every product of two limbs is below 2^42 in magnitude and
    numpy sums 2^20 of them in int64 without overflow; the partial sums are then
    recombined with Python's exact integers. Nine dot products at most, fewer when
    the numbers are small, instead of a Python multiplication per element.

    >>> big = np.array([2**62, -(2**62), 3], dtype=np.int64)
    >>> exact_dot(big, np.array([2**40, 2**40 - 1, 7], dtype=np.int64)) == 2**62 + 21
    True
    """
    if values.shape != weights.shape:
        raise ValueError(f"arrays of shapes {values.shape} and {weights.shape}")
    total = 0
    for begin in range(0, values.size, DOT_CHUNK):
        value_limbs = _limbs(values[begin : begin + DOT_CHUNK])
        weight_limbs = _limbs(weights[begin : begin + DOT_CHUNK])
        for i, value_limb in enumerate(value_limbs):
            for j, weight_limb in enumerate(weight_limbs):
                partial = int(np.dot(value_limb, weight_limb))
                total += partial << (LIMB_BITS * (i + j))
    return total


def scaled_array(values: list[int]) -> Scaled:
    """A list of nano-unit counts as an int64 array."""
    return np.array(values, dtype=np.int64)
