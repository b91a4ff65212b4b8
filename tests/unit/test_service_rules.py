"""The service model's rules: a plan's service terms and what a visit bills."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from iotbill.domain.catalog import Part, ServiceTerms
from iotbill.domain.errors import InvalidInput
from iotbill.domain.models.work_orders import billed_hours
from tests.unit.conftest import plan, problems_of

HEAD = "code: pump\ncurrency: USD\ninterval: month\n"


def test_the_template_loads_into_exact_values() -> None:
    template = Path(__file__).parents[2] / "examples" / "models" / "service.yaml"
    assert plan(template.read_text()).service == ServiceTerms(
        Decimal("90.00"),
        timedelta(minutes=15),
        (
            Part("bearing", Decimal("18.50"), "Bearing 6204"),
            Part("seal", Decimal("7.25"), "Shaft seal"),
        ),
    )


def test_every_problem_of_the_service_terms_is_reported_at_once_with_its_field() -> None:
    text = (
        HEAD
        + """\
service:
  labour_rate: "90.005"
  labour_increment_minutes: 2000
  overtime: 2
  parts:
    - {code: bearing, price: "18.50"}
    - {code: bearing, price: "0"}
    - {name: Seal}
"""
    )
    with pytest.raises(InvalidInput) as error:
        plan(text)
    assert problems_of(error.value) == [
        "plan.yaml: service.overtime: unknown field (expected one of: labour_increment_minutes,"
        " labour_rate, parts)",
        "plan.yaml: service.labour_rate: 90.005 has more decimals than USD allows (2)",
        "plan.yaml: service.labour_increment_minutes: must be at most 1440, not 2000",
        "plan.yaml: service.parts[1].price: must be greater than 0, not 0",
        "plan.yaml: service.parts[1].code: 'bearing' is already used in service.parts[0]",
        "plan.yaml: service.parts[2].code: is required",
        "plan.yaml: service.parts[2].price: is required",
    ]


@pytest.mark.parametrize(
    ("minutes", "hours"),
    [(0, "0"), (1, "0.25"), (15, "0.25"), (16, "0.5"), (75, "1.25"), (80, "1.5")],
)
def test_time_on_site_counts_in_started_blocks(minutes: int, hours: str) -> None:
    terms = ServiceTerms(Decimal("90.00"), timedelta(minutes=15))
    assert billed_hours(timedelta(minutes=minutes), terms) == Decimal(hours)
