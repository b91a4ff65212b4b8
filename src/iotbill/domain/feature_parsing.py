"""Reading a plan's ``features`` section, reporting every problem with its field path.

``features`` maps each feature's code to its definition::

    features:
      remote_diagnostics: true          # boolean
      retention_days: 30                # static (a number or a text)
      readings:                         # metered
        meter: readings
        allowance: 1000
        overage: bill                   # or block (the default)
        price: "0.002"                  # per unit above the allowance; only with bill
        alerts: [80, 100]               # percentages of the allowance

A metered feature needs a meter whose quantity can be summed into an
allowance: one that counts events or sums a property. Each metered feature
becomes a charge of the plan, coded like the feature, priced ``graduated``, so
the bill run prices it as any other charge (per phase, full tiers: the
allowance is never prorated) and the invoice shows the usage. Under
``overage: bill`` the allowance is free and each unit above it costs
``price``; under ``overage: block`` every unit costs 0.00, and no other charge
of the plan may bill the feature's meter: a blocked allowance bills no usage.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, cast

from iotbill.domain.catalog import Charge, Meter
from iotbill.domain.entitlements import (
    OVERAGES,
    BooleanFeature,
    Feature,
    MeteredFeature,
    Overage,
    StaticFeature,
)
from iotbill.domain.errors import InvalidInput
from iotbill.domain.fields import FieldReader
from iotbill.domain.input_rules import ID_LIMITS, PLAN_LIMITS, text_problem
from iotbill.domain.money import parse_decimal
from iotbill.domain.pricing import Graduated, Tier
from iotbill.domain.quantities import decimal_text

METERED_FIELDS = ("meter", "allowance", "overage", "price", "alerts")
SUMMABLE = ("count", "sum")
"""The aggregations whose quantity over a span is the sum of its parts: the only ones an
allowance can be measured by."""


def parse_features(
    reader: FieldReader, meters: Mapping[str, Meter], charges: Sequence[Charge | None]
) -> tuple[tuple[Feature, ...], tuple[Charge, ...]]:
    """The plan's features, and the charges that put their usage on invoices."""
    raw = reader.data.get("features")
    if raw is None:
        return (), ()
    path = reader.path("features")
    if not isinstance(raw, Mapping):
        reader.problems.add(path, "must map feature codes to their definitions")
        return (), ()
    if len(raw) > PLAN_LIMITS.max_items:
        reader.problems.add(
            path, f"has {len(raw)} features; at most {PLAN_LIMITS.max_items} are allowed"
        )
        return (), ()
    features: list[Feature] = []
    for code, value in raw.items():
        at = f"{path}.{str(code)[:40]}"
        if not isinstance(code, str):
            reader.problems.add(at, "a feature code must be a string (quote it)")
            continue
        if (wrong := text_problem(code, ID_LIMITS["code"])) is not None:
            reader.problems.add(at, wrong)
            continue
        feature = _feature(code, value, at, reader, meters, charges)
        if feature is not None:
            features.append(feature)
    usage_charges = tuple(
        _usage_charge(feature) for feature in features if isinstance(feature, MeteredFeature)
    )
    taken = {charge.code for charge in charges if charge is not None}
    for charge in usage_charges:
        if charge.code in taken:
            reader.problems.add(
                f"{path}.{charge.code}",
                "its usage is invoiced as a charge of the same code, which charges already use",
            )
    return tuple(features), usage_charges


def _feature(
    code: str,
    value: Any,
    at: str,
    reader: FieldReader,
    meters: Mapping[str, Meter],
    charges: Sequence[Charge | None],
) -> Feature | None:
    if isinstance(value, bool):
        return BooleanFeature(code, value)
    if isinstance(value, str):
        if (wrong := text_problem(value)) is not None:
            reader.problems.add(at, wrong)
            return None
        return StaticFeature(code, value)
    if isinstance(value, int | Decimal):
        try:
            return StaticFeature(code, parse_decimal(value, at))
        except InvalidInput as error:
            reader.problems.extend(error.problems)
            return None
    if isinstance(value, Mapping):
        return _metered(code, FieldReader(value, at, reader.problems), meters, charges)
    reader.problems.add(
        at, "must be true or false, a number or a text, or a metered allowance (a mapping)"
    )
    return None


def _metered(
    code: str, reader: FieldReader, meters: Mapping[str, Meter], charges: Sequence[Charge | None]
) -> MeteredFeature | None:
    reader.reject_unknown(METERED_FIELDS)
    before = len(reader.problems.problems)
    meter_code = reader.text("meter", limit=ID_LIMITS["code"])
    if meter_code is not None:
        meter = meters.get(meter_code)
        if meter is None:
            known = ", ".join(sorted(meters)) or "none defined"
            reader.problems.add(
                reader.path("meter"), f"unknown meter {meter_code!r} (meters: {known})"
            )
        elif meter.aggregation not in SUMMABLE:
            reader.problems.add(
                reader.path("meter"),
                f"meter {meter_code!r} aggregates by {meter.aggregation}, which cannot be summed"
                " into an allowance (use a meter that counts or sums: count, sum)",
            )
        elif meter.recurring:
            reader.problems.add(
                reader.path("meter"),
                f"meter {meter_code!r} is recurring (its total carries from period to period),"
                " so it cannot measure an allowance",
            )
        elif meter.cap is not None:
            reader.problems.add(
                reader.path("meter"),
                f"meter {meter_code!r} is capped per {meter.cap.per}, so its usage over a"
                " period is not the sum of its events: an allowance needs an uncapped meter",
            )
        elif meter.rounding is not None:
            reader.problems.add(
                reader.path("meter"),
                f"meter {meter_code!r} rounds its quantity, so its usage over a period is not"
                " the sum of its events: an allowance needs a meter without rounding",
            )
    allowance = reader.decimal("allowance")
    overage = reader.choice("overage", OVERAGES, default="block")
    price = reader.decimal("price", required=overage == "bill")
    if overage == "block" and reader.has("price"):
        reader.problems.add(
            reader.path("price"), "prices the overage, which overage: block never bills"
        )
    if overage == "block" and meter_code is not None:
        for index, charge in enumerate(charges):
            if charge is not None and charge.meter == meter_code:
                reader.problems.add(
                    reader.path("overage"),
                    f"is block, but charges[{index}] ({charge.code}) bills meter {meter_code!r}:"
                    " a blocked allowance bills no usage (use overage: bill)",
                )
    alerts = _alerts(reader)
    if len(reader.problems.problems) > before:
        return None
    assert meter_code is not None and allowance is not None
    billed = price if overage == "bill" else None
    return MeteredFeature(code, meter_code, allowance, cast(Overage, overage), billed, alerts)


def _alerts(reader: FieldReader) -> tuple[Decimal, ...]:
    """Alert percentages: positive, strictly ascending."""
    found: list[Decimal] = []
    for index, item in enumerate(reader.items("alerts")):
        at = f"{reader.path('alerts')}[{index}]"
        try:
            percent = parse_decimal(item, at)
        except InvalidInput as error:
            reader.problems.extend(error.problems)
            continue
        if percent <= 0 or percent > 1000:
            reader.problems.add(at, f"must be a percentage above 0 and at most 1000, not {percent}")
        elif found and percent <= found[-1]:
            reader.problems.add(at, f"must be greater than the alert before ({found[-1]})")
        else:
            found.append(percent)
    return tuple(found)


def _usage_charge(feature: MeteredFeature) -> Charge:
    """The charge that puts ``feature``'s usage on the invoice: the allowance free, then each
    unit at the overage price, or, when the overage is blocked, every unit at 0.00."""
    allowance = decimal_text(feature.allowance)
    if feature.price is None:
        tiers: tuple[Tier, ...] = (Tier(None, Decimal(0)),)
        name = f"{feature.code}: {allowance} included, overage blocked"
    else:
        above = Tier(None, feature.price)
        tiers = (above,) if feature.allowance == 0 else (Tier(feature.allowance, Decimal(0)), above)
        name = f"{feature.code}: {allowance} included, then {decimal_text(feature.price)} each"
    return Charge(feature.code, Graduated(tiers), feature.meter, name=name)
