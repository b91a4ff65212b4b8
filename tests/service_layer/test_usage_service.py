"""Stored usage and the upcoming invoice, on every store: both say what the bill run bills.

Events are generated (seeded), so the agreement is checked over many shapes of
usage rather than one hand-picked example.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from iotbill.adapters.clock import FrozenClock
from iotbill.adapters.plan_files import parse_plan_document
from iotbill.domain.errors import Conflict, InvalidInput, NotFound
from iotbill.domain.events import SourcedEvent, UsageEvent
from iotbill.domain.invoices import Invoice
from iotbill.services.billing import bill_run
from iotbill.services.catalog import apply_plan
from iotbill.services.customers import add_device
from iotbill.services.ingest import ingest
from iotbill.services.ports import Tenant, UnitOfWork, UnitOfWorkFactory
from iotbill.services.subscriptions import create_subscription
from iotbill.services.upcoming import upcoming_invoice
from iotbill.services.usage import usage
from tests.service_layer.documents import add_customers

# Local midnights in New York (UTC-5 in winter).
NY_DEC_1 = datetime(2025, 12, 1, 5, tzinfo=UTC)
NY_JAN_1 = datetime(2026, 1, 1, 5, tzinfo=UTC)
NY_FEB_1 = datetime(2026, 2, 1, 5, tzinfo=UTC)

PUMPS = """\
code: pumps
name: Pumps
currency: USD
interval: month
fixed_fees:
  - {code: base, name: Monitoring, amount: "31.00", timing: advance}
meters:
  - {code: water, event_type: pump.flow, aggregation: sum, property: m3}
  - {code: peak, event_type: pump.flow, aggregation: max, property: bar, group_by: site}
  - {code: starts, event_type: pump.start, aggregation: count}
charges:
  - code: water
    name: Water
    meter: water
    model: graduated
    tiers:
      - {up_to: 100, unit_price: "0.50"}
      - {up_to: null, unit_price: "0.30"}
  - {code: peak, name: Peak pressure, meter: peak, model: per_unit, unit_price: "1.25"}
  - {code: starts, name: Starts, meter: starts, model: per_unit, unit_price: "0.07"}
"""


class Pumps:
    """A tenant where acme (New York, 8.875 % tax) has pumps p1 and p2 on plan pumps."""

    def __init__(self, store: UnitOfWorkFactory) -> None:
        self.store = store
        self.code = f"u-{uuid.uuid4().hex[:10]}"
        self.clock = FrozenClock(datetime(2025, 11, 20, tzinfo=UTC))
        with store("default") as unit:
            unit.tenants.add(Tenant(self.code, f"Tenant {self.code}"))
            unit.commit()
        add_customers(self.uow)
        apply_plan(self.uow(), parse_plan_document(PUMPS, "pumps.yaml"), self.clock)
        for pump in ("p1", "p2"):
            add_device(self.uow(), pump, customer="acme", start=date(2025, 12, 1))
        self.subscription = create_subscription(
            self.uow(), customer="acme", plan="pumps", start=date(2025, 12, 1)
        ).id
        self._number = 0

    def uow(self) -> UnitOfWork:
        return self.store(self.code)

    def send(self, events: list[UsageEvent], *, at: datetime) -> None:
        self.clock.set(at)
        sourced = [SourcedEvent(event, line) for line, event in enumerate(events, start=1)]
        report = ingest(self.store, self.code, sourced, clock=self.clock)
        assert report.rejected == ()

    def generated(self, seed: int, span: tuple[datetime, datetime], count: int) -> list[UsageEvent]:
        """``count`` flow and start events from both pumps, spread over ``span``."""
        rng = random.Random(seed)
        seconds = int((span[1] - span[0]).total_seconds())
        events = []
        for _ in range(count):
            self._number += 1
            at = span[0] + timedelta(seconds=rng.randrange(seconds))
            device = rng.choice(["p1", "p2"])
            if rng.random() < 0.25:
                events.append(UsageEvent(f"e{self._number}", "pump.start", device, at, {}))
                continue
            properties = {
                "m3": Decimal(rng.randrange(0, 5000)) / 1000,
                "bar": Decimal(rng.randrange(100, 900)) / 100,
                "site": rng.choice(["north", "south"]),
            }
            events.append(UsageEvent(f"e{self._number}", "pump.flow", device, at, properties))
        return events

    def bill(self, at: datetime) -> None:
        self.clock.set(at)
        report = bill_run(self.store, self.code, as_of=at, now=at)
        assert report.held == []

    def invoice(self, id: str) -> Invoice:
        with self.uow() as unit:
            return unit.invoices.get(id)


@pytest.fixture
def pumps(store: UnitOfWorkFactory) -> Pumps:
    return Pumps(store)


def _quantities(invoice: Invoice) -> dict[tuple[str, str | None], Decimal]:
    return {
        (line.charge, line.group): line.quantity for line in invoice.lines if line.kind == "usage"
    }


@pytest.mark.parametrize("seed", [1, 2])
def test_usage_over_a_period_is_what_the_bill_run_meters(pumps: Pumps, seed: int) -> None:
    pumps.send(pumps.generated(seed, (NY_JAN_1, NY_FEB_1), 300), at=NY_JAN_1 + timedelta(days=31))
    pumps.bill(NY_FEB_1)
    billed = _quantities(pumps.invoice(f"{pumps.subscription}/close/{NY_JAN_1.isoformat()}"))

    report = usage(pumps.uow(), customer="acme", start=date(2026, 1, 1), end=date(2026, 2, 1))

    measured = {(row.meter, row.group): row.quantity for row in report.rows}
    assert measured == billed
    assert set(measured) == {
        ("water", None),
        ("peak", "north"),
        ("peak", "south"),
        ("starts", None),
    }
    assert report.period.start == NY_JAN_1 and report.period.end == NY_FEB_1


def test_daily_buckets_add_up_to_the_month_a_sum_adds_a_max_takes_the_largest(
    pumps: Pumps,
) -> None:
    pumps.send(pumps.generated(7, (NY_JAN_1, NY_FEB_1), 200), at=NY_FEB_1)
    month = usage(pumps.uow(), customer="acme", start=date(2026, 1, 1), end=date(2026, 2, 1))
    days = usage(
        pumps.uow(), customer="acme", start=date(2026, 1, 1), end=date(2026, 2, 1), by="day"
    )
    whole = {(row.meter, row.group): row.quantity for row in month.rows}

    buckets = sorted({row.bucket for row in days.rows}, key=lambda bucket: bucket.start)
    assert len(buckets) == 31
    assert buckets[0].start == NY_JAN_1 and buckets[-1].end == NY_FEB_1
    assert all(bucket.duration == timedelta(days=1) for bucket in buckets)  # no DST in January
    water = [row.quantity for row in days.rows if row.meter == "water"]
    starts = [row.quantity for row in days.rows if row.meter == "starts"]
    assert len(water) == len(starts) == 31  # a meter without group_by: a row per bucket
    assert sum(water, Decimal(0)) == whole[("water", None)]
    assert sum(starts, Decimal(0)) == whole[("starts", None)]
    for site in ("north", "south"):
        peaks = [row.quantity for row in days.rows if row.meter == "peak" and row.group == site]
        assert max(peaks) == whole[("peak", site)]


def test_usage_of_one_device_and_one_meter(pumps: Pumps) -> None:
    jan_5 = NY_JAN_1 + timedelta(days=4)
    pumps.send(
        [
            UsageEvent("a", "pump.flow", "p1", jan_5, {"m3": "1.5", "bar": "2", "site": "north"}),
            UsageEvent("b", "pump.flow", "p2", jan_5, {"m3": "4", "bar": "3", "site": "north"}),
            UsageEvent(
                "c",
                "pump.flow",
                "p1",
                jan_5 + timedelta(hours=30),
                {"m3": "0.25", "bar": "1", "site": "south"},
            ),
        ],
        at=jan_5 + timedelta(days=2),
    )

    report = usage(
        pumps.uow(),
        customer="acme",
        device="p1",
        meter="water",
        start=date(2026, 1, 5),
        end=date(2026, 1, 8),
        by="day",
    )

    # p1 only: 1.5 m3 on the 5th, 0.25 on the 6th (local days), nothing on the 7th.
    assert [(row.meter, row.bucket.start.day, str(row.quantity)) for row in report.rows] == [
        ("water", 5, "1.5"),
        ("water", 6, "0.25"),
        ("water", 7, "0"),
    ]


def test_every_problem_of_a_usage_request_is_reported_at_once(pumps: Pumps) -> None:
    with pytest.raises(InvalidInput) as raised:
        usage(
            pumps.uow(),
            customer="acme",
            device="p9",
            meter="volume",
            start=date(2026, 2, 1),
            end=date(2026, 1, 1),
            by="week",
        )

    assert [str(problem) for problem in raised.value.problems] == [
        "to: 2026-01-01T05:00:00+00:00 must be after from (2026-02-01T05:00:00+00:00)",
        "by: must be one of hour, day, month, not 'week'",
        "meter: unknown meter 'volume' (the customer's plans meter water, peak, starts)",
        "device: unknown device 'p9'",
    ]


def test_a_customer_without_subscription_has_no_meter(pumps: Pumps) -> None:
    with pytest.raises(InvalidInput) as raised:
        usage(pumps.uow(), customer="berlin", start=date(2026, 1, 1), end=date(2026, 2, 1))

    assert str(raised.value) == (
        "customer: 'berlin' has no subscription, so no meter to measure usage with"
    )


def test_hourly_buckets_beyond_the_bound_are_refused(pumps: Pumps) -> None:
    with pytest.raises(InvalidInput) as raised:
        usage(pumps.uow(), customer="acme", start=date(2025, 1, 1), end=date(2027, 1, 1), by="hour")

    assert str(raised.value).startswith("by: hour buckets from 2025-01-01T05:00:00+00:00")
    assert "more than 10,000" in str(raised.value)


def _same_invoice(upcoming: Invoice, issued: Invoice) -> None:
    assert upcoming.id == issued.id
    assert upcoming.period == issued.period
    assert upcoming.lines == issued.lines
    assert (upcoming.subtotal, upcoming.tax, upcoming.total) == (
        issued.subtotal,
        issued.tax,
        issued.total,
    )


@pytest.mark.parametrize("seed", [3, 4])
def test_the_upcoming_invoice_is_the_invoice_the_bill_run_issues(pumps: Pumps, seed: int) -> None:
    jan_20 = NY_JAN_1 + timedelta(days=19)
    pumps.send(pumps.generated(seed, (NY_JAN_1, jan_20), 200), at=jan_20)
    count_before = _invoice_count(pumps)

    upcoming = upcoming_invoice(pumps.uow(), pumps.subscription, now=jan_20)

    assert _invoice_count(pumps) == count_before  # nothing written
    assert upcoming.status == "draft" and upcoming.number is None
    assert upcoming.issued_at == NY_FEB_1
    assert [line.kind for line in upcoming.lines] == [
        "usage",  # water
        "usage",  # peak, north
        "usage",  # peak, south
        "usage",  # starts
        "fixed_fee",  # February's monitoring, in advance
    ]
    pumps.bill(NY_FEB_1)  # no more events arrived
    _same_invoice(upcoming, pumps.invoice(upcoming.id))


def test_the_upcoming_invoice_carries_the_late_adjustments_the_bill_run_adds(
    pumps: Pumps,
) -> None:
    dec_10 = NY_DEC_1 + timedelta(days=9)
    flow = {"m3": "80", "bar": "2", "site": "north"}
    pumps.send([UsageEvent("dec", "pump.flow", "p1", dec_10, flow)], at=dec_10)
    pumps.bill(NY_JAN_1)  # December finalized: 80 m3 = 40.00
    late = {"m3": "40", "bar": "1", "site": "north"}  # December's, arriving in January
    pumps.send(
        [UsageEvent("late", "pump.flow", "p1", dec_10, late)], at=NY_JAN_1 + timedelta(days=3)
    )
    jan_9 = NY_JAN_1 + timedelta(days=8)

    upcoming = upcoming_invoice(pumps.uow(), pumps.subscription, now=jan_9)

    adjustments = [line for line in upcoming.lines if line.kind == "adjustment"]
    # December re-priced: 120 m3 = 100 x 0.50 + 20 x 0.30 = 56.00, billed 40.00.
    assert [(line.charge, str(line.amount)) for line in adjustments] == [("water", "16.00")]
    pumps.bill(NY_FEB_1)
    _same_invoice(upcoming, pumps.invoice(upcoming.id))


def test_upcoming_names_what_has_no_open_period(pumps: Pumps) -> None:
    with pytest.raises(NotFound):
        upcoming_invoice(pumps.uow(), "sub-999999", now=NY_JAN_1)
    with pytest.raises(Conflict) as raised:
        upcoming_invoice(pumps.uow(), pumps.subscription, now=NY_DEC_1 - timedelta(days=1))

    assert str(raised.value) == (
        f"subscription {pumps.subscription} starts at 2025-12-01T05:00:00+00:00:"
        " no period is open yet"
    )


def _invoice_count(pumps: Pumps) -> int:
    with pumps.uow() as unit:
        return len(unit.invoices.list())
