"""Tiers shared by the ``graduated`` and ``volume`` models.

Tier *n* covers quantities above tier *n-1*'s ``up_to`` up to its own
``up_to`` (inclusive); the first tier starts at 0 and the last has
``up_to: null`` (unlimited). Bounds must be positive and strictly ascending.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from iotbill.domain.errors import ProblemCollector
from iotbill.domain.fields import FieldReader
from iotbill.domain.input_rules import PLAN_LIMITS
from iotbill.domain.pricing.base import read_rate


@dataclass(frozen=True, slots=True)
class Tier:
    """A tier: units above the previous bound up to ``up_to`` (``None``: unlimited)."""

    up_to: Decimal | None
    unit_price: Decimal
    flat_fee: Decimal = Decimal(0)


def parse_tiers(reader: FieldReader, price: str = "unit_price") -> tuple[Tier, ...] | None:
    """The ``tiers`` field of a charge, validated as a whole; each tier's ``price`` field
    (``unit_price``, or ``rate``: a percentage, at most 100) in its ``unit_price``."""
    items = reader.items("tiers", required=True, limit=PLAN_LIMITS.max_tiers)
    problems: ProblemCollector = reader.problems
    before = len(problems.problems)
    if reader.data.get("tiers") == []:  # not a list at all is already reported
        problems.add(reader.path("tiers"), "must list at least one tier")
    tiers: list[Tier] = []
    previous: Decimal | None = Decimal(0)
    for index, item in enumerate(items):
        tier_reader = FieldReader(item, f"{reader.path('tiers')}[{index}]", problems)
        tier_reader.reject_unknown(("up_to", price, "flat_fee"))
        is_last = index == len(items) - 1
        up_to = _bound(tier_reader, previous, is_last)
        unit_price = read_rate(tier_reader) if price == "rate" else tier_reader.decimal(price)
        flat_fee = tier_reader.decimal("flat_fee", required=False, default=Decimal(0))
        if up_to is not None:
            previous = up_to
        if unit_price is not None and flat_fee is not None:
            tiers.append(Tier(up_to, unit_price, flat_fee))
    if len(problems.problems) > before:
        return None
    return tuple(tiers)


def _bound(reader: FieldReader, previous: Decimal | None, is_last: bool) -> Decimal | None:
    path = reader.path("up_to")
    if not reader.has("up_to"):
        if not is_last:
            reader.problems.add(path, "only the last tier may be unlimited (up_to: null)")
        return None
    up_to = reader.decimal("up_to", minimum=None)
    if up_to is None:
        return None
    if is_last:
        reader.problems.add(path, "the last tier must have up_to: null (unlimited)")
    elif up_to <= 0:
        reader.problems.add(path, f"must be greater than 0, not {up_to}")
    elif previous is not None and up_to <= previous:
        reader.problems.add(path, f"must be greater than {previous}")
    return up_to


def lower_bounds(tiers: tuple[Tier, ...]) -> list[Decimal]:
    """Where each tier starts: 0, then each previous tier's ``up_to``."""
    bounds = [Decimal(0)]
    for tier in tiers[:-1]:
        assert tier.up_to is not None
        bounds.append(tier.up_to)
    return bounds


def graduated_parts(
    tiers: tuple[Tier, ...], quantity: Decimal
) -> list[tuple[int, Tier, Decimal, Decimal]]:
    """``quantity`` cut into the tiers it enters, each as ``(number, tier, lower, units)``:
    tier *n* is entered when the quantity exceeds tier *n-1*'s ``up_to``, the first
    always; a negative quantity falls entirely in the first."""
    parts = []
    for number, (tier, lower) in enumerate(zip(tiers, lower_bounds(tiers), strict=True), start=1):
        if number > 1 and quantity <= lower:
            break
        if quantity < 0:
            units = quantity
        else:
            top = quantity if tier.up_to is None else min(quantity, tier.up_to)
            units = top - lower
        parts.append((number, tier, lower, units))
    return parts
