"""Revenue forecasts under the outcome-commitment and pay-per-mile templates."""

from __future__ import annotations

from decimal import Decimal

from tests.adoption.test_forecast import path_graph, run, scenario
from tests.conftest import ROOT

from iotbill.adapters.plan_files import read_plan
from iotbill.adoption.forecast import UsageProfile

TEMPLATES = ROOT / "examples" / "models"


def test_an_adopter_short_of_the_commitment_pays_the_true_up() -> None:
    plan = read_plan(str(TEMPLATES / "outcome-commitment.yaml"))
    # 100 m3 x 0.50 = 50.00 of water, trued up to 100.00; with 25.00 of monitoring, 125.00
    # per adopter; 1,000 m3 (500.00) is credited down to 400.00: 425.00.
    for m3, each in ((100, "125.00"), (1000, "425.00")):
        usage = UsageProfile({"water": Decimal(m3)})
        result = run(plan, scenario(path_graph(2), ["a", "b"], usage=usage, periods=1))
        assert result.revenue == ((2 * Decimal(each),),)


def test_a_profile_of_miles_is_billed_as_given_the_cap_counted_already() -> None:
    plan = read_plan(str(TEMPLATES / "pay-per-mile.yaml"))
    # 400 billed miles (the profile's quantity, not one day's 250) x 0.032 = 12.80; 3 harsh
    # brakes per 400 miles driven is 0.75 per 100, factor 1.00; + 30.00 = 42.80.
    usage = UsageProfile(
        {"miles": Decimal(400), "driven": Decimal(400), "harsh_brakes": Decimal(3)}
    )
    result = run(plan, scenario(path_graph(2), ["a"], usage=usage, periods=1))
    assert result.revenue == ((Decimal("42.80"),),)
