"""Properties of the pricing core, checked on generated plans and event streams.

The aggregations are compared with :class:`Reference`, a deliberately plain implementation
written from the documented definitions: Python lists and Decimals, no numpy, no scaled
integers. The period is ``[0 h, 10 h)`` after T0; events fall from 5 hours before it to
about 2 hours after it, on a 10-minute grid (so timestamps often tie and ids decide order).
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from iotbill.domain.event_table import EventTable
from iotbill.domain.events import UsageEvent
from iotbill.domain.invoicing import subtotal
from iotbill.domain.metering import AGGREGATIONS, RECURRING
from iotbill.domain.plan_parsing import parse_plan
from iotbill.domain.preview import preview
from iotbill.domain.pricing import Graduated, Tier, Usage, Volume
from iotbill.domain.quantities import INT64_MAX
from iotbill.domain.rating import rate_period
from tests.unit.conftest import T0, hours, quantities

SETTINGS = settings(max_examples=100, deadline=None)
PERIOD = hours(0, 10)
TICK = timedelta(minutes=10)
NANO = Decimal("1E-9")
LABELS = ("p1", "p2", "p3")
KEYS: tuple[Any, ...] = ("a", "b", "1", 1, Decimal("1.0"), 2, Decimal("2.50"), True, False)


# Numbers as a device may send them: whole ints, decimals of 0 to 9 fractional digits (with or
# without trailing zeros), sometimes as strings; small ones mostly, now and then near the limit.


@st.composite
def exact_numbers(draw: st.DrawFn, *, negative: bool = True, large: bool = True) -> Any:
    low = -INT64_MAX if negative else 0
    small = st.integers(max(low, -(10**13)), 10**13)
    nanos = draw(st.one_of(small, st.integers(low, INT64_MAX)) if large else small)
    places = draw(st.integers(0, 9))
    nanos -= nanos % 10 ** (9 - places) if nanos >= 0 else -((-nanos) % 10 ** (9 - places))
    value = Decimal(nanos).scaleb(-9)
    form = draw(st.sampled_from(["decimal", "normal", "int", "text"]))
    if form == "normal":
        return value.normalize()
    if form == "int" and value == value.to_integral_value():
        return int(value)
    if form == "text":
        return format(value, "f")  # numbers as text follow the plain decimal grammar
    return value


@st.composite
def event_streams(draw: st.DrawFn) -> list[UsageEvent]:
    """Readings with unique ids: each has a numeric ``v``, a key ``k`` and a group ``g``."""
    specs = draw(
        st.lists(
            st.tuples(
                st.text("abcxyz", min_size=1, max_size=3),
                st.integers(-30, 72),
                exact_numbers(),
                st.sampled_from(KEYS),
                st.sampled_from(LABELS),
            ),
            max_size=25,
            unique_by=lambda spec: spec[0],
        )
    )
    return [
        UsageEvent(event_id, "reading", "device-1", T0 + tick * TICK, {"v": v, "k": k, "g": g})
        for event_id, tick, v, k, g in specs
    ]


# The reference: each aggregation as its definition reads, over plain lists.


def exact(value: Any) -> Decimal:
    return Decimal(value)  # ints, Decimals and numeric strings, all exactly


def json_key(value: Any) -> tuple[str, Any]:
    if isinstance(value, bool):
        return ("boolean", value)
    if isinstance(value, str):
        return ("string", value)
    return ("number", Decimal(value).normalize())


@dataclass
class Reference:
    """One group's readings: those before the period (oldest first) and those in it."""

    before: list[UsageEvent]
    inside: list[UsageEvent]

    def values(self) -> list[Decimal]:
        return [exact(e.properties["v"]) for e in self.inside]

    def prior(self) -> Decimal | None:
        return exact(self.before[-1].properties["v"]) if self.before else None

    def count(self) -> Decimal:
        return Decimal(len(self.inside))

    def sum(self) -> Decimal:
        return sum(self.values(), Decimal(0))

    def max(self) -> Decimal:
        return max(self.values(), default=Decimal(0))

    def min(self) -> Decimal:
        return min(self.values(), default=Decimal(0))

    def unique_count(self) -> Decimal:
        return Decimal(len({json_key(e.properties["k"]) for e in self.inside}))

    def latest(self) -> Decimal:
        values = self.values()
        return values[-1] if values else Decimal(0)

    def average(self) -> Decimal:
        values = self.values()
        if not values:
            return Decimal(0)
        return (self.sum() / len(values)).quantize(NANO, rounding=ROUND_HALF_EVEN)

    def time_weighted_average(self) -> Decimal:
        level = self.prior() or Decimal(0)
        since = PERIOD.start
        integral = Decimal(0)
        for reading in self.inside:
            integral += level * Decimal((reading.timestamp - since) // timedelta(microseconds=1))
            level, since = exact(reading.properties["v"]), reading.timestamp
        integral += level * Decimal((PERIOD.end - since) // timedelta(microseconds=1))
        length = Decimal(PERIOD.duration // timedelta(microseconds=1))
        return (integral / length).quantize(NANO, rounding=ROUND_HALF_EVEN)

    def weighted_sum(self, total: Decimal = Decimal(0)) -> Decimal:
        integral = Decimal(0)
        since = PERIOD.start
        for change in self.inside:  # the running total, from 0, held until the next change
            integral += total * Decimal((change.timestamp - since) // timedelta(microseconds=1))
            total, since = total + exact(change.properties["v"]), change.timestamp
        integral += total * Decimal((PERIOD.end - since) // timedelta(microseconds=1))
        length = Decimal(PERIOD.duration // timedelta(microseconds=1))
        return (integral / length).quantize(NANO, rounding=ROUND_HALF_EVEN)

    def recurring_sum(self) -> Decimal:
        """Every value before the period counts too."""
        return sum((exact(e.properties["v"]) for e in self.before), self.sum())

    def recurring_weighted_sum(self) -> Decimal:
        """Every change before the period carries: the total starts at their sum."""
        return self.weighted_sum(sum((exact(e.properties["v"]) for e in self.before), Decimal(0)))

    def recurring_latest(self) -> Decimal:
        """The period's last value, else the last before it, else 0."""
        values = self.values()
        return values[-1] if values else self.prior() or Decimal(0)

    def increase(self) -> Decimal:
        prior = self.prior()
        readings = ([] if prior is None else [prior]) + self.values()
        rise = Decimal(0)
        for then, now in itertools.pairwise(readings):
            rise += now - then if now >= then else now
        return rise


def reference(aggregation: str, events: list[UsageEvent], grouped: bool) -> dict[Any, Decimal]:
    ordered = sorted(events, key=lambda e: (e.timestamp, e.id))
    carries = aggregation in (
        "time_weighted_average",
        "increase",
        "recurring_sum",
        "recurring_weighted_sum",
        "recurring_latest",
    )
    groups: dict[Any, Reference] = {}
    for e in ordered:
        group = e.properties["g"] if grouped else None
        if e.timestamp in PERIOD:
            groups.setdefault(group, Reference([], [])).inside.append(e)
        elif e.timestamp < PERIOD.start and carries:
            groups.setdefault(group, Reference([], [])).before.append(e)
    if not grouped:
        groups.setdefault(None, Reference([], []))
    return {group: getattr(usage, aggregation)() for group, usage in groups.items()}


@SETTINGS
@given(events=event_streams(), grouped=st.booleans())
def test_every_aggregation_equals_the_plain_reference(
    events: list[UsageEvent], grouped: bool
) -> None:
    options: dict[str, Any] = {"allow_negative": True}
    if grouped:
        options["group_by"] = "g"
    with localcontext() as context:
        context.prec = 100  # the reference's sums and integrals, exactly
        for name in AGGREGATIONS:
            prop = {"count": None, "unique_count": "k"}.get(name, "v")
            found = quantities(name, events, PERIOD, property_name=prop, **options)
            assert found == reference(name, events, grouped), name


@SETTINGS
@given(events=event_streams(), grouped=st.booleans())
def test_every_recurring_aggregation_equals_the_plain_reference(
    events: list[UsageEvent], grouped: bool
) -> None:
    options: dict[str, Any] = {"allow_negative": True, "recurring": True}
    if grouped:
        options["group_by"] = "g"
    with localcontext() as context:
        context.prec = 100  # the reference's sums and integrals, exactly
        for name in RECURRING:
            found = quantities(name, events, PERIOD, property_name="v", **options)
            assert found == reference(f"recurring_{name}", events, grouped), name


# Price models


@st.composite
def tier_ladders(draw: st.DrawFn) -> tuple[Tier, ...]:
    bounds = sorted(
        draw(
            st.sets(
                st.decimals(min_value="0.001", max_value="1000", places=3), min_size=0, max_size=4
            )
        )
    )
    prices = st.decimals(min_value=0, max_value=10, places=4)
    fees = st.decimals(min_value=0, max_value=50, places=2)
    return tuple(Tier(up_to, draw(prices), draw(fees)) for up_to in [*bounds, None])


usage_quantities = st.decimals(min_value=0, max_value=2000, places=9)


@SETTINGS
@given(tiers=tier_ladders(), first=usage_quantities, second=usage_quantities)
def test_graduated_is_non_decreasing_and_the_sum_of_its_tier_lines(
    tiers: tuple[Tier, ...], first: Decimal, second: Decimal
) -> None:
    low, high = sorted((first, second))
    model = Graduated(tiers)
    lower, upper = model.price(Usage(low)), model.price(Usage(high))
    assert lower.amount <= upper.amount
    for rating, quantity in ((lower, low), (upper, high)):
        assert rating.amount == sum((d.amount for d in rating.detail), Decimal(0))
        assert sum((d.units or Decimal(0) for d in rating.detail), Decimal(0)) == quantity
        for detail in rating.detail:
            units, unit_price, flat_fee = detail.units, detail.unit_price, detail.flat_fee
            assert units is not None and unit_price is not None and flat_fee is not None
            assert detail.amount == units * unit_price + flat_fee


@SETTINGS
@given(
    price=st.decimals(min_value=0, max_value=100, places=6),
    fee=st.decimals(min_value=0, max_value=100, places=2),
    quantity=st.decimals(min_value=-1000, max_value=10**9, places=9),
)
def test_volume_and_graduated_agree_on_a_single_tier(
    price: Decimal, fee: Decimal, quantity: Decimal
) -> None:
    tiers = (Tier(None, price, fee),)
    graduated = Graduated(tiers).price(Usage(quantity))
    volume = Volume(tiers).price(Usage(quantity))
    assert graduated.amount == volume.amount == quantity * price + fee


# Plans, invoices and permutations

PLAN: dict[str, Any] = {
    "code": "everything",
    "interval": "month",
    "fixed_fees": [{"code": "base", "amount": "31"}],
    "meters": [
        {"code": "n", "event_type": "reading", "aggregation": "count"},
        {"code": "s", "event_type": "reading", "aggregation": "sum", "property": "v",
         "allow_negative": True, "group_by": "g"},
        {"code": "hi", "event_type": "reading", "aggregation": "max", "property": "v",
         "allow_negative": True},
        {"code": "lo", "event_type": "reading", "aggregation": "min", "property": "v",
         "allow_negative": True, "filters": {"k": ["a", 1, True]}},
        {"code": "u", "event_type": "reading", "aggregation": "unique_count", "property": "k"},
        {"code": "last", "event_type": "reading", "aggregation": "latest", "property": "v",
         "allow_negative": True},
        {"code": "avg", "event_type": "reading", "aggregation": "time_weighted_average",
         "property": "v", "allow_negative": True, "group_by": "g"},
        {"code": "up", "event_type": "reading", "aggregation": "increase", "property": "v",
         "allow_negative": True, "group_by": "g"},
    ],
}  # fmt: skip


@st.composite
def plans(draw: st.DrawFn) -> dict[str, Any]:
    """The plan above in a drawn currency, each meter priced by a drawn model."""
    code = draw(st.sampled_from(["USD", "JPY", "KWD"]))
    places = {"USD": 2, "JPY": 0, "KWD": 3}[code]
    money = st.decimals(min_value=0, max_value=100, places=places).map(str)
    price = st.decimals(min_value=0, max_value=5, places=5).map(str)
    bound = st.integers(1, 50)

    def model() -> dict[str, Any]:
        kind = draw(st.sampled_from(["per_unit", "graduated", "volume", "package", "flat"]))
        if kind == "per_unit":
            return {"model": kind, "unit_price": draw(price)}
        if kind in ("graduated", "volume"):
            first = draw(bound)
            tiers = [
                {"up_to": first, "unit_price": draw(price), "flat_fee": draw(money)},
                {"up_to": first + draw(bound), "unit_price": draw(price)},
                {"up_to": None, "unit_price": draw(price), "flat_fee": draw(money)},
            ]
            return {"model": kind, "tiers": tiers}
        if kind == "package":
            rounding = draw(st.sampled_from(["up", "down"]))
            return {"model": kind, "package_size": draw(bound), "price": draw(price),
                    "free_units": draw(bound), "round": rounding}  # fmt: skip
        return {"model": kind, "amount": draw(money)}

    charges = [
        {"code": f"c-{meter['code']}", "meter": meter["code"], **model()}
        for meter in PLAN["meters"]
    ]
    share = {"code": "share", "meter": "s", "model": "percentage", "rate": draw(price),
             "fixed_fee": draw(price), "free_events": draw(st.integers(0, 3)),
             "free_amount": draw(st.sampled_from(["0", "0.5", "5", "50.5"]))}  # fmt: skip
    lowest = draw(st.sampled_from([None, "0.01", "1"]))
    if lowest is not None:
        share["min_per_event"] = lowest
    if draw(st.booleans()):
        share["max_per_event"] = draw(st.sampled_from(["1", "2.5"]))
    charges.append(share)
    first = draw(bound)
    charges.append(
        {"code": "ladder", "meter": "s", "model": "graduated_percentage", "tiers": [
            {"up_to": first, "rate": draw(price), "flat_fee": draw(money)},
            {"up_to": None, "rate": draw(price), "flat_fee": draw(money)},
        ]}
    )  # fmt: skip
    charges.append({"code": "spot", "meter": "n", "model": "dynamic", "amount_property": "w"})
    if draw(st.booleans()):
        charges[1]["min_amount"] = draw(money)
    return {**PLAN, "currency": code, "charges": charges}


@st.composite
def priced_streams(draw: st.DrawFn) -> list[UsageEvent]:
    """Event streams whose every reading also carries a non-negative spot amount ``w``."""
    events = draw(event_streams())
    amounts = st.lists(exact_numbers(negative=False, large=False), min_size=len(events))
    return [
        UsageEvent(e.id, e.type, e.device, e.timestamp, {**e.properties, "w": w})
        for e, w in zip(events, draw(amounts), strict=False)
    ]


def half_up(amount: Decimal, places: int) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


@SETTINGS
@given(plan_data=plans(), events=priced_streams())
def test_an_invoice_total_is_the_sum_of_its_lines_each_rounded_once(
    plan_data: dict[str, Any], events: list[UsageEvent]
) -> None:
    plan = parse_plan(plan_data)
    places = plan.currency.minor_units
    lines = rate_period(plan, EventTable.build(events), PERIOD)
    for line in lines:
        assert line.exact_amount == sum((d.amount for d in line.detail), Decimal(0))
        assert line.amount == half_up(line.exact_amount, places)
        assert line.amount.as_tuple().exponent == -places
    total = sum((half_up(line.exact_amount, places) for line in lines), Decimal(0))
    assert subtotal(lines) == total
    document = preview(plan, EventTable.build(events), PERIOD).as_json()
    assert document["total"] == str(total)
    # Amounts are written at the minor unit, and never "-0.00" (a tiny credit rounds to 0.00).
    written = [line["amount"] for line in document["lines"]]
    assert [Decimal(amount) for amount in written] == [line.amount for line in lines]
    assert not any(amount.startswith("-") and Decimal(amount) == 0 for amount in written)


@SETTINGS
@given(
    plan_data=plans(),
    events=priced_streams(),
    repeats=st.lists(st.integers(0, 100), max_size=5),
    seed=st.integers(0, 2**32 - 1),
)
def test_permuting_events_never_changes_a_result(
    plan_data: dict[str, Any], events: list[UsageEvent], repeats: list[int], seed: int
) -> None:
    plan = parse_plan(plan_data)
    # Exact repeats (a device retrying) are duplicates wherever they fall in the file.
    replayed = events + [events[i % len(events)] for i in repeats] if events else []
    shuffled = list(replayed)
    random.Random(seed).shuffle(shuffled)
    original = preview(plan, EventTable.build(replayed), PERIOD).as_json()
    permuted = preview(plan, EventTable.build(shuffled), PERIOD).as_json()
    assert permuted == original
    assert original["events"] == {
        "counted": len(events),
        "duplicates": len(replayed) - len(events),
        "conflicts": 0,
    }
