"""Stored usage: what a customer's (or a device's) events measure, per meter and bucket.

``usage(uow, customer=..., start=..., end=...)`` answers "how much has this
customer used?" with the numbers a bill run would use: the meters are those of
the plans the customer's subscriptions are on, and each quantity is the pure
core's aggregation (:func:`~iotbill.domain.metering.selection.select`, then the
meter's aggregation, capped in each local day or hour where the meter has a cap) of
the stored events that count, exactly as rating reads them. A bucket is priced
like a billing period of its own: a ``sum`` adds the bucket's events, a ``max``
takes the bucket's largest reading, an ``increase`` or a ``latest`` carries the
last reading before the bucket in.

Buckets (``by``) follow the customer's time zone, as billing periods do:

* ``None``: one bucket, ``[start, end)``;
* ``"day"``: from local midnight to local midnight (23 or 25 hours across a
  DST change);
* ``"month"``: from local midnight of the first of a month to the next;
* ``"hour"``: sixty minutes, starting on the customer's whole local hours.

The first and last buckets are cut at ``start`` and ``end``: asked from
10:30, a daily bucket begins at 10:30, so buckets never count an event outside
the range asked for. Without a ``group_by`` a meter has one row per bucket
(zero when nothing happened); with one, a row per group that had events or a
carried reading in the bucket.

The scope is every event attributed to the customer (whichever of its
devices sent it), or one device's (``device``) among them. A customer's
subscription that excludes a device billed on its own subscription bills less
than the customer's usage: this answers what was used, not what one
subscription charges.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

from iotbill.domain.catalog import Meter
from iotbill.domain.customers import Customer
from iotbill.domain.errors import InvalidInput, ProblemCollector
from iotbill.domain.event_table import EventTable
from iotbill.domain.metering.selection import select
from iotbill.domain.periods import Period, local_instant
from iotbill.domain.quantities import decimal_text
from iotbill.services.customers import find_customer
from iotbill.services.moments import Moment, collect_instant
from iotbill.services.ports import EventScope, UnitOfWork

Bucketing = Literal["hour", "day", "month"]
BUCKETINGS: tuple[str, ...] = get_args(Bucketing)
MAX_BUCKETS = 10_000
"""More buckets than this is refused: a year by hour is 8,760."""


@dataclass(frozen=True, slots=True)
class UsageRow:
    """One meter's quantity over one bucket, for one group (``None`` without ``group_by``)."""

    meter: str
    bucket: Period
    group: str | None
    quantity: Decimal

    def as_json(self) -> dict[str, Any]:
        return {
            "meter": self.meter,
            "start": self.bucket.start.isoformat(),
            "end": self.bucket.end.isoformat(),
            "group": self.group,
            "quantity": decimal_text(self.quantity),
        }


@dataclass(frozen=True, slots=True)
class UsageReport:
    """The rows of a usage query, by meter (in plan order), then bucket, then group."""

    customer: Customer
    device: str | None
    period: Period
    by: Bucketing | None
    meters: tuple[Meter, ...]
    rows: tuple[UsageRow, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "customer": self.customer.id,
            "device": self.device,
            "timezone": self.customer.timezone,
            "from": self.period.start.isoformat(),
            "to": self.period.end.isoformat(),
            "by": self.by,
            "meters": [
                {
                    "code": meter.code,
                    "event_type": meter.event_type,
                    "aggregation": meter.aggregation,
                    "property": meter.property,
                }
                for meter in self.meters
            ],
            "rows": [row.as_json() for row in self.rows],
        }


def usage(
    uow: UnitOfWork,
    *,
    customer: str,
    start: Moment,
    end: Moment,
    device: str | None = None,
    meter: str | None = None,
    by: str | None = None,
) -> UsageReport:
    """The stored usage of ``customer`` (or its ``device``) over ``[start, end)``.

    Dates are local midnights in the customer's zone. Every problem with the
    request is reported at once, each at its parameter's name; nothing is
    written.
    """
    with uow:
        problems = ProblemCollector()
        owner = find_customer(uow, customer, "customer", problems)
        begins = collect_instant(start, owner, "from", problems)
        ends = collect_instant(end, owner, "to", problems)
        if begins is not None and ends is not None and ends <= begins:
            problems.add("to", f"{ends.isoformat()} must be after from ({begins.isoformat()})")
        if by is not None and by not in BUCKETINGS:
            problems.add("by", f"must be one of {', '.join(BUCKETINGS)}, not {by!r}")
        meters: list[Meter] = []
        if owner is not None:
            meters = _meters(uow, owner, meter, problems)
            if device is not None:
                _check_device(uow, device, owner, problems)
        problems.raise_if_any()
        assert owner is not None and begins is not None and ends is not None
        period = Period(begins, ends)
        bucketing: Bucketing | None = by  # type: ignore[assignment]  # checked above
        buckets = usage_buckets(period, owner, bucketing)
        scope = EventScope(owner.id, devices=None if device is None else frozenset({device}))
        table = uow.events.load(scope, meters, period)
    return UsageReport(
        owner,
        device,
        period,
        bucketing,
        tuple(meters),
        tuple(_rows(table, meters, buckets, owner.zone)),
    )


def usage_buckets(period: Period, customer: Customer, by: Bucketing | None) -> list[Period]:
    """``period`` cut into buckets at the customer's local boundaries (see the module).

    >>> from datetime import UTC
    >>> paris = Customer.create(id="p", name="P", currency_code="EUR", timezone="Europe/Paris")
    >>> span = Period(datetime(2026, 3, 28, 12, tzinfo=UTC), datetime(2026, 3, 30, tzinfo=UTC))
    >>> for bucket in usage_buckets(span, paris, "day"):  # 29 March has 23 hours in Paris
    ...     print(bucket)
    [2026-03-28T12:00:00+00:00, 2026-03-28T23:00:00+00:00)
    [2026-03-28T23:00:00+00:00, 2026-03-29T22:00:00+00:00)
    [2026-03-29T22:00:00+00:00, 2026-03-30T00:00:00+00:00)
    """
    if by is None:
        return [period]
    zone = customer.zone
    local = period.start.astimezone(zone)
    if by == "hour":
        boundary = local_instant(local.replace(minute=0, second=0, microsecond=0), zone)
        if boundary > period.start:  # a wall hour that a DST change moved
            boundary -= timedelta(hours=1)

        def following(instant: datetime) -> datetime:
            return instant + timedelta(hours=1)

    elif by == "day":
        boundary = local_instant(local.replace(hour=0, minute=0, second=0, microsecond=0), zone)

        def following(instant: datetime) -> datetime:
            day = instant.astimezone(zone).date() + timedelta(days=1)
            return local_instant(datetime(day.year, day.month, day.day), zone)

    else:
        boundary = local_instant(
            local.replace(day=1, hour=0, minute=0, second=0, microsecond=0), zone
        )

        def following(instant: datetime) -> datetime:
            wall = instant.astimezone(zone)
            year, month = divmod(wall.year * 12 + wall.month, 12)
            return local_instant(datetime(year, month + 1, 1), zone)

    buckets: list[Period] = []
    while boundary < period.end:
        after = following(boundary)
        if after <= period.start:
            boundary = after
            continue
        buckets.append(Period(max(boundary, period.start), min(after, period.end)))
        if len(buckets) > MAX_BUCKETS:
            raise InvalidInput.at(
                "by",
                f"{by} buckets from {period.start.isoformat()} to {period.end.isoformat()} "
                f"are more than {MAX_BUCKETS:,}: ask for a shorter range or a longer bucket",
            )
        boundary = after
    return buckets


def _meters(
    uow: UnitOfWork, customer: Customer, wanted: str | None, problems: ProblemCollector
) -> list[Meter]:
    """The meters of the plans of the customer's subscriptions, each once, in plan order.

    Two plan versions that define a meter code alike share it; defined
    differently, the later definition is reported under ``code@plan:version``.
    """
    found: list[Meter] = []
    for subscription in uow.subscriptions.list(customer=customer.id):
        for phase in subscription.phases:
            plan = uow.plans.get(phase.plan_code, phase.plan_version).plan
            for meter in plan.meters:
                same_code = [known for known in found if known.code == meter.code]
                if any(known == meter for known in same_code):
                    continue
                if same_code:
                    meter = _renamed(meter, f"{meter.code}@{plan.code}:{phase.plan_version}")
                if meter not in found:
                    found.append(meter)
    if not found:
        problems.add(
            "customer",
            f"{customer.id!r} has no subscription, so no meter to measure usage with",
        )
        return []
    if wanted is None:
        return found
    chosen = [meter for meter in found if meter.code == wanted]
    if not chosen:
        known = ", ".join(meter.code for meter in found)
        problems.add("meter", f"unknown meter {wanted!r} (the customer's plans meter {known})")
    return chosen


def _renamed(meter: Meter, code: str) -> Meter:
    return replace(meter, code=code)


def _check_device(
    uow: UnitOfWork, device: str, customer: Customer, problems: ProblemCollector
) -> None:
    found = uow.devices.find([device]).get(device)
    if found is None:
        problems.add("device", f"unknown device {device!r}")
    elif all(owned.customer_id != customer.id for owned in found.ownership):
        problems.add("device", f"device {device!r} never belonged to customer {customer.id!r}")


def _rows(
    table: EventTable, meters: list[Meter], buckets: list[Period], zone: ZoneInfo
) -> list[UsageRow]:
    """Each meter's quantity per bucket and group; a capped meter capped in ``zone``'s
    days or hours, as rating counts it."""
    rows: list[UsageRow] = []
    problems = ProblemCollector()
    for meter in meters:
        for bucket in buckets:
            try:
                selected = select(table, meter, bucket)
            except InvalidInput as error:
                problems.extend(error.problems)
                break
            rows.extend(
                UsageRow(
                    meter.code, bucket, group.group, meter.quantity(group.window, zone).quantity
                )
                for group in selected
            )
    problems.raise_if_any()
    return rows
