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
      sla:                           # the response-time promise and its credit table
        on_site_within_hours: 4      # > 0, whole minutes, at most a year
        credits:                     # thresholds increasing, the first at or after the promise
          - {more_than_hours: 4, percent: 10}   # percent 0 to 100, never less than the one before
          - {more_than_hours: 8, percent: 25}

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
from iotbill.domain.models.sla import CreditTier, SlaTerms
from iotbill.domain.money import Currency
from iotbill.domain.quantities import decimal_text

SERVICE_FIELDS = ("labour_rate", "labour_increment_minutes", "parts", "alerts", "sla")
SLA_FIELDS = ("on_site_within_hours", "credits")
TIER_FIELDS = ("more_than_hours", "percent")
MAX_SLA_HOURS = Decimal(8_760)
"""A year: the longest response time an SLA may name."""
PART_FIELDS = ("code", "name", "price")
ALERT_FIELDS = ("code", "meter", "above", "window_minutes", "summary")
MAX_INCREMENT_MINUTES = 1_440
MAX_WINDOW_MINUTES = 10_080
"""A week: the longest window an alert rule may watch."""


def parse_service(
    reader: FieldReader, meters: Mapping[str, Meter], plan_currency: Currency | None
) -> ServiceTerms | None:
    """The plan's ``service`` terms, or ``None`` when it has none (or a problem, recorded)."""
    section = reader.section("service")
    if section is None:
        return None
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
    sla = _sla(section)
    if len(reader.problems.problems) > before or rate is None or minutes is None:
        return None
    return ServiceTerms(rate, timedelta(minutes=minutes), tuple(parts), alerts, sla)


def _sla(section: FieldReader) -> SlaTerms | None:
    """The ``sla`` promise and credit table, or ``None`` (none, or a problem, recorded)."""
    sla = section.section("sla")
    if sla is None:
        return None
    sla.reject_unknown(SLA_FIELDS)
    before = len(sla.problems.problems)
    within = _hours(sla, "on_site_within_hours")
    tiers: list[CreditTier] = []
    items = sla.items("credits", required=True)
    if sla.data.get("credits") == []:
        sla.problems.add(sla.path("credits"), "must list at least one credit tier")
    last: tuple[str, CreditTier] | None = None
    for index, item in enumerate(items):
        row = FieldReader(item, sla.path(f"credits[{index}]"), sla.problems)
        row.reject_unknown(TIER_FIELDS)
        over = _hours(row, "more_than_hours")
        percent = row.decimal("percent", minimum=Decimal(0))
        if percent is not None and percent > 100:
            row.problems.add(row.path("percent"), f"must be at most 100, not {percent}")
            percent = None
        if over is None or percent is None:
            last = None
            continue
        tier = CreditTier(over, percent)
        if last is None and index == 0 and within is not None and over < within:
            row.problems.add(
                row.path("more_than_hours"),
                f"must be at least {sla.path('on_site_within_hours')} ({_text(within)}):"
                " a visit on time earns no credit",
            )
        if last is not None:
            where, previous = last
            if over <= previous.over:
                row.problems.add(
                    row.path("more_than_hours"),
                    f"must be more than {where}.more_than_hours ({_text(previous.over)}):"
                    " thresholds increase",
                )
            if percent < previous.percent:
                row.problems.add(
                    row.path("percent"),
                    f"must be at least {where}.percent ({previous.percent}):"
                    " a later visit never earns less",
                )
        last = (sla.path(f"credits[{index}]"), tier)
        tiers.append(tier)
    if len(sla.problems.problems) > before or within is None:
        return None
    return SlaTerms(within, tuple(tiers))


def _hours(reader: FieldReader, name: str) -> timedelta | None:
    """Hours above 0, in whole minutes, at most :data:`MAX_SLA_HOURS`."""
    hours = reader.decimal(name, positive=True)
    if hours is None:
        return None
    if hours > MAX_SLA_HOURS:
        reader.problems.add(reader.path(name), f"must be at most {MAX_SLA_HOURS}, not {hours}")
        return None
    minutes = hours * 60
    if minutes != minutes.to_integral_value():
        reader.problems.add(reader.path(name), f"must be whole minutes, not {hours} h")
        return None
    return timedelta(minutes=int(minutes))


def _text(hours: timedelta) -> str:
    return f"{decimal_text((Decimal(int(hours.total_seconds())) / 3600).normalize())} h"


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
