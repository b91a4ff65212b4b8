"""The service model's rules: a plan's service terms and what a visit bills."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from iotbill.domain.catalog import AlertRule, Part, ServiceTerms
from iotbill.domain.errors import InvalidInput
from iotbill.domain.models.alert_rules import first_incident
from iotbill.domain.models.depletion import Reading
from iotbill.domain.models.sla import CreditTier, SlaTerms
from iotbill.domain.models.work_orders import billed_hours
from tests.unit.conftest import plan, problems_of

HEAD = """\
code: pump
currency: USD
interval: month
meters:
  - {code: vibration, event_type: pump.vibration, aggregation: max, property: mm_s}
  - {code: starts, event_type: pump.start, aggregation: count}
"""
RULE = AlertRule(
    "vibration", "vibration", "pump.vibration", "mm_s", Decimal(7), timedelta(minutes=10)
)
TEN = datetime(2026, 3, 2, 10, tzinfo=UTC)


def test_the_template_loads_into_exact_values() -> None:
    template = Path(__file__).parents[2] / "examples" / "models" / "service.yaml"
    assert plan(template.read_text()).service == ServiceTerms(
        Decimal("90.00"),
        timedelta(minutes=15),
        (
            Part("bearing", Decimal("18.50"), "Bearing 6204"),
            Part("seal", Decimal("7.25"), "Shaft seal"),
        ),
        (
            AlertRule(
                "vibration",
                "vibration",
                "pump.vibration",
                "mm_s",
                Decimal(7),
                timedelta(minutes=10),
                "Vibration above 7 mm/s for 10 minutes",
            ),
        ),
        SlaTerms(
            timedelta(hours=4),
            (
                CreditTier(timedelta(hours=4), Decimal(10)),
                CreditTier(timedelta(hours=8), Decimal(25)),
            ),
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
        "plan.yaml: service.overtime: unknown field (expected one of: alerts,"
        " labour_increment_minutes, labour_rate, parts, sla)",
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


def test_every_problem_of_the_alert_rules_is_reported_at_once_with_its_field() -> None:
    text = (
        HEAD
        + """\
service:
  labour_rate: "90.00"
  alerts:
    - {code: shake, meter: vibrations, above: 7, window_minutes: 10}
    - {code: shake, meter: starts, above: x, window_minutes: 0}
    - {code: heat, meter: vibration, window_minutes: 20000, colour: red}
"""
    )
    with pytest.raises(InvalidInput) as error:
        plan(text)
    assert problems_of(error.value) == [
        "plan.yaml: service.alerts[0].meter: unknown meter 'vibrations'"
        " (meters: starts, vibration)",
        "plan.yaml: service.alerts[1].meter: meter 'starts' has no property to watch",
        "plan.yaml: service.alerts[1].above: 'x' is not a plain decimal number (like -12.50)",
        "plan.yaml: service.alerts[1].window_minutes: must be at least 1, not 0",
        "plan.yaml: service.alerts[1].code: 'shake' is already used in service.alerts[0]",
        "plan.yaml: service.alerts[2].colour: unknown field (expected one of: above, code,"
        " meter, summary, window_minutes)",
        "plan.yaml: service.alerts[2].above: is required",
        "plan.yaml: service.alerts[2].window_minutes: must be at most 10080, not 20000",
    ]


@pytest.mark.parametrize(
    ("values", "after", "start"),
    [
        (["6", "8", "9", "7.5", "6.9"], None, 5),  # 10:05 to 10:15: 10 minutes, an incident
        (["6", "8", "9", "7.0", "8"], None, None),  # exactly 7 is not above: runs of 5 minutes
        (["8", "8", "8", "8"], None, 0),  # from the first reading
        (["8", "8", "8", "8"], 0, 5),  # after 10:00: 10:05 to 10:15
        (["8", "8", "8", "8"], 5, None),  # after 10:05: 10:10 to 10:15 is 5 minutes
    ],
)
def test_an_incident_is_a_run_above_the_threshold_lasting_the_window(
    values: list[str], after: int | None, start: int | None
) -> None:
    readings = [Reading(TEN + timedelta(minutes=5 * i), Decimal(v)) for i, v in enumerate(values)]
    since = None if after is None else TEN + timedelta(minutes=after)
    expected = None if start is None else TEN + timedelta(minutes=start)
    assert first_incident(readings, RULE, after=since) == expected
