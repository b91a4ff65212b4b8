"""The reorder decision: exactly one order per run-out of a device's consumable.

At an instant ``as_of`` (the reorder job's), for one device and one of its
plan's consumables, in this order:

1. an order in progress (placed or shipped) blocks another:
   ``order_in_progress``, as Dash Replenishment answers ``ORDER_INPROGRESS``;
2. after an order (delivered or cancelled), the next needs a refill reported
   *after* that order was placed: until one is seen the run-out is ordered
   already (``ordered_for_this_run_out``). A cancelled order counts too: the
   customer declined that run-out's refill;
3. the depletion forecast (:mod:`~iotbill.domain.models.depletion`) of the
   current cycle: ``no_run_out`` when it forecasts none; ``run_out_later`` when
   the run-out is more than the lead time after ``as_of``;
4. otherwise ``run_out_within_lead_time``: place one order.

Every rule reads event *timestamps*, never arrival order, so running the job
again, more often, or after events were replayed or arrived out of order,
places nothing twice. The forecast horizon only bounds what is reported: a
run-out beyond it is shown as none (:attr:`ReorderDecision.run_out`).

Worked example (lead time 3 days): a printer's ink falls 10 points a day and
reads 60 at noon on 10 March, so it runs out at noon on 16 March. The job at
noon on 12 March sees 20 left, a run-out 4 days away: ``run_out_later``. At
noon on 13 March, 3 days away: ``run_out_within_lead_time``, one order. At
14 March, ``order_in_progress``; once delivered, ``ordered_for_this_run_out``
until a reading rises by more than the refill rise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from iotbill.domain.catalog import Consumable
from iotbill.domain.models.depletion import Forecast, Reading, forecast_run_out, refills
from iotbill.domain.models.orders import Order

Reason = Literal[
    "order_in_progress",
    "ordered_for_this_run_out",
    "no_run_out",
    "run_out_later",
    "run_out_within_lead_time",
]


@dataclass(frozen=True, slots=True)
class ReorderDecision:
    """Whether to ``place`` an order, why, and the forecast behind it (``None`` when an
    order already answers)."""

    reason: Reason
    forecast: Forecast | None = None
    horizon_end: datetime | None = None

    @property
    def place(self) -> bool:
        return self.reason == "run_out_within_lead_time"

    @property
    def run_out(self) -> datetime | None:
        """The forecast run-out, if within the forecast horizon."""
        if self.forecast is None or self.forecast.run_out is None:
            return None
        if self.horizon_end is not None and self.forecast.run_out > self.horizon_end:
            return None
        return self.forecast.run_out


def decide_reorder(
    readings: Sequence[Reading],
    orders: Sequence[Order],
    consumable: Consumable,
    as_of: datetime,
) -> ReorderDecision:
    """The decision at ``as_of`` for one device and ``consumable``, from its level
    ``readings`` (time order) and its earlier ``orders`` of that consumable."""
    seen = [reading for reading in readings if reading.at <= as_of]
    if any(order.in_progress for order in orders):
        return ReorderDecision("order_in_progress")
    if orders:
        last = max(orders, key=lambda order: (order.placed_at, order.id))
        if not any(at > last.placed_at for at in refills(seen, consumable.refill_rise)):
            return ReorderDecision("ordered_for_this_run_out")
    forecast = forecast_run_out(
        seen, refill_rise=consumable.refill_rise, window=consumable.window, as_of=as_of
    )
    horizon_end = as_of + consumable.horizon
    if forecast.run_out is None:
        return ReorderDecision("no_run_out", forecast, horizon_end)
    if forecast.run_out > as_of + consumable.lead_time:
        return ReorderDecision("run_out_later", forecast, horizon_end)
    return ReorderDecision("run_out_within_lead_time", forecast, horizon_end)
