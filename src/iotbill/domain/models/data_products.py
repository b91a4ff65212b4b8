"""Data products (data-monetization model): consented readings, grouped, k-anonymous.

A :class:`DataProduct` sells a meter over many customers' devices: the meter's
events that occurred while their device consented
(:mod:`~iotbill.domain.models.consent`) are grouped by an event property
(``group_by``: a region, a building type) and a UTC time bucket (an hour or a
day, counted from the Unix epoch), and each *cell* (group x bucket) gets the
meter's ``sum`` of the property, or the ``count`` of events. An event without a
text group value, or (for ``sum``) without a number, fits no cell and is left out.

**k-anonymity.** A cell whose events come from fewer than ``k`` distinct owners
(the customers that owned the devices when the events occurred) is suppressed:
it is not delivered, and nothing of it is billed or shared. ``k`` is at least 2.

**Pure reference, fast twin.** :func:`tabulate` is the specification: it groups
readings per cell and owner (:class:`OwnerRow`) and hands them to
:func:`assemble`. The SQL stores do the same grouping and suppression in one
query (consent as an interval join); the contract tests hold both equal.

**Revenue share** (:func:`allocate`). An export of ``n`` records at ``price`` a
record bills the buyer ``R = round(n x price)``. The owners' pool is
``floor(R x share / 100)`` in minor units; each owner receives
``floor(pool x e / E)`` minor units, where ``e`` is the raw events it contributed
to the delivered cells and ``E`` all of them. What is left of ``R`` (the
operator's part and every rounding remainder) is the operator's revenue, so
owner credits + operator revenue = ``R`` to the cent. Worked example: 6 records
at 0.05 USD are R = 0.30 USD = 30 cents; with a 40 % share the pool is 12
cents; owners that contributed 5, 3 and 2 events of E = 10 get
floor(12 x 5/10) = 6, floor(3.6) = 3 and floor(2.4) = 2 cents; the operator
gets 30 - 11 = 19 cents.

>>> from iotbill.domain.money import currency
>>> split = allocate(Decimal("0.30"), Decimal(40), {"a": 5, "b": 3, "c": 2}, currency("USD"))
>>> [(owner, str(amount)) for owner, amount in split.owners], str(split.operator)
([('a', '0.06'), ('b', '0.03'), ('c', '0.02')], '0.19')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any, Literal, get_args

from iotbill.domain.models.consent import Consent
from iotbill.domain.money import Currency, from_minor_units, to_minor_units
from iotbill.domain.periods import EPOCH, Period

Bucket = Literal["hour", "day"]
BUCKETS: tuple[Bucket, ...] = get_args(Bucket)
BUCKET_SPANS: dict[Bucket, timedelta] = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
ProductAggregation = Literal["sum", "count"]
PRODUCT_AGGREGATIONS: tuple[ProductAggregation, ...] = get_args(ProductAggregation)
MIN_K = 2
EXPORT_FORMATS = ("csv", "jsonl", "parquet")


@dataclass(frozen=True, slots=True)
class DataProduct:
    """Cells of ``meter`` (``aggregation`` of ``property`` of ``event_type`` events) by
    ``group_by`` and ``bucket``, each from at least ``k`` owners; ``price`` a record
    delivered; ``owner_share`` percent of the revenue shared with the owners."""

    code: str
    meter: str
    event_type: str
    property: str | None
    aggregation: ProductAggregation
    group_by: str
    bucket: Bucket
    k: int
    price: Decimal
    owner_share: Decimal = Decimal(0)
    name: str | None = None

    def span(self) -> timedelta:
        return BUCKET_SPANS[self.bucket]

    def bucket_of(self, at: datetime) -> datetime:
        """The start of the bucket ``at`` falls in (UTC, counted from the epoch)."""
        return EPOCH + ((at - EPOCH) // self.span()) * self.span()


@dataclass(frozen=True, slots=True)
class Reading:
    """One event a product may read: ``value`` (1 for ``count``) in ``group`` at
    ``occurred_at``, from ``device`` of ``owner``."""

    owner: str
    device: str
    occurred_at: datetime
    group: str
    value: Decimal


@dataclass(frozen=True, slots=True)
class OwnerRow:
    """What one owner's consented events put in one cell: their sum and how many."""

    group: str
    bucket: datetime
    owner: str
    value: Decimal
    events: int


@dataclass(frozen=True, slots=True)
class Cell:
    """One delivered record: ``value`` of ``group`` in the bucket from ``bucket``."""

    group: str
    bucket: datetime
    value: Decimal
    events: int
    owners: int

    def as_json(self, product: str) -> dict[str, Any]:
        return {
            "product": product,
            "group": self.group,
            "bucket": self.bucket.isoformat(),
            "value": _plain(self.value),
            "events": self.events,
            "owners": self.owners,
        }


@dataclass(frozen=True, slots=True)
class Tabulation:
    """The cells delivered, in (bucket, group) order; how many were suppressed; and the
    raw events each owner contributed to the delivered cells."""

    cells: tuple[Cell, ...]
    suppressed: int
    contributions: tuple[tuple[str, int], ...]


def tabulate(
    product: DataProduct, readings: Iterable[Reading], consents: Sequence[Consent], window: Period
) -> Tabulation:
    """The product's cells over ``window`` from ``readings``, keeping only those that
    occurred in ``window`` while their device consented (the specification)."""
    by_device: dict[str, list[Consent]] = {}
    for consent in consents:
        by_device.setdefault(consent.device_id, []).append(consent)
    sums: dict[tuple[str, datetime, str], tuple[Decimal, int]] = {}
    for reading in readings:
        at = reading.occurred_at
        if not window.start <= at < window.end:
            continue
        if not any(consent.covers(at) for consent in by_device.get(reading.device, ())):
            continue
        key = (reading.group, product.bucket_of(at), reading.owner)
        value, events = sums.get(key, (Decimal(0), 0))
        sums[key] = (value + reading.value, events + 1)
    rows = [
        OwnerRow(group, bucket, owner, value, events)
        for (group, bucket, owner), (value, events) in sums.items()
    ]
    return assemble(rows, product.k)


def assemble(rows: Iterable[OwnerRow], k: int) -> Tabulation:
    """Cells from per-owner rows, each suppressed when fewer than ``k`` owners fill it."""
    cells: dict[tuple[datetime, str], list[OwnerRow]] = {}
    for row in rows:
        cells.setdefault((row.bucket, row.group), []).append(row)
    delivered: list[Cell] = []
    contributions: dict[str, int] = {}
    suppressed = 0
    for (bucket, group), members in sorted(cells.items()):
        owners = {row.owner for row in members}
        if len(owners) < k:
            suppressed += 1
            continue
        value = sum((row.value for row in members), Decimal(0))
        events = sum(row.events for row in members)
        delivered.append(Cell(group, bucket, value, events, len(owners)))
        for row in members:
            contributions[row.owner] = contributions.get(row.owner, 0) + row.events
    return Tabulation(tuple(delivered), suppressed, tuple(sorted(contributions.items())))


@dataclass(frozen=True, slots=True)
class Allocation:
    """``revenue`` split: ``owners`` (each with its amount, in owner order) and the
    ``operator``'s rest; ``pool`` is the owners' part before it is divided."""

    revenue: Decimal
    pool: Decimal
    owners: tuple[tuple[str, Decimal], ...]
    operator: Decimal


def allocate(
    revenue: Decimal,
    share_percent: Decimal,
    contributions: Mapping[str, int],
    currency: Currency,
) -> Allocation:
    """Split ``revenue`` (rounded to ``currency``) between the owners, by the events each
    contributed, and the operator: see the module's rule and worked example. Owners
    whose part rounds down to nothing are left out."""
    minor = to_minor_units(revenue, currency)
    total = sum(contributions.values())
    pool = int((Decimal(minor) * share_percent / 100).to_integral_value(ROUND_FLOOR))
    owners: list[tuple[str, Decimal]] = []
    given = 0
    if total > 0:
        for owner, events in sorted(contributions.items()):
            part = pool * events // total
            if part > 0:
                owners.append((owner, from_minor_units(part, currency)))
                given += part
    return Allocation(
        from_minor_units(minor, currency),
        from_minor_units(pool, currency),
        tuple(owners),
        from_minor_units(minor - given, currency),
    )


def _plain(value: Decimal) -> str:
    """``value`` as plain text without an exponent or trailing zeros (``"12.5"``)."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text
