"""Reading a plan's ``consumables`` (razor-blade model), reporting every problem.

The part of :func:`~iotbill.domain.plan_parsing.parse_plan` that reads what a
plan's devices use up and reorder. Each item is::

    code: ink                # unique among the consumables
    name: Ink cartridge      # optional, the order's description
    meter: ink_level         # a meter of the plan whose property is the level
    price: 24.90             # billed once per order, money in the plan's currency, > 0
    lead_time_days: 3        # order when the run-out is at most this far ahead
    horizon_days: 30         # how far ahead a run-out is forecast (default 30)
    window_days: 14          # readings of the last N days are fitted (default 14)
    refill_rise: 20          # a rise of the level above this is a refill

Every mistake is recorded at its field path
(``consumables[0].lead_time_days: must be at most horizon_days (30), not 45``);
the plan loader raises them all together, storing nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from iotbill.domain.catalog import Consumable, Meter
from iotbill.domain.fields import FieldReader
from iotbill.domain.input_rules import ID_LIMITS
from iotbill.domain.money import Currency

CONSUMABLE_FIELDS = (
    "code",
    "name",
    "meter",
    "price",
    "lead_time_days",
    "horizon_days",
    "window_days",
    "refill_rise",
)
DEFAULT_HORIZON_DAYS = 30
DEFAULT_WINDOW_DAYS = 14
MAX_DAYS = 3_660
"""Ten years: the longest lead time, horizon or window a plan may set."""


def parse_consumables(
    reader: FieldReader, meters: Mapping[str, Meter], plan_currency: Currency | None
) -> tuple[Consumable, ...]:
    """The plan's ``consumables``; an item with a problem (recorded) is left out."""
    found: list[Consumable] = []
    codes: dict[str, int] = {}
    for index, item in enumerate(reader.items("consumables")):
        item_reader = FieldReader(item, f"consumables[{index}]", reader.problems)
        code, consumable = _consumable(item_reader, meters, plan_currency)
        if code in codes:
            reader.problems.add(
                item_reader.path("code"), f"{code!r} is already used in consumables[{codes[code]}]"
            )
        elif code is not None:
            codes[code] = index
            if consumable is not None:
                found.append(consumable)
    return tuple(found)


def _consumable(
    reader: FieldReader, meters: Mapping[str, Meter], plan_currency: Currency | None
) -> tuple[str | None, Consumable | None]:
    """The item's code (``None`` if it has a problem) and the consumable (``None`` if any
    field has one)."""
    reader.reject_unknown(CONSUMABLE_FIELDS)
    before = len(reader.problems.problems)
    code = reader.text("code", limit=ID_LIMITS["code"])
    name = reader.text("name", required=False)
    meter = _level_meter(reader, meters)
    price = reader.decimal("price", positive=True)
    if (
        price is not None
        and plan_currency is not None
        and price != price.quantize(plan_currency.quantum)
    ):
        reader.problems.add(
            reader.path("price"),
            f"{price} has more decimals than {plan_currency.code} allows "
            f"({plan_currency.minor_units})",
        )
    lead_time = _days(reader, "lead_time_days", None)
    horizon = _days(reader, "horizon_days", DEFAULT_HORIZON_DAYS)
    window = _days(reader, "window_days", DEFAULT_WINDOW_DAYS)
    if lead_time is not None and horizon is not None and lead_time > horizon:
        reader.problems.add(
            reader.path("lead_time_days"),
            f"must be at most horizon_days ({horizon}), not {lead_time}: "
            "a run-out is never forecast further ahead than the horizon",
        )
    refill_rise = reader.decimal("refill_rise", positive=True)
    if len(reader.problems.problems) > before:
        return code, None
    assert code is not None and meter is not None and meter.property is not None
    assert price is not None and refill_rise is not None
    assert lead_time is not None and horizon is not None and window is not None
    return code, Consumable(
        code=code,
        meter=meter.code,
        event_type=meter.event_type,
        property=meter.property,
        price=price,
        lead_time=timedelta(days=lead_time),
        horizon=timedelta(days=horizon),
        window=timedelta(days=window),
        refill_rise=refill_rise,
        name=name,
    )


def _level_meter(reader: FieldReader, meters: Mapping[str, Meter]) -> Meter | None:
    code = reader.text("meter", limit=ID_LIMITS["code"])
    if code is None:
        return None
    meter = meters.get(code)
    if meter is None:
        known = ", ".join(sorted(meters)) or "none defined"
        reader.problems.add(reader.path("meter"), f"unknown meter {code!r} (meters: {known})")
        return None
    if meter.property is None:
        reader.problems.add(
            reader.path("meter"), f"meter {code!r} has no property, so it reads no level"
        )
        return None
    return meter


def _days(reader: FieldReader, name: str, default: int | None) -> int | None:
    """A whole number of days from 1 to :data:`MAX_DAYS` (``default`` when absent; required
    when there is none)."""
    if not reader.has(name):
        if default is None:
            reader.problems.add(reader.path(name), "is required")
        return default
    days = reader.integer(name, minimum=1)
    if days is not None and days > MAX_DAYS:
        reader.problems.add(reader.path(name), f"must be at most {MAX_DAYS}, not {days}")
        return None
    return days
