"""What every price model takes and returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar, Protocol, Self

import numpy as np

from iotbill.domain.fields import FieldReader
from iotbill.domain.quantities import Scaled, decimal_text

HUNDRED = Decimal(100)


def read_rate(reader: FieldReader, name: str = "rate") -> Decimal | None:
    """A percentage field: a number from 0 to 100 (``None``, its problem recorded, if not)."""
    rate = reader.decimal(name)
    if rate is not None and rate > HUNDRED:
        reader.problems.add(reader.path(name), f"is a percentage: at most 100, not {rate}")
        return None
    return rate


def _no_values() -> Scaled:
    return np.empty(0, dtype=np.int64)


@dataclass(frozen=True, slots=True)
class Usage:
    """What a charge prices: the meter's quantity and, for per-event models, the events.

    ``event_values`` are the meter property's in-period values (nano-units) in
    ``(timestamp, id)`` order; ``event_amounts`` are the values of a model's
    ``amount_property`` (``dynamic``), in the same order.
    """

    quantity: Decimal
    event_values: Scaled = field(default_factory=_no_values)
    event_amounts: Scaled = field(default_factory=_no_values)


@dataclass(frozen=True, slots=True)
class Detail:
    """One step of a charge's arithmetic, exact (not rounded)."""

    kind: str
    amount: Decimal
    units: Decimal | None = None
    unit_price: Decimal | None = None
    tier: int | None = None
    lower: Decimal | None = None
    up_to: Decimal | None = None
    flat_fee: Decimal | None = None
    rate: Decimal | None = None
    note: str | None = None
    factor: Decimal | None = None
    """A multiplier the step applied (a risk factor), as written in the plan."""

    def as_json(self) -> dict[str, Any]:
        """The detail as JSON-ready values; decimals as exact strings."""
        result: dict[str, Any] = {"kind": self.kind}
        if self.tier is not None:
            result["tier"] = self.tier
            result["from"] = _text(self.lower)
            result["up_to"] = _text(self.up_to)
        for name in ("units", "unit_price", "flat_fee", "rate", "factor"):
            value = getattr(self, name)
            if value is not None:
                result[name] = decimal_text(value)
        result["amount"] = decimal_text(self.amount)
        if self.note:
            result["note"] = self.note
        return result


def _text(value: Decimal | None) -> str | None:
    return None if value is None else decimal_text(value)


@dataclass(frozen=True, slots=True)
class Rating:
    """A charge priced: its exact amount, its unit price where one applies, and why."""

    amount: Decimal
    unit_price: Decimal | None
    detail: tuple[Detail, ...]


class PriceModel(Protocol):
    """A pure price model: typed frozen parameters and one ``price`` method.

    ``fields`` are the plan fields the model reads; ``amount_property`` names
    the event property a per-event model reads its amounts from. ``reads_events``
    says whether the price reads the events themselves (their values or amounts,
    in :class:`Usage`), not the quantity alone.
    """

    name: ClassVar[str]
    fields: ClassVar[tuple[str, ...]]
    reads_events: ClassVar[bool]

    @property
    def amount_property(self) -> str | None: ...

    def price(self, usage: Usage) -> Rating: ...

    @classmethod
    def parse(cls, reader: FieldReader) -> Self | None: ...
