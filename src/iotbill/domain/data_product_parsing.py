"""Reading a plan's ``data_products`` (data-monetization model), reporting every problem.

The part of :func:`~iotbill.domain.plan_parsing.parse_plan` that reads the data
products a buyer's plan holds. A buyer subscribed to the plan may export them
(``iotbill data export``). Each item is::

    code: energy-hourly      # unique among the plan's data products
    name: Energy by region   # optional
    meter: energy            # a meter of the plan: sum of a property, or count
    group_by: region         # the event property that groups the cells
    bucket: hour             # hour or day (UTC)
    k: 3                     # a cell from fewer than k owners is suppressed; at least 2
    price: 0.05              # a record delivered, money in the plan's currency, > 0
    owner_share: 40          # percent of the revenue shared with the owners (default 0)

Every mistake is recorded at its field path (``data_products[0].k: must be at
least 2 ...``); the plan loader raises them all together, storing nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import cast

from iotbill.domain.catalog import Meter
from iotbill.domain.fields import FieldReader
from iotbill.domain.input_rules import ID_LIMITS
from iotbill.domain.models.data_products import (
    BUCKETS,
    MIN_K,
    PRODUCT_AGGREGATIONS,
    Bucket,
    DataProduct,
    ProductAggregation,
)
from iotbill.domain.money import Currency

DATA_PRODUCT_FIELDS = ("code", "name", "meter", "group_by", "bucket", "k", "price", "owner_share")


def parse_data_products(
    reader: FieldReader, meters: Mapping[str, Meter], plan_currency: Currency | None
) -> tuple[DataProduct, ...]:
    """The plan's ``data_products``; an item with a problem (recorded) is left out."""
    found: list[DataProduct] = []
    codes: dict[str, int] = {}
    for index, item in enumerate(reader.items("data_products")):
        item_reader = FieldReader(item, f"data_products[{index}]", reader.problems)
        code, product = _product(item_reader, meters, plan_currency)
        if code in codes:
            reader.problems.add(
                item_reader.path("code"),
                f"{code!r} is already used in data_products[{codes[code]}]",
            )
        elif code is not None:
            codes[code] = index
            if product is not None:
                found.append(product)
    return tuple(found)


def _product(
    reader: FieldReader, meters: Mapping[str, Meter], plan_currency: Currency | None
) -> tuple[str | None, DataProduct | None]:
    reader.reject_unknown(DATA_PRODUCT_FIELDS)
    before = len(reader.problems.problems)
    code = reader.text("code", limit=ID_LIMITS["code"])
    name = reader.text("name", required=False)
    meter = _meter(reader, meters)
    group_by = reader.text("group_by")
    bucket = reader.choice("bucket", BUCKETS)
    k = _k(reader)
    price = reader.decimal("price", positive=True)
    if (
        price is not None
        and plan_currency is not None
        and price != price.quantize(Decimal(1).scaleb(-9))
    ):
        reader.problems.add(reader.path("price"), f"{price} has more than 9 decimals")
    share = reader.decimal("owner_share", required=False, default=Decimal(0))
    if share is not None and share > 100:
        reader.problems.add(
            reader.path("owner_share"), f"must be a percent from 0 to 100, not {share}"
        )
    if len(reader.problems.problems) > before:
        return code, None
    assert code is not None and meter is not None and group_by is not None
    assert bucket is not None and k is not None and price is not None and share is not None
    return code, DataProduct(
        code=code,
        meter=meter.code,
        event_type=meter.event_type,
        property=meter.property if meter.aggregation == "sum" else None,
        aggregation=cast(ProductAggregation, meter.aggregation),
        group_by=group_by,
        bucket=cast(Bucket, bucket),
        k=k,
        price=price,
        owner_share=share,
        name=name,
    )


def _meter(reader: FieldReader, meters: Mapping[str, Meter]) -> Meter | None:
    code = reader.text("meter", limit=ID_LIMITS["code"])
    if code is None:
        return None
    meter = meters.get(code)
    if meter is None:
        known = ", ".join(sorted(meters)) or "none defined"
        reader.problems.add(reader.path("meter"), f"unknown meter {code!r} (meters: {known})")
        return None
    if (
        meter.aggregation not in PRODUCT_AGGREGATIONS
        or meter.filters
        or meter.group_by
        or meter.cap
        or meter.recurring
        or meter.rounding
    ):
        reader.problems.add(
            reader.path("meter"),
            f"meter {code!r} must sum a property or count events, without filters, "
            "group_by, cap, recurring or rounding (the product groups its cells itself)",
        )
        return None
    return meter


def _k(reader: FieldReader) -> int | None:
    if not reader.has("k"):
        reader.problems.add(reader.path("k"), "is required")
        return None
    k = reader.integer("k", minimum=-(10**9))
    if k is not None and k < MIN_K:
        reader.problems.add(
            reader.path("k"),
            f"must be at least {MIN_K}, not {k}: a cell of one owner would expose that owner",
        )
        return None
    return k
