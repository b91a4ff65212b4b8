"""Revenue forecasts: exact cases worked out by hand, then Monte Carlo checked statistically."""

from __future__ import annotations

import itertools
import math
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from iotbill.adapters.plan_files import parse_plan_text, read_plan
from iotbill.adoption.forecast import (
    Forecast,
    RandomThresholds,
    Scenario,
    ThresholdRule,
    UsageProfile,
    compare_forecasts,
    forecast,
    percentiles,
)
from iotbill.adoption.graph import Graph
from iotbill.domain.catalog import Plan
from iotbill.domain.errors import InvalidInput
from iotbill.domain.metering import AGGREGATIONS, PropertyKind

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

#: Per adopter and period, with miles=220.4 and water=150:
#:   base fee                                    10.00
#:   miles: 220.4 x 0.0125 = 2.755          ->    2.76  (half-up, this line alone)
#:   levy:  220.4 x 0.0125 = 2.755          ->    2.76
#:   water: 100 x 0.50 + 50 x 0.30 + 5.00   ->   70.00  (graduated: tier 2 entered)
#:   invoice total                               85.52  (rounding the exact sum, 85.51, is wrong)
FLEET_PLAN = """
code: fleet
currency: USD
interval: month
fixed_fees: [{code: base, amount: "10.00"}]
meters:
  - {code: miles, event_type: car.trip, aggregation: sum, property: miles}
  - {code: water, event_type: pump.flow, aggregation: sum, property: m3}
charges:
  - {code: miles, meter: miles, model: per_unit, unit_price: "0.0125"}
  - {code: levy, meter: miles, model: per_unit, unit_price: "0.0125"}
  - code: water
    meter: water
    model: graduated
    tiers:
      - {up_to: 100, unit_price: "0.50"}
      - {up_to: null, unit_price: "0.30", flat_fee: "5.00"}
"""
FLEET_USAGE = UsageProfile({"miles": Decimal("220.4"), "water": Decimal(150)})
PER_ADOPTER = Decimal("85.52")

#: A flat subscription to compare with: 40.00 a period, no usage charge.
FLAT_PLAN = """
code: flat
currency: USD
interval: month
fixed_fees: [{code: subscription, amount: "40.00"}]
"""


def plan_of(text: str) -> Plan:
    return parse_plan_text(text, "plan.yaml")


def path_graph(length: int) -> Graph:
    names = [chr(ord("a") + i) for i in range(length)]
    return Graph.from_edges(itertools.pairwise(names))


def scenario(
    graph: Graph,
    seeds: list[str],
    *,
    threshold: ThresholdRule = Fraction(1, 2),
    usage: UsageProfile = FLEET_USAGE,
    periods: int = 5,
    rounds_per_period: int = 1,
    churn: float = 0.0,
) -> Scenario:
    indices = tuple(int(i) for i in graph.index_of(seeds))
    return Scenario(graph, indices, threshold, usage, periods, rounds_per_period, churn)


def run(plan: Plan, setup: Scenario, runs: int = 1, seed: int = 0) -> Forecast:
    return forecast(plan, setup, runs, np.random.default_rng(seed))


def medians(result: Forecast, field: str) -> list[object]:
    return [getattr(row, field).median for row in result.summary()]


def test_path_graph_adopters_and_revenue_by_hand() -> None:
    # a adopts in period 1; b, c, d switch in rounds 1, 2, 3, so in periods 2, 3, 4.
    result = run(plan_of(FLEET_PLAN), scenario(path_graph(4), ["a"]))
    assert result.adopters.tolist() == [[1, 2, 3, 4, 4]]
    assert result.new_adopters.tolist() == [[1, 1, 1, 1, 0]]
    assert result.churned.tolist() == [[0, 0, 0, 0, 0]]
    assert result.revenue == (
        tuple(Decimal(text) for text in ("85.52", "171.04", "256.56", "342.08", "342.08")),
    )
    assert result.total_revenue().median == Decimal("1197.28")
    assert result.plan.code == "fleet"


@pytest.mark.parametrize(
    ("rounds_per_period", "periods", "expected"),
    [
        (1, 2, [1, 2]),  # c and d would adopt in periods 3 and 4: beyond the horizon
        (2, 3, [2, 4, 4]),  # a, b (round 1) in period 1; c, d (rounds 2, 3) in period 2
        (3, 3, [3, 4, 4]),  # rounds 0-2 in period 1, round 3 in period 2
    ],
)
def test_rounds_map_to_periods(rounds_per_period: int, periods: int, expected: list[int]) -> None:
    setup = scenario(path_graph(4), ["a"], periods=periods, rounds_per_period=rounds_per_period)
    result = run(plan_of(FLEET_PLAN), setup)
    assert result.adopters.tolist() == [expected]
    assert medians(result, "revenue") == [PER_ADOPTER * count for count in expected]
    assert f"1 + r // {rounds_per_period}" in result.mapping


def test_per_node_thresholds() -> None:
    # b needs half of its two neighbours; c needs both, and d never adopts.
    thresholds = [Fraction(1), Fraction(1, 2), Fraction(1), Fraction(1)]
    result = run(plan_of(FLEET_PLAN), scenario(path_graph(4), ["a"], threshold=thresholds))
    assert result.adopters.tolist() == [[1, 2, 2, 2, 2]]


def test_churned_adopters_stop_paying_but_still_spread_the_cascade() -> None:
    # With churn 1 every adopter pays exactly one period, yet the cascade reaches d.
    result = run(plan_of(FLEET_PLAN), scenario(path_graph(4), ["a"], churn=1.0))
    assert result.new_adopters.tolist() == [[1, 1, 1, 1, 0]]
    assert result.adopters.tolist() == [[1, 1, 1, 1, 0]]
    assert result.churned.tolist() == [[0, 1, 1, 1, 1]]
    assert medians(result, "revenue") == [PER_ADOPTER] * 4 + [Decimal(0)]
    assert "stays an adopter in the cascade" in result.mapping


def test_minimum_charge_true_up_comes_from_the_rating_code() -> None:
    # 10 m3 cost 5.00, under the 10.00 minimum: a 5.00 true-up line; plus the 31.00 fee.
    plan = read_plan(str(EXAMPLES / "pump-outcome.yaml"))
    usage = UsageProfile({"water": Decimal(10)})
    result = run(plan, scenario(path_graph(2), ["a", "b"], usage=usage, periods=1))
    assert result.revenue == ((Decimal("82.00"),),)


@pytest.mark.parametrize("aggregation", sorted(AGGREGATIONS))
def test_every_meter_sees_exactly_the_profile_quantity(aggregation: str) -> None:
    counts = AGGREGATIONS[aggregation].property_kind is not PropertyKind.NUMBER
    quantity = Decimal(7) if counts else Decimal("12.345")
    prop = "" if aggregation == "count" else ", property: value"
    plan = plan_of(
        f"""
code: probe
currency: KWD
interval: month
meters:
  - {{code: probe, event_type: probe, aggregation: {aggregation}{prop},
     filters: {{kind: [export, import]}}, group_by: site}}
charges:
  - {{code: probe, meter: probe, model: per_unit, unit_price: "1"}}
"""
    )
    usage = UsageProfile({"probe": quantity})
    result = run(plan, scenario(path_graph(2), ["a"], usage=usage, periods=1))
    assert result.revenue == ((quantity,),)  # one adopter, 1 KWD per unit, 3 decimals


def test_percentage_charges_see_one_event_per_period() -> None:
    # 12.5% of 80.00 sold, plus 0.05 for the one event: 10.05 a period.
    plan = plan_of(
        """
code: share
currency: EUR
interval: month
meters: [{code: sales, event_type: till.sale, aggregation: sum, property: amount}]
charges: [{code: share, meter: sales, model: percentage, rate: "12.5", fixed_fee: "0.05"}]
"""
    )
    usage = UsageProfile({"sales": Decimal(80)})
    result = run(plan, scenario(path_graph(2), ["a"], usage=usage, periods=2))
    assert result.revenue == ((Decimal("10.05"), Decimal("20.10")),)


def test_a_free_amount_applies_to_each_periods_quantity() -> None:
    # 50.00 of each period's 80.00 is free: 12.5% of 30.00, plus 0.05: 3.80 a period.
    plan = plan_of(
        """
code: share
currency: EUR
interval: month
meters: [{code: sales, event_type: till.sale, aggregation: sum, property: amount}]
charges: [{code: share, meter: sales, model: percentage, rate: "12.5", fixed_fee: "0.05",
           free_amount: "50"}]
"""
    )
    usage = UsageProfile({"sales": Decimal(80)})
    result = run(plan, scenario(path_graph(2), ["a"], usage=usage, periods=2))
    assert result.revenue == ((Decimal("3.80"), Decimal("7.60")),)


def test_count_meters_need_whole_numbers_and_price_by_tier() -> None:
    plan = read_plan(str(ROOT / "src/iotbill/demo/plans/vending-jp.yaml"))
    # 600 sales: 500 x 3 + 100 x 2.5 = 1750; 450 MB: 200 free, 3 started packages x 150 = 450;
    # connectivity 500. JPY has no minor unit.
    usage = UsageProfile({"sales": Decimal(600), "data": Decimal(450)})
    result = run(plan, scenario(path_graph(2), ["a"], usage=usage, periods=1))
    assert result.revenue == ((Decimal(2700),),)
    with pytest.raises(InvalidInput, match=r"sales: counts events"):
        run(plan, scenario(path_graph(2), ["a"], usage=UsageProfile({"sales": Decimal("1.5")})))


def churn_setup(nodes: int, churn: float) -> Scenario:
    graph = Graph.from_edge_arrays(nodes, np.arange(nodes - 1), np.arange(1, nodes))
    return Scenario(graph, tuple(range(nodes)), Fraction(1), FLEET_USAGE, 4, churn=churn)


def test_churn_is_reproducible_from_the_seed() -> None:
    plan = plan_of(FLEET_PLAN)
    first = run(plan, churn_setup(60, 0.3), runs=5, seed=11)
    again = run(plan, churn_setup(60, 0.3), runs=5, seed=11)
    other = run(plan, churn_setup(60, 0.3), runs=5, seed=12)
    assert np.array_equal(first.adopters, again.adopters)
    assert first.revenue == again.revenue
    assert not np.array_equal(first.adopters, other.adopters)


def test_each_run_is_reported_and_reporting_changes_nothing() -> None:
    plan = plan_of(FLEET_PLAN)
    told: list[tuple[int, int]] = []
    reported = forecast(
        plan, churn_setup(60, 0.3), 3, np.random.default_rng(11), lambda *done: told.append(done)
    )
    assert told == [(1, 3), (2, 3), (3, 3)]
    quiet = run(plan, churn_setup(60, 0.3), runs=3, seed=11)
    assert np.array_equal(reported.adopters, quiet.adopters)
    assert reported.revenue == quiet.revenue


def test_churn_matches_geometric_survival_within_five_standard_errors() -> None:
    # Every node adopts in period 1; each stays through period t with chance (1 - p)^(t-1).
    nodes, churn, runs = 400, 0.25, 40
    result = run(plan_of(FLEET_PLAN), churn_setup(nodes, churn), runs=runs, seed=3)
    for period in range(1, 4):
        survival = (1 - churn) ** period
        expected = nodes * survival
        error = math.sqrt(nodes * survival * (1 - survival) / runs)
        assert abs(result.adopters[:, period].mean() - expected) < 5 * error
        left = nodes * (1 - churn) ** (period - 1) * churn
        left_error = math.sqrt(left * (1 - left / nodes) / runs)
        assert abs(result.churned[:, period].mean() - left) < 5 * left_error
    paid = [tuple(PER_ADOPTER * count for count in row) for row in result.adopters.tolist()]
    assert list(result.revenue) == paid


def test_random_thresholds_convert_the_middle_of_a_path_half_the_time() -> None:
    # b has two neighbours: with theta uniform on (0, 1] it needs one of them (theta <= 1/2)
    # or both; c, with one neighbour, follows b. So b and c adopt together, with chance 1/2.
    runs = 2000
    setup = scenario(path_graph(3), ["a"], threshold=RandomThresholds(), periods=3)
    result = run(plan_of(FLEET_PLAN), setup, runs=runs, seed=5)
    took = result.adopters[:, 1] - 1
    assert set(took.tolist()) == {0, 1}
    assert abs(took.mean() - 0.5) < 5 * math.sqrt(0.25 / runs)
    assert np.array_equal(result.adopters[:, 2], 1 + 2 * took)


def test_usage_noise_has_mean_one_and_every_amount_is_in_cents() -> None:
    plan = plan_of(
        """
code: metered
currency: USD
interval: month
meters: [{code: kwh, event_type: energy, aggregation: sum, property: kwh}]
charges: [{code: kwh, meter: kwh, model: per_unit, unit_price: "1"}]
"""
    )
    sigma, nodes, runs = 0.5, 50, 20
    usage = UsageProfile({"kwh": Decimal(100)}, noise_sigma=sigma)
    graph = Graph.from_edge_arrays(nodes, np.arange(nodes - 1), np.arange(1, nodes))
    setup = Scenario(graph, tuple(range(nodes)), Fraction(1), usage, periods=2)
    result = run(plan, setup, runs=runs, seed=9)
    amounts = [amount for by_period in result.revenue for amount in by_period]
    assert all(amount == amount.quantize(Decimal("0.01")) for amount in amounts)
    draws = nodes * runs * 2
    mean = float(sum(amounts)) / draws
    error = 100 * math.sqrt(math.exp(sigma**2) - 1) / math.sqrt(draws)
    assert abs(mean - 100) < 5 * error
    for row in result.summary():
        assert row.revenue.p10 < row.revenue.median < row.revenue.p90


def test_percentiles_are_nearest_rank_and_ordered() -> None:
    assert percentiles([5, 1, 4, 2, 3]) == percentiles([1, 2, 3, 4, 5])
    summary = percentiles(list(range(10, 0, -1)))
    assert (summary.p10, summary.median, summary.p90) == (1, 5, 9)
    assert percentiles([Decimal("2.50")]).p90 == Decimal("2.50")
    setup = scenario(path_graph(6), ["a"], threshold=RandomThresholds(), churn=0.2, periods=4)
    result = run(plan_of(FLEET_PLAN), setup, runs=30, seed=1)
    for row in result.summary():
        for values in (row.adopters, row.new_adopters, row.churned, row.revenue):
            assert values.p10 <= values.median <= values.p90
    total = result.total_revenue()
    assert total.p10 <= total.median <= total.p90


def test_two_plans_share_every_draw() -> None:
    fleet, flat = plan_of(FLEET_PLAN), plan_of(FLAT_PLAN)
    noisy = UsageProfile(dict(FLEET_USAGE.quantities), noise_sigma=0.4)
    setup = scenario(
        path_graph(8), ["a"], threshold=RandomThresholds(), usage=noisy, churn=0.2, periods=6
    )
    first, second = compare_forecasts(fleet, flat, setup, 25, np.random.default_rng(4))
    assert np.array_equal(first.adopters, second.adopters)
    assert np.array_equal(first.churned, second.churned)
    assert second.revenue == tuple(
        tuple(Decimal("40.00") * count for count in row) for row in first.adopters.tolist()
    )
    alone = forecast(fleet, setup, 25, np.random.default_rng(4))
    assert alone.revenue == first.revenue
    assert first.adopters.min() < first.adopters.max()  # the runs really differ


def test_plans_in_different_currencies_are_not_compared() -> None:
    jpy = plan_of(FLAT_PLAN.replace("USD", "JPY").replace('"40.00"', '"4000"'))
    with pytest.raises(InvalidInput) as caught:
        compare_forecasts(
            plan_of(FLEET_PLAN), jpy, scenario(path_graph(2), ["a"]), 1, np.random.default_rng(0)
        )
    assert caught.value.problems[0].location == "other_plan"


@pytest.mark.parametrize(
    ("change", "location"),
    [
        ({"periods": 0}, "periods"),
        ({"rounds_per_period": 0}, "rounds_per_period"),
        ({"churn": 1.5}, "churn"),
        ({"churn": -0.1}, "churn"),
        ({"usage": UsageProfile({"flow": Decimal(1)})}, "usage"),
        ({"usage": UsageProfile({"miles": Decimal(-1)})}, "usage"),
        ({"threshold": Fraction(3, 2)}, "threshold"),
    ],
)
def test_bad_input_names_the_parameter(change: dict[str, object], location: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        run(plan_of(FLEET_PLAN), scenario(path_graph(3), ["a"], **change))
    assert caught.value.problems[0].location == location


def test_bad_profiles_and_plans_are_refused() -> None:
    with pytest.raises(InvalidInput, match="noise_sigma"):
        UsageProfile({}, noise_sigma=-1.0)
    with pytest.raises(InvalidInput, match="more than 9 fractional digits"):
        UsageProfile({"miles": Decimal("0.0000000001")})
    dynamic = plan_of(
        """
code: spot
currency: EUR
interval: month
meters: [{code: kwh, event_type: energy, aggregation: sum, property: kwh}]
charges: [{code: kwh, meter: kwh, model: dynamic, amount_property: cost}]
"""
    )
    with pytest.raises(InvalidInput, match="cannot forecast") as caught:
        run(dynamic, scenario(path_graph(2), ["a"], usage=UsageProfile({"kwh": Decimal(1)})))
    assert caught.value.problems[0].location == "plan"
    share = read_plan(str(ROOT / "src/iotbill/demo/plans/battery-share.yaml"))
    usage = UsageProfile({"grid_sales": Decimal(100)})
    with pytest.raises(InvalidInput, match="'share' exempts its first events"):
        run(share, scenario(path_graph(2), ["a"], usage=usage))
    limited = plan_of(
        """
code: payments
currency: EUR
interval: month
meters: [{code: volume, event_type: payment, aggregation: sum, property: eur}]
charges: [{code: fees, meter: volume, model: percentage, rate: "1.2", max_per_event: "5"}]
"""
    )
    usage = UsageProfile({"volume": Decimal(100)})
    with pytest.raises(InvalidInput, match="'fees' limits what each event pays"):
        run(limited, scenario(path_graph(2), ["a"], usage=usage))
    with pytest.raises(InvalidInput, match="runs"):
        forecast(plan_of(FLEET_PLAN), scenario(path_graph(2), ["a"]), 0, np.random.default_rng())
