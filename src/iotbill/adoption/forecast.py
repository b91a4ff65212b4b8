"""Revenue forecasts: a threshold cascade of adopters, billed period by period under a plan.

A threshold cascade on the customer network (:mod:`iotbill.adoption.threshold`) says who
adopts in which round. The initial adopters adopt in billing period 1 and round ``r`` lands
in period ``1 + r // rounds_per_period``; an adopter pays from the period it adopts in until
it churns (probability ``churn`` at the start of each later period, for good). A churned
adopter stays an adopter in the cascade: it already influenced its neighbours, so the cascade
runs first and churn is laid over it, lowering revenue, never the spread.

Each adopter-period is priced by the real rating code: synthetic events give each meter
exactly the :class:`UsageProfile` quantity (:func:`meter_events`), then
:func:`~iotbill.domain.rating.fee_line` and :func:`~iotbill.domain.rating.charge_lines` price
and round each line, and the plan's commitment
(:func:`~iotbill.domain.commitments.commitment_lines`) bounds the charges; the invoice
total is the exact sum of the rounded lines, cached by the usage vector. A profile gives
each meter's quantity as billed, so a meter's per-window cap counts as applied already.
Random parts (thresholds, churn, usage noise) come from the generator passed
in; :func:`compare_forecasts` prices the same draws under two plans (common random numbers).
Percentiles over runs are nearest-rank: every figure reported is the outcome of some run.

References
----------
D. Easley and J. Kleinberg, *Networks, Crowds, and Markets* (2010), chapter 19.
D. Kempe, J. Kleinberg and E. Tardos, "Maximizing the spread of influence through a
social network", KDD 2003 (the linear threshold model with uniform random thresholds).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

from iotbill.adoption.graph import Graph
from iotbill.adoption.threshold import cascade_with_requirements, required_counts
from iotbill.domain.catalog import Meter, Plan
from iotbill.domain.commitments import commitment_lines
from iotbill.domain.errors import InvalidInput
from iotbill.domain.event_table import EventTable
from iotbill.domain.events import UsageEvent
from iotbill.domain.invoicing import InvoiceLine, subtotal
from iotbill.domain.metering import PropertyKind
from iotbill.domain.periods import Period
from iotbill.domain.pricing import Percentage
from iotbill.domain.quantities import MAX_QUANTITY, UNIT, QuantityError, from_scaled, to_scaled
from iotbill.domain.rating import charge_lines, fee_line

RunDone = Callable[[int, int], None]
"""Told ``(runs done, runs)`` after each Monte Carlo run (a progress bar)."""

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
T = TypeVar("T", int, Decimal)

#: The one billing period every synthetic invoice is rated for. Its length matters to
#: no meter, since every synthetic event lies at its start.
PRICING_PERIOD = Period(datetime(2000, 1, 1, tzinfo=UTC), datetime(2000, 2, 1, tzinfo=UTC))


@dataclass(frozen=True, slots=True)
class RandomThresholds:
    """Kempe-Kleinberg-Tardos thresholds: each run draws one per node, uniform on (0, 1].

    A node of degree ``d`` with threshold ``theta`` needs ``ceil(theta * d)`` adopting
    neighbours (at least one); a node without neighbours never switches.
    """


ThresholdRule = Fraction | Sequence[Fraction] | RandomThresholds


@dataclass(frozen=True, slots=True)
class UsageProfile:
    """What each paying adopter uses per billing period.

    ``quantities`` maps meter codes to exact quantities (at most nine decimals; whole
    numbers for ``count`` and ``unique_count`` meters). With ``noise_sigma > 0`` each
    quantity is multiplied by ``exp(sigma * Z - sigma**2 / 2)``, ``Z`` standard normal
    per adopter, period and meter: mean one, so the profile is the expected usage.
    A plan's meter missing from the profile sees no usage.
    """

    quantities: Mapping[str, Decimal]
    noise_sigma: float = 0.0

    def __post_init__(self) -> None:
        if not math.isfinite(self.noise_sigma) or self.noise_sigma < 0:
            raise InvalidInput.at("noise_sigma", f"must be >= 0, got {self.noise_sigma}")
        for code, quantity in self.quantities.items():
            try:
                to_scaled(quantity)
            except QuantityError as error:
                raise InvalidInput.at("usage", f"{code}: {error}") from None


@dataclass(frozen=True, slots=True)
class Scenario:
    """Everything a forecast needs but the plan: the network, the spread, usage, churn.

    ``seeds`` are node indices (see :meth:`Graph.index_of`); ``threshold`` is a uniform
    ``q``, one threshold per node, or :class:`RandomThresholds`; ``churn`` is the
    probability that a paying adopter leaves at the start of each later period.
    """

    graph: Graph
    seeds: tuple[int, ...]
    threshold: ThresholdRule
    usage: UsageProfile
    periods: int
    rounds_per_period: int = 1
    churn: float = 0.0

    def __post_init__(self) -> None:
        if self.periods < 1:
            raise InvalidInput.at("periods", f"must be at least 1, got {self.periods}")
        if self.rounds_per_period < 1:
            raise InvalidInput.at(
                "rounds_per_period", f"must be at least 1, got {self.rounds_per_period}"
            )
        if not 0 <= self.churn <= 1:
            raise InvalidInput.at("churn", f"must be in [0, 1], got {self.churn}")
        if not self.seeds:
            raise InvalidInput.at("seeds", "name at least one initial adopter")
        if not all(0 <= seed < self.graph.node_count for seed in self.seeds):
            raise InvalidInput.at(
                "seeds", f"node indices must be in 0..{self.graph.node_count - 1}"
            )

    @property
    def mapping(self) -> str:
        """The documented mapping from cascade rounds to billing periods, and churn."""
        text = (
            "initial adopters adopt in period 1; cascade round r adopts in period "
            f"1 + r // {self.rounds_per_period}; an adopter pays from the period it adopts in"
        )
        if self.churn:
            text += (
                f"; at the start of each later period a paying adopter leaves with probability "
                f"{self.churn} and never pays again, but stays an adopter in the cascade"
            )
        return text


@dataclass(frozen=True, slots=True)
class Percentiles(Generic[T]):
    """The 10th percentile, median and 90th percentile of an outcome over runs."""

    p10: T
    median: T
    p90: T


_RANKS = (Fraction(1, 10), Fraction(1, 2), Fraction(9, 10))


def percentiles(values: Sequence[T]) -> Percentiles[T]:
    """Nearest-rank percentiles: the ``ceil(p * n)``-th smallest of ``n`` values.

    >>> percentiles([5, 1, 4, 2, 3])
    Percentiles(p10=1, median=3, p90=5)
    """
    ordered = sorted(values)
    p10, median, p90 = (ordered[max(1, math.ceil(p * len(ordered))) - 1] for p in _RANKS)
    return Percentiles(p10, median, p90)


@dataclass(frozen=True, slots=True)
class PeriodSummary:
    """One billing period over all runs: paying adopters, new, churned, revenue."""

    period: int
    adopters: Percentiles[int]
    new_adopters: Percentiles[int]
    churned: Percentiles[int]
    revenue: Percentiles[Decimal]


@dataclass(frozen=True, slots=True, eq=False)
class Forecast:
    """Every run's outcome under one plan; arrays are ``(runs, periods)``.

    ``adopters`` counts paying adopters, ``new_adopters`` those adopting in the period,
    ``churned`` those that paid the period before and left at its start; ``revenue``
    is each run's invoice totals per period, exact.
    """

    plan: Plan
    mapping: str
    adopters: IntArray
    new_adopters: IntArray
    churned: IntArray
    revenue: tuple[tuple[Decimal, ...], ...]

    def summary(self) -> tuple[PeriodSummary, ...]:
        """Percentiles over runs, period by period."""
        return tuple(
            PeriodSummary(
                period + 1,
                percentiles(self.adopters[:, period].tolist()),
                percentiles(self.new_adopters[:, period].tolist()),
                percentiles(self.churned[:, period].tolist()),
                percentiles([run[period] for run in self.revenue]),
            )
            for period in range(self.adopters.shape[1])
        )

    def total_revenue(self) -> Percentiles[Decimal]:
        """Percentiles over runs of each run's revenue summed over all periods."""
        return percentiles([sum(run, Decimal(0)) for run in self.revenue])


def _counts_events(meter: Meter) -> bool:
    """Whether the meter's quantity is a number of events (``count``, ``unique_count``)."""
    return meter.aggregator().property_kind is not PropertyKind.NUMBER


def meter_events(meter: Meter, quantity: int) -> list[UsageEvent]:
    """Synthetic events from which ``meter`` aggregates exactly ``quantity`` nano-units.

    Zero is no event. ``count`` gets one event per unit and ``unique_count`` as many
    distinct values; ``increase`` a reading of 0 then one of the quantity; every other
    aggregation one event carrying the quantity. Events lie at the period's start, one
    microsecond apart, and carry the first accepted value of every filter and one
    ``group_by`` value, so the meter bills a single group.
    """
    if quantity == 0:
        return []
    base: dict[str, object] = {name: accepted[0] for name, accepted in meter.filters}
    if meter.group_by is not None:
        base.setdefault(meter.group_by, "forecast")
    if _counts_events(meter):
        values: list[object] = list(range(quantity // UNIT))
    elif meter.aggregation == "increase":
        values = [0, from_scaled(quantity)]
    else:
        values = [from_scaled(quantity)]
    return [
        UsageEvent(
            id=f"forecast-{index}",
            type=meter.event_type,
            device="forecast",
            timestamp=PRICING_PERIOD.start + timedelta(microseconds=index),
            properties=base if meter.property is None else {**base, meter.property: value},
        )
        for index, value in enumerate(values)
    ]


class _Pricer:
    """Prices adopter-periods under one plan, caching invoice totals by the usage vector.

    The usage vector holds the exact nano-unit quantities of the profile's meters that
    the plan has, in the profile's order; the plan's meters the profile lacks see no
    usage. Noise rows have one column per meter of the profile.
    """

    def __init__(self, plan: Plan, usage: UsageProfile) -> None:
        # A profile gives each meter's quantity as billed: a meter's cap is already in it.
        self.plan = replace(plan, meters=tuple(replace(m, cap=None) for m in plan.meters))
        self.usage = usage
        meters = {meter.code: meter for meter in plan.meters}
        self._columns = [i for i, code in enumerate(usage.quantities) if code in meters]
        self._meters = [code for code in usage.quantities if code in meters]
        self._whole = np.array([_counts_events(meters[code]) for code in self._meters], np.bool_)
        self._base = np.array([float(usage.quantities[code]) for code in self._meters])
        self._exact = tuple(to_scaled(usage.quantities[code]) for code in self._meters)
        self._cache: dict[tuple[int, ...], Decimal] = {}

    def check(self, location: str) -> None:
        """Refuse what a usage profile cannot forecast under this plan, naming ``location``."""
        for charge in self.plan.charges:
            if charge.model.amount_property is not None:
                raise InvalidInput.at(
                    location,
                    f"charge {charge.code!r} prices each event's own "
                    f"{charge.model.amount_property!r}, which a usage profile cannot forecast",
                )
            if isinstance(charge.model, Percentage) and charge.model.free_events:
                raise InvalidInput.at(
                    location,
                    f"charge {charge.code!r} exempts its first events of each period, which a "
                    "usage profile (one event per meter and period) cannot forecast",
                )
            if isinstance(charge.model, Percentage) and (
                charge.model.min_per_event is not None or charge.model.max_per_event is not None
            ):
                raise InvalidInput.at(
                    location,
                    f"charge {charge.code!r} limits what each event pays, which a usage "
                    "profile (one event per meter and period) cannot forecast",
                )
        for meter in self.plan.meters:
            quantity = self.usage.quantities.get(meter.code, Decimal(0))
            if quantity < 0 and not meter.allow_negative:
                raise InvalidInput.at("usage", f"{meter.code}: the meter takes no negative usage")
            if _counts_events(meter) and quantity != quantity.to_integral():
                raise InvalidInput.at(
                    "usage", f"{meter.code}: counts events, so needs a whole number"
                )

    def total(self, vector: tuple[int, ...]) -> Decimal:
        """The invoice total of one adopter-period with usage ``vector``: rounded lines, summed."""
        cached = self._cache.get(vector)
        if cached is not None:
            return cached
        by_meter = dict(zip(self._meters, vector, strict=True))
        tables = {
            meter.code: EventTable.build(meter_events(meter, by_meter.get(meter.code, 0)))
            for meter in self.plan.meters
        }
        charges: list[InvoiceLine] = []
        for charge in self.plan.charges:
            table = tables[charge.meter] if charge.meter is not None else EventTable.build([])
            charges.extend(charge_lines(self.plan, charge, table, PRICING_PERIOD))
        bound = commitment_lines(
            self.plan.commitment, self.plan.currency, charges, [PRICING_PERIOD], PRICING_PERIOD
        )
        fees = [fee_line(fee, self.plan.currency) for fee in self.plan.fixed_fees]
        total = subtotal([*fees, *charges, *bound])
        self._cache[vector] = total
        return total

    def revenue(self, paying: int, factors: FloatArray | None) -> Decimal:
        """What ``paying`` adopters pay in one period; ``factors`` holds their noise rows."""
        if factors is None:
            return self.total(self._exact) * paying
        quantities = self._base * factors[:, self._columns]
        quantities = np.where(self._whole, np.rint(quantities), quantities)
        if quantities.size and float(np.abs(quantities).max()) > float(MAX_QUANTITY):
            raise InvalidInput.at("noise_sigma", "a noisy draw exceeds the largest quantity")
        rows = np.rint(quantities * UNIT).astype(np.int64).tolist()
        return sum((self.total(tuple(row)) for row in rows), Decimal(0))


def _adoption_periods(scenario: Scenario, rng: np.random.Generator) -> IntArray:
    """Each node's adoption period (``periods + 1`` for never, or too late), one run."""
    graph, threshold = scenario.graph, scenario.threshold
    if isinstance(threshold, RandomThresholds):
        theta = 1.0 - rng.random(graph.node_count)
        required = np.ceil(theta * graph.degrees).astype(np.int64)
        required[graph.degrees == 0] = 1
    else:
        required = required_counts(graph, threshold)
    cascade = cascade_with_requirements(graph, scenario.seeds, required)
    periods = np.full(graph.node_count, scenario.periods + 1, dtype=np.int64)
    periods[cascade.seeds] = 1
    for number, switched in enumerate(cascade.rounds, start=1):
        periods[switched] = 1 + number // scenario.rounds_per_period
    return np.minimum(periods, scenario.periods + 1)


def _pricers(plans: Sequence[Plan], usage: UsageProfile) -> list[_Pricer]:
    """One pricer per plan, once the usage and the plans are known to fit together."""
    pricers = [_Pricer(plan, usage) for plan in plans]
    for pricer, location in zip(pricers, ("plan", "other_plan"), strict=False):
        pricer.check(location)
    known = sorted({meter.code for plan in plans for meter in plan.meters})
    unknown = sorted(set(usage.quantities) - set(known))
    if unknown:
        raise InvalidInput.at(
            "usage",
            f"unknown meter(s) {', '.join(unknown)}; "
            f"meters in the plan{'s' if len(plans) > 1 else ''}: {', '.join(known) or 'none'}",
        )
    return pricers


def _simulate(
    plans: Sequence[Plan],
    scenario: Scenario,
    runs: int,
    rng: np.random.Generator,
    on_run: RunDone | None = None,
) -> tuple[Forecast, ...]:
    """Run the Monte Carlo once and price every run's adopters under each plan."""
    if runs < 1:
        raise InvalidInput.at("runs", f"must be at least 1, got {runs}")
    pricers = _pricers(plans, scenario.usage)
    n, count = scenario.graph.node_count, scenario.periods
    random_spread = isinstance(scenario.threshold, RandomThresholds)
    fixed_adoption = None if random_spread else _adoption_periods(scenario, rng)
    sigma, meters = scenario.usage.noise_sigma, len(scenario.usage.quantities)
    adopters, new, churned = (np.zeros((runs, count), dtype=np.int64) for _ in range(3))
    revenue = [[[Decimal(0)] * count for _ in range(runs)] for _ in plans]
    for run in range(runs):
        adopt = fixed_adoption if fixed_adoption is not None else _adoption_periods(scenario, rng)
        last = np.full(n, count, dtype=np.int64)
        if scenario.churn:
            last = np.minimum(adopt + rng.geometric(scenario.churn, n) - 1, count)
        leaving = (adopt <= count) & (last < count)
        new[run] = np.bincount(adopt, minlength=count + 2)[1 : count + 1]
        churned[run] = np.bincount(last[leaving] + 1, minlength=count + 2)[1 : count + 1]
        adopters[run] = np.cumsum(new[run]) - np.cumsum(churned[run])
        for period, paying in enumerate(adopters[run].tolist()):
            factors = None
            if sigma:
                draws = rng.standard_normal((paying, meters))
                factors = np.exp(sigma * draws - sigma * sigma / 2)
            for pricer, by_run in zip(pricers, revenue, strict=True):
                by_run[run][period] = pricer.revenue(paying, factors)
        if on_run is not None:
            on_run(run + 1, runs)
    return tuple(
        Forecast(plan, scenario.mapping, adopters, new, churned, tuple(map(tuple, by_run)))
        for plan, by_run in zip(plans, revenue, strict=True)
    )


def forecast(
    plan: Plan,
    scenario: Scenario,
    runs: int,
    rng: np.random.Generator,
    on_run: RunDone | None = None,
) -> Forecast:
    """Adopters and revenue per billing period under ``plan``, over ``runs`` Monte Carlo runs.

    Parameters
    ----------
    plan
        The plan every adopter is billed on, one invoice per adopter and period.
    scenario
        The network, initial adopters, threshold rule, usage, periods and churn.
    runs
        Number of Monte Carlo runs (with nothing random, every run is the same).
    rng
        The only source of randomness; draws per run: thresholds (if random), then
        lifetimes (with churn), then usage noise period by period.
    on_run
        Told ``(runs done, runs)`` after each run; it changes nothing computed.

    Examples
    --------
    A path ``a - b - c``, ``q = 1/2``, ``a`` adopts first; a plan of 10.00 a period:

    >>> from iotbill.domain.catalog import FixedFee
    >>> from iotbill.domain.money import currency
    >>> plan = Plan("basic", "Basic", currency("USD"), "month", (FixedFee("fee", Decimal(10)),))
    >>> graph = Graph.from_edges([("a", "b"), ("b", "c")])
    >>> scenario = Scenario(graph, (0,), Fraction(1, 2), UsageProfile({}), periods=4)
    >>> result = forecast(plan, scenario, 1, np.random.default_rng(0))
    >>> [str(s.revenue.median) for s in result.summary()]
    ['10.00', '20.00', '30.00', '30.00']
    """
    (result,) = _simulate([plan], scenario, runs, rng, on_run)
    return result


def compare_forecasts(
    plan: Plan,
    other_plan: Plan,
    scenario: Scenario,
    runs: int,
    rng: np.random.Generator,
    on_run: RunDone | None = None,
) -> tuple[Forecast, Forecast]:
    """The same runs (same adopters, churn and usage draws) priced under two plans.

    Common random numbers: the difference between the plans is not blurred by two
    different samples. Plans must share a currency. The first forecast equals
    :func:`forecast` of ``plan`` with a generator seeded alike.
    """
    if plan.currency != other_plan.currency:
        raise InvalidInput.at(
            "other_plan",
            f"plan {other_plan.code} is in {other_plan.currency.code} but {plan.code} is in "
            f"{plan.currency.code}: compare plans in one currency",
        )
    first, second = _simulate([plan, other_plan], scenario, runs, rng, on_run)
    return first, second
