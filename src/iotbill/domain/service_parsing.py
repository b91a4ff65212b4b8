"""Reading a plan's ``service`` section (service model), reporting every problem.

The part of :func:`~iotbill.domain.plan_parsing.parse_plan` that reads what a
work order on the plan's devices bills::

    service:
      labour_rate: "90.00"           # an hour on site, money in the plan's currency, > 0
      labour_increment_minutes: 15   # time on site counts in started blocks (1 to 1440)
      parts:                         # the price list of spare parts
        - {code: bearing, name: Bearing 6204, price: "18.50"}
      alerts:                        # rules that open a work order
        - {code: vibration, meter: vibration, above: 7, window_minutes: 10,
           summary: Vibration above 7 mm/s}

Every mistake is recorded at its field path (``service.parts[1].code: 'bearing' is
already used in service.parts[0]``); the plan loader raises them all together,
storing nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal

from iotbill.domain.catalog import AlertRule, Meter, Part, ServiceTerms
from iotbill.domain.fields import FieldReader
from iotbill.domain.input_rules import ID_LIMITS
from iotbill.domain.money import Currency

SERVICE_FIELDS = ("labour_rate", "labour_increment_minutes", "parts", "alerts")
PART_FIELDS = ("code", "name", "price")
ALERT_FIELDS = ("code", "meter", "above", "window_minutes", "summary")
MAX_INCREMENT_MINUTES = 1_440
MAX_WINDOW_MINUTES = 10_080
"""A week: the longest window an alert rule may watch."""


def parse_service(
    reader: FieldReader, meters: Mapping[str, Meter], plan_currency: Currency | None
) -> ServiceTerms | None:
    """The plan's ``service`` terms, or ``None`` when it has none (or a problem, recorded)."""
    if not reader.has("service"):
        return None
    section = FieldReader(reader.data["service"], reader.path("service"), reader.problems)
    section.reject_unknown(SERVICE_FIELDS)
    before = len(reader.problems.problems)
    rate = _money(section, "labour_rate", plan_currency)
    minutes = section.integer("labour_increment_minutes", default=1, minimum=1)
    if minutes is not None and minutes > MAX_INCREMENT_MINUTES:
        section.problems.add(
            section.path("labour_increment_minutes"),
            f"must be at most {MAX_INCREMENT_MINUTES}, not {minutes}",
        )
    parts: list[Part] = []
    codes: dict[str, int] = {}
    for index, item in enumerate(section.items("parts")):
        part_reader = FieldReader(item, section.path(f"parts[{index}]"), reader.problems)
        part_reader.reject_unknown(PART_FIELDS)
        code = part_reader.text("code", limit=ID_LIMITS["code"])
        name = part_reader.text("name", required=False)
        price = _money(part_reader, "price", plan_currency)
        if code is not None and code in codes:
            part_reader.problems.add(
                part_reader.path("code"),
                f"{code!r} is already used in {section.path(f'parts[{codes[code]}]')}",
            )
        elif code is not None:
            codes[code] = index
            if price is not None:
                parts.append(Part(code, price, name))
    alerts = _alerts(section, meters)
    if len(reader.problems.problems) > before or rate is None or minutes is None:
        return None
    return ServiceTerms(rate, timedelta(minutes=minutes), tuple(parts), alerts)


def _alerts(section: FieldReader, meters: Mapping[str, Meter]) -> tuple[AlertRule, ...]:
    found: list[AlertRule] = []
    codes: dict[str, int] = {}
    for index, item in enumerate(section.items("alerts")):
        rule = FieldReader(item, section.path(f"alerts[{index}]"), section.problems)
        rule.reject_unknown(ALERT_FIELDS)
        before = len(rule.problems.problems)
        code = rule.text("code", limit=ID_LIMITS["code"])
        summary = rule.text("summary", required=False)
        meter = _watched_meter(rule, meters)
        above = rule.decimal("above", minimum=None)
        minutes = rule.integer("window_minutes", default=1, minimum=1)
        if minutes is not None and minutes > MAX_WINDOW_MINUTES:
            rule.problems.add(
                rule.path("window_minutes"), f"must be at most {MAX_WINDOW_MINUTES}, not {minutes}"
            )
        if code is not None and code in codes:
            rule.problems.add(
                rule.path("code"),
                f"{code!r} is already used in {section.path(f'alerts[{codes[code]}]')}",
            )
        elif code is not None:
            codes[code] = index
        if len(rule.problems.problems) > before:
            continue
        assert code is not None and meter is not None and meter.property is not None
        assert above is not None and minutes is not None
        found.append(
            AlertRule(
                code,
                meter.code,
                meter.event_type,
                meter.property,
                above,
                timedelta(minutes=minutes),
                summary,
            )
        )
    return tuple(found)


def _watched_meter(rule: FieldReader, meters: Mapping[str, Meter]) -> Meter | None:
    code = rule.text("meter", limit=ID_LIMITS["code"])
    if code is None:
        return None
    meter = meters.get(code)
    if meter is None:
        known = ", ".join(sorted(meters)) or "none defined"
        rule.problems.add(rule.path("meter"), f"unknown meter {code!r} (meters: {known})")
        return None
    if meter.property is None:
        rule.problems.add(rule.path("meter"), f"meter {code!r} has no property to watch")
        return None
    return meter


def _money(reader: FieldReader, name: str, plan_currency: Currency | None) -> Decimal | None:
    """Money above 0 at the currency's minor unit."""
    amount = reader.decimal(name, positive=True)
    if amount is None or plan_currency is None:
        return amount
    if amount != amount.quantize(plan_currency.quantum):
        reader.problems.add(
            reader.path(name),
            f"{amount} has more decimals than {plan_currency.code} allows "
            f"({plan_currency.minor_units})",
        )
        return None
    return amount
