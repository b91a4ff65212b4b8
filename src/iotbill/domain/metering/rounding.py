"""A meter's ``rounding``: its quantity rounded before it is priced.

``function`` says which way: ``round`` to the nearest (a tie, exactly half-way, away from
zero), ``ceil`` up (towards +infinity), ``floor`` down (towards -infinity). ``precision``
says to what: the number of decimals kept, 0 by default; a negative one rounds to tens
(-1), hundreds (-2), and so on. The rounding is exact: quantities carry at most nine
decimals, and are rounded as whole counts of nano-units.

>>> Rounding("ceil").apply(Decimal("1.2")), Rounding("floor").apply(Decimal("-1.2"))
(Decimal('2'), Decimal('-2'))
>>> Rounding("round", 1).apply(Decimal("2.25")), Rounding("round", -2).apply(Decimal("1250"))
(Decimal('2.3'), Decimal('1300'))
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, get_args

from iotbill.domain.quantities import SCALE, from_scaled

RoundingFunction = Literal["round", "ceil", "floor"]
ROUNDING_FUNCTIONS: tuple[str, ...] = get_args(RoundingFunction)
MAX_PRECISION = SCALE
"""Nine decimals: a quantity has no more, so rounding to them changes nothing."""
MIN_PRECISION = -SCALE
"""To the nearest (or next, or last) billion."""

_WORDS = {"round": "rounded", "ceil": "rounded up", "floor": "rounded down"}


@dataclass(frozen=True, slots=True)
class Rounding:
    """How a meter rounds its quantity: ``function`` to ``precision`` decimals."""

    function: RoundingFunction
    precision: int = 0

    def __post_init__(self) -> None:
        if self.function not in ROUNDING_FUNCTIONS:
            raise ValueError(f"unknown rounding function {self.function!r}")
        if not MIN_PRECISION <= self.precision <= MAX_PRECISION:
            raise ValueError(f"precision {self.precision} is beyond {MIN_PRECISION} to {SCALE}")

    def apply(self, quantity: Decimal) -> Decimal:
        """``quantity`` rounded, exactly."""
        scaled = quantity.scaleb(SCALE)
        nanos = int(scaled)
        if nanos != scaled:
            raise ValueError(f"{quantity} has more than {SCALE} decimals")
        step = 10 ** (SCALE - self.precision)
        if self.function == "floor":
            rounded = nanos // step * step
        elif self.function == "ceil":
            rounded = -(-nanos // step) * step
        else:  # the nearest; a tie away from zero
            rounded = (abs(nanos) + step // 2) // step * step * (-1 if nanos < 0 else 1)
        return from_scaled(rounded)

    def describe(self) -> str:
        """``rounded up to 0 decimals``, ``rounded to a multiple of 100``, as a line's detail
        and ``plans show`` say it."""
        if self.precision >= 0:
            places = "decimal" if self.precision == 1 else "decimals"
            return f"{_WORDS[self.function]} to {self.precision} {places}"
        return f"{_WORDS[self.function]} to a multiple of {10**-self.precision:,}"
