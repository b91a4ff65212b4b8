"""The razor-blade rules: a plan's consumables, the depletion forecast, order steps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from iotbill.domain.catalog import Consumable
from iotbill.domain.errors import Conflict, InvalidInput
from iotbill.domain.models.depletion import Reading, forecast_run_out
from iotbill.domain.models.orders import Order
from iotbill.domain.money import currency
from tests.unit.conftest import plan, problems_of

HEAD = """\
code: printer
currency: USD
interval: month
meters:
  - {code: ink_level, event_type: printer.ink, aggregation: latest, property: level}
  - {code: pages, event_type: printer.page, aggregation: count}
"""
NOON = datetime(2026, 3, 10, 12, tzinfo=UTC)


def test_the_template_loads_into_exact_values() -> None:
    template = Path(__file__).parents[2] / "examples" / "models" / "razor-blade.yaml"
    (ink,) = plan(template.read_text()).consumables
    assert ink == Consumable(
        code="ink",
        meter="ink_level",
        event_type="printer.ink",
        property="level",
        price=Decimal("24.90"),
        lead_time=timedelta(days=3),
        horizon=timedelta(days=30),
        window=timedelta(days=14),
        refill_rise=Decimal(20),
        name="Ink cartridge",
    )


def test_every_problem_of_the_consumables_is_reported_at_once_with_its_field() -> None:
    text = (
        HEAD
        + """\
consumables:
  - {code: ink, meter: ink_level, price: "24.905", lead_time_days: 45, refill_rise: 20}
  - {code: ink, meter: ink_level, price: "5", lead_time_days: 2, refill_rise: 5}
  - {code: drum, meter: toner, price: 0, lead_time_days: 0, refill_rise: -1, size: 3}
  - {code: paper, meter: pages, price: "5", lead_time_days: 2, horizon_days: 4000,
     window_days: 1.5, refill_rise: 5}
"""
    )
    with pytest.raises(InvalidInput) as error:
        plan(text)
    assert problems_of(error.value) == [
        "plan.yaml: consumables[0].price: 24.905 has more decimals than USD allows (2)",
        "plan.yaml: consumables[0].lead_time_days: must be at most horizon_days (30), not 45:"
        " a run-out is never forecast further ahead than the horizon",
        "plan.yaml: consumables[1].code: 'ink' is already used in consumables[0]",
        "plan.yaml: consumables[2].size: unknown field (expected one of: code, horizon_days,"
        " lead_time_days, meter, name, price, refill_rise, window_days)",
        "plan.yaml: consumables[2].meter: unknown meter 'toner' (meters: ink_level, pages)",
        "plan.yaml: consumables[2].price: must be greater than 0, not 0",
        "plan.yaml: consumables[2].lead_time_days: must be at least 1, not 0",
        "plan.yaml: consumables[2].refill_rise: must be greater than 0, not -1",
        "plan.yaml: consumables[3].meter: meter 'pages' has no property, so it reads no level",
        "plan.yaml: consumables[3].horizon_days: must be at most 3660, not 4000",
        "plan.yaml: consumables[3].window_days: must be a whole number",
    ]


def test_the_run_out_is_where_the_least_squares_line_reaches_zero() -> None:
    # 81, 69, 60 a day apart: the least-squares slope is (-1 x 81 + 1 x 60) / 2 = -10.5 a
    # day through the mean (70 at the middle day), so 0 is reached 70 / 10.5 = 6 2/3 days
    # after the middle reading: 9 March 12:00 + 6 d 16 h = 16 March 04:00.
    readings = [
        Reading(NOON - timedelta(days=2), Decimal(81)),
        Reading(NOON - timedelta(days=1), Decimal(69)),
        Reading(NOON, Decimal(60)),
    ]
    forecast = forecast_run_out(
        readings, refill_rise=Decimal(20), window=timedelta(days=14), as_of=NOON
    )
    assert (forecast.readings, forecast.daily_use, forecast.cycle_start) == (
        3,
        Decimal("10.5"),
        None,
    )
    assert forecast.run_out == datetime(2026, 3, 16, 4, tzinfo=UTC)


def test_a_refill_opens_a_cycle_and_only_the_window_is_fitted() -> None:
    # 30 and 10 before the refill; 100 (a rise of 90 > 20), then 95 and 97 (a rise of 2 is
    # noise), then 85. The window of 2 days keeps 97 and 85 only: 12 a day, 0 in 85/12 days.
    days = [(0, 30), (1, 10), (2, 100), (3, 95), (4, 97), (5, 85)]
    start = NOON - timedelta(days=5)
    readings = [Reading(start + timedelta(days=d), Decimal(v)) for d, v in days]
    forecast = forecast_run_out(
        readings, refill_rise=Decimal(20), window=timedelta(days=2), as_of=NOON
    )
    assert forecast.cycle_start == start + timedelta(days=2)
    assert (forecast.readings, forecast.daily_use) == (2, Decimal(12))
    assert forecast.run_out == NOON + timedelta(seconds=round(85 / 12 * 86_400))


@pytest.mark.parametrize(
    "levels", [[], [50], [50, 50], [40, 45]], ids=["none", "one", "flat", "rising"]
)
def test_no_run_out_without_a_falling_fit(levels: list[int]) -> None:
    readings = [
        Reading(NOON - timedelta(days=len(levels) - i), Decimal(v)) for i, v in enumerate(levels)
    ]
    forecast = forecast_run_out(
        readings, refill_rise=Decimal(20), window=timedelta(days=14), as_of=NOON
    )
    assert forecast.run_out is None


def test_an_order_moves_only_forward_and_never_back_in_time() -> None:
    order = Order(
        id="acme/order/1",
        customer_id="acme",
        device_id="printer-1",
        consumable="ink",
        description="Ink cartridge for printer-1",
        price=Decimal("24.90"),
        currency=currency("USD"),
        placed_at=NOON,
        run_out=NOON + timedelta(days=3),
        cycle_start=None,
        charge_id="acme/order/1/charge",
    )
    with pytest.raises(Conflict, match="placed: it cannot be delivered"):
        order.deliver(NOON)
    with pytest.raises(InvalidInput, match="at: must not be before"):
        order.ship(NOON - timedelta(seconds=1))
    shipped = order.ship(NOON + timedelta(hours=1))
    delivered = shipped.deliver(NOON + timedelta(days=1))
    assert (delivered.status, delivered.in_progress, delivered.changed_at) == (
        "delivered",
        False,
        NOON + timedelta(days=1),
    )
    with pytest.raises(Conflict, match="delivered: it cannot be cancelled"):
        delivered.cancel(NOON + timedelta(days=2))
