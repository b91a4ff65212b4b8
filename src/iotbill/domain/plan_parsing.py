"""Building a :class:`~iotbill.domain.catalog.Plan` from plan data, reporting every problem.

The input is a mapping as read from YAML or JSON with exact numbers (``int``
or ``Decimal``; the plan file adapters never produce binary floats). Every
mistake is collected with its field path, e.g.
``charges[2].tiers[1].up_to: must be greater than 100``, and raised together
as one :class:`~iotbill.domain.errors.InvalidInput`.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, cast

from iotbill.domain.catalog import (
    BUSINESS_MODELS,
    INTERVALS,
    BusinessModel,
    Charge,
    Commitment,
    FeeTiming,
    FixedFee,
    Interval,
    Meter,
    Plan,
)
from iotbill.domain.consumable_parsing import parse_consumables
from iotbill.domain.data_product_parsing import parse_data_products
from iotbill.domain.errors import InvalidInput, ProblemCollector
from iotbill.domain.feature_parsing import parse_features
from iotbill.domain.fields import FieldReader
from iotbill.domain.input_rules import ID_LIMITS, PLAN_LIMITS, text_problem
from iotbill.domain.metering import AGGREGATIONS, RECURRING, PropertyKind
from iotbill.domain.metering.window_cap import WINDOW_LENGTHS, WindowLength
from iotbill.domain.metering.window_peaks import PEAKED
from iotbill.domain.money import Currency, currency, parse_decimal, round_money
from iotbill.domain.plan_usage_terms import (
    check_commitment,
    parse_cap,
    parse_risk_factor,
    parse_rounding,
)
from iotbill.domain.pricing import PRICE_MODELS, Dynamic, Flat
from iotbill.domain.sale_terms import parse_contract, parse_one_off_charges
from iotbill.domain.service_parsing import parse_service
from iotbill.domain.sharing_parsing import parse_sharing

PLAN_FIELDS = (
    "code",
    "name",
    "description",
    "model",
    "currency",
    "interval",
    "fixed_fees",
    "meters",
    "charges",
    "thresholds",
    "minimum_commitment",
    "maximum",
    "features",
    "one_off_charges",
    "term",
    "at_term_end",
    "early_termination_fee",
    "buy_out",
    "consumables",
    "service",
    "data_products",
    "sharing",
)
METER_FIELDS = (
    "code",
    "name",
    "event_type",
    "aggregation",
    "property",
    "filters",
    "group_by",
    "allow_negative",
    "recurring",
    "cap",
    "per",
    "rounding",
)
FEE_FIELDS = ("code", "name", "amount", "timing")
CHARGE_FIELDS = ("code", "name", "meter", "model", "min_amount", "risk_factor")
SCALAR_TYPES = (str, int, Decimal, bool)


def parse_plan(data: Any) -> Plan:
    """The plan described by ``data``; :class:`InvalidInput` listing every problem."""
    problems = ProblemCollector()
    reader = FieldReader(data, "", problems)
    reader.reject_unknown(PLAN_FIELDS)
    code = reader.text("code", limit=ID_LIMITS["plan"])
    name = reader.text("name", required=False, default=code)
    description = reader.text("description", required=False)
    model = reader.text("model", required=False)
    if model is not None and model not in BUSINESS_MODELS:
        problems.add(
            "model", f"must be a business model: {', '.join(BUSINESS_MODELS)}, not {model!r}"
        )
    plan_currency = _currency(reader)
    interval = reader.choice("interval", INTERVALS)
    fee_items, meter_items = reader.items("fixed_fees"), reader.items("meters")
    charge_items = reader.items("charges")
    fees = [
        _fixed_fee(FieldReader(item, f"fixed_fees[{index}]", problems), plan_currency)
        for index, item in enumerate(fee_items)
    ]
    meters = [
        _meter(FieldReader(item, f"meters[{index}]", problems))
        for index, item in enumerate(meter_items)
    ]
    meters_by_code: dict[str, Meter] = {}
    for meter in meters:  # a repeated code is reported below; the first meter stands
        if meter is not None:
            meters_by_code.setdefault(meter.code, meter)
    # A meter with a problem of its own is still declared: a charge naming it is not told
    # of an unknown meter, the meter's problem is reported once, at the meter.
    declared = {code for code in _raw_codes(meter_items) if code is not None}
    charges = [
        _charge(
            FieldReader(item, f"charges[{index}]", problems),
            meters_by_code,
            declared,
            plan_currency,
        )
        for index, item in enumerate(charge_items)
    ]
    features, usage_charges = parse_features(reader, meters_by_code, charges)
    thresholds = _thresholds(reader, plan_currency)
    commitment = Commitment(
        _money_amount(reader, "minimum_commitment", plan_currency, required=False, positive=True),
        _money_amount(reader, "maximum", plan_currency, required=False, positive=True),
    )
    one_offs = parse_one_off_charges(reader, plan_currency)
    contract = parse_contract(reader, plan_currency, fees)
    consumables = parse_consumables(reader, meters_by_code, plan_currency)
    service = parse_service(reader, meters_by_code, plan_currency)
    data_products = parse_data_products(reader, meters_by_code, plan_currency)
    sharing = parse_sharing(reader)
    charge_codes = [c.code if c else None for c in (*charges, *usage_charges)]
    check_commitment(reader, commitment, charge_codes, fees)
    fee_codes = _raw_codes(fee_items)
    _unique_codes(problems, "meters", _raw_codes(meter_items))
    _unique_codes(problems, "fixed_fees", fee_codes)
    _unique_codes(
        problems,
        "charges",
        _raw_codes(charge_items),
        taken={code: "fixed_fees" for code in fee_codes if code is not None},
    )
    _unique_codes(
        problems,
        "one_off_charges",
        [c.code if c else None for c in one_offs],
        taken={
            **{f.code: "fixed_fees" for f in fees if f is not None},
            **{c: "charges" for c in charge_codes if c is not None},
        },
    )
    problems.raise_if_any()
    assert code is not None and name is not None and plan_currency is not None
    return Plan(
        code=code,
        name=name,
        description=description,
        model=cast(BusinessModel | None, model),
        currency=plan_currency,
        interval=cast(Interval, interval),
        fixed_fees=tuple(f for f in fees if f is not None),
        meters=tuple(meters_by_code.values()),
        charges=(*(c for c in charges if c is not None), *usage_charges),
        thresholds=thresholds,
        commitment=commitment,
        features=features,
        one_off_charges=tuple(c for c in one_offs if c is not None),
        contract=contract,
        consumables=consumables,
        service=service,
        data_products=data_products,
        sharing=sharing,
    )


def _thresholds(reader: FieldReader, plan_currency: Currency | None) -> tuple[Decimal, ...]:
    """The progressive billing thresholds: positive amounts at the currency's minor unit,
    strictly increasing."""
    found: list[Decimal] = []
    for index, item in enumerate(reader.items("thresholds")):
        at = f"thresholds[{index}]"
        try:
            amount = parse_decimal(item, at)
        except InvalidInput as error:
            reader.problems.extend(error.problems)
            continue
        if amount <= 0:
            reader.problems.add(at, f"must be greater than 0, not {amount}")
        elif plan_currency is not None and round_money(amount, plan_currency) != amount:
            reader.problems.add(at, f"{amount} has more decimals than {plan_currency} allows")
        elif found and amount <= found[-1]:
            reader.problems.add(at, f"must be greater than the threshold before ({found[-1]})")
        else:
            found.append(amount)
    return tuple(found)


def _currency(reader: FieldReader) -> Currency | None:
    code = reader.text("currency")
    if code is None:
        return None
    try:
        return currency(code)
    except InvalidInput as error:
        reader.problems.extend(error.problems)
        return None


def _money_amount(
    reader: FieldReader,
    name: str,
    plan_currency: Currency | None,
    *,
    required: bool,
    positive: bool = False,
) -> Decimal | None:
    amount = reader.decimal(name, required=required, positive=positive)
    if amount is not None and not _in_minor_units(reader, name, amount, plan_currency):
        return None
    return amount


def _in_minor_units(
    reader: FieldReader, name: str, amount: Decimal, plan_currency: Currency | None
) -> bool:
    """Whether ``amount`` fits the currency's minor unit; records a problem if not."""
    if plan_currency is None or amount == amount.quantize(plan_currency.quantum):
        return True
    reader.problems.add(
        reader.path(name),
        f"{amount} has more decimals than {plan_currency.code} allows "
        f"({plan_currency.minor_units})",
    )
    return False


def _fixed_fee(reader: FieldReader, plan_currency: Currency | None) -> FixedFee | None:
    reader.reject_unknown(FEE_FIELDS)
    code = reader.text("code", limit=ID_LIMITS["code"])
    name = reader.text("name", required=False)
    amount = _money_amount(reader, "amount", plan_currency, required=True)
    timing = reader.choice("timing", ("advance", "arrears"), default="advance")
    if code is None or amount is None or timing is None:
        return None
    return FixedFee(code, amount, cast(FeeTiming, timing), name)


def _meter(reader: FieldReader) -> Meter | None:
    reader.reject_unknown(METER_FIELDS)
    before = len(reader.problems.problems)
    code = reader.text("code", limit=ID_LIMITS["code"])
    name = reader.text("name", required=False)
    event_type = reader.text("event_type", limit=ID_LIMITS["event_type"])
    aggregation = reader.choice("aggregation", tuple(AGGREGATIONS))
    property_name = reader.text("property", required=False, limit=ID_LIMITS["property"])
    if aggregation is not None:
        kind = AGGREGATIONS[aggregation].property_kind
        if kind is PropertyKind.NONE and property_name is not None:
            reader.problems.add(reader.path("property"), "count counts events: remove property")
        elif kind is not PropertyKind.NONE and property_name is None:
            reader.problems.add(reader.path("property"), f"is required by {aggregation}")
    filters = _filters(reader)
    group_by = reader.text("group_by", required=False, limit=ID_LIMITS["property"])
    allow_negative = reader.boolean("allow_negative")
    cap = parse_cap(reader, aggregation)
    recurring = reader.boolean("recurring")
    if recurring and aggregation is not None and aggregation not in RECURRING:
        reader.problems.add(
            reader.path("recurring"),
            f"carries a total or a last value into the next period: {', '.join(RECURRING)}"
            f" only, not {aggregation}",
        )
    elif recurring and cap is not None:
        reader.problems.add(
            reader.path("cap"),
            "a recurring total counts every earlier value, so it has no cap per day or hour",
        )
    per = reader.choice("per", WINDOW_LENGTHS) if reader.data.get("per") is not None else None
    if per is not None and aggregation is not None and aggregation not in PEAKED:
        reader.problems.add(
            reader.path("per"),
            f"sums the maximum of each local {per}: {', '.join(PEAKED)} only, not {aggregation}",
        )
    rounding = parse_rounding(reader)
    if len(reader.problems.problems) > before:
        return None
    assert code is not None and event_type is not None and aggregation is not None
    return Meter(
        code,
        event_type,
        aggregation,
        property_name,
        filters,
        group_by,
        allow_negative,
        name,
        cap,
        recurring,
        cast(WindowLength | None, per),
        rounding,
    )


def _filters(reader: FieldReader) -> tuple[tuple[str, tuple[Any, ...]], ...]:
    raw = reader.data.get("filters")
    if raw is None:
        return ()
    path = reader.path("filters")
    if not isinstance(raw, Mapping):
        reader.problems.add(path, "must map property names to a value or a list of values")
        return ()
    filters = []
    count = 0
    for key, value in raw.items():
        if not isinstance(key, str):  # YAML's 1: or true: as a key; a property name is text
            reader.problems.add(
                f"{path}.{key}",
                f"a property name must be a string, not {type(key).__name__} (quote it)",
            )
            continue
        if (wrong := text_problem(key, ID_LIMITS["property"])) is not None:
            reader.problems.add(f"{path}.{key[:40]}", wrong)
            continue
        values = value if isinstance(value, list) else [value]
        count += len(values)
        if not values or not all(isinstance(v, SCALAR_TYPES) for v in values):
            reader.problems.add(f"{path}.{key}", "must be a string, number or boolean, or a list")
            continue
        wrong_value = next((p for v in values if (p := _filter_value_problem(v))), None)
        if wrong_value is not None:
            reader.problems.add(f"{path}.{key}", wrong_value)
            continue
        filters.append((key, tuple(values)))
    if count > PLAN_LIMITS.max_filter_values:
        reader.problems.add(
            path, f"has {count} values; at most {PLAN_LIMITS.max_filter_values} are allowed"
        )
        return ()
    return tuple(filters)


def _filter_value_problem(value: Any) -> str | None:
    """Why a filter value cannot stand: text with a NUL or too long, an absurd number."""
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, Decimal) and not isinstance(value, bool):
        return None if value.is_finite() else "must be a finite number"
    return None


def _charge(
    reader: FieldReader,
    meters: Mapping[str, Meter],
    declared: set[str],
    plan_currency: Currency | None,
) -> Charge | None:
    before = len(reader.problems.problems)
    code = reader.text("code", limit=ID_LIMITS["code"])
    name = reader.text("name", required=False)
    model_name = reader.choice("model", tuple(PRICE_MODELS))
    model_class = PRICE_MODELS.get(model_name or "")
    allowed = CHARGE_FIELDS + (model_class.fields if model_class else ())
    reader.reject_unknown(allowed)
    meter_code = reader.text(
        "meter", required=model_name not in (None, "flat"), limit=ID_LIMITS["code"]
    )
    chosen = meters.get(meter_code) if meter_code is not None else None  # a valid meter's
    amounts = model_name in ("percentage", "graduated_percentage")
    if meter_code is not None and meter_code not in declared:
        known = ", ".join(sorted(declared)) or "none defined"
        reader.problems.add(reader.path("meter"), f"unknown meter {meter_code!r} (meters: {known})")
    elif chosen is not None and amounts and chosen.aggregation != "sum":
        reader.problems.add(
            reader.path("meter"), f"{model_name} needs a meter that sums an amount (sum)"
        )
    elif chosen is not None and chosen.recurring and (amounts or model_name == "dynamic"):
        priced = "each event" if model_name == "dynamic" else "the period's own events"
        reader.problems.add(
            reader.path("meter"),
            f"{model_name} prices {priced}, so its meter cannot be recurring",
        )
    elif chosen is not None and chosen.rounding and (amounts or model_name == "dynamic"):
        reader.problems.add(
            reader.path("meter"),
            f"{model_name} prices the events' amounts, not the quantity, so its meter cannot"
            " round the quantity",
        )
    min_amount = _money_amount(reader, "min_amount", plan_currency, required=False)
    risk_factor = parse_risk_factor(reader, meters)
    model = model_class.parse(reader) if model_class else None
    if isinstance(model, Dynamic) and chosen is not None and (chosen.cap or chosen.per):
        what = "a cap" if chosen.cap else "per"
        reader.problems.add(
            reader.path("meter"), f"dynamic prices each event, so its meter cannot have {what}"
        )
    if isinstance(model, Flat):  # a flat charge's amount is money, like a fixed fee's
        _in_minor_units(reader, "amount", model.amount, plan_currency)
    if model is None or len(reader.problems.problems) > before:
        return None
    assert code is not None
    return Charge(code, model, meter_code, min_amount, name, risk_factor)


def _raw_codes(items: list[Any]) -> list[str | None]:
    """The ``code`` of each item as written (``None`` where it is not text), whether or not
    the item is valid otherwise: a code given twice is reported even beside other problems."""
    codes = (item.get("code") if isinstance(item, Mapping) else None for item in items)
    return [code if isinstance(code, str) else None for code in codes]


def _unique_codes(
    problems: ProblemCollector,
    section: str,
    codes: list[str | None],
    taken: Mapping[str, str] | None = None,
) -> None:
    seen: dict[str, str] = dict(taken or {})
    for index, code in enumerate(codes):
        if code is None:
            continue
        if code in seen:
            problems.add(f"{section}[{index}].code", f"{code!r} is already used in {seen[code]}")
        else:
            seen[code] = section
