"""Reading a plan's usage terms: commitments, per-window caps and risk factors.

The parts of :func:`~iotbill.domain.plan_parsing.parse_plan` that bound or
scale usage, in the same style: every problem is recorded with its field path
(``meters[0].cap.per: must be one of day, hour, not 'week'``,
``charges[1].risk_factor.table[2].up_to: must be greater than 4``) and the
plan loader raises them all together, storing nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import cast

from iotbill.domain.catalog import Commitment, FixedFee, Meter
from iotbill.domain.commitments import CAP_CREDIT, TRUE_UP
from iotbill.domain.fields import FieldReader
from iotbill.domain.input_rules import ID_LIMITS, PLAN_LIMITS
from iotbill.domain.metering.rounding import (
    MAX_PRECISION,
    MIN_PRECISION,
    ROUNDING_FUNCTIONS,
    Rounding,
    RoundingFunction,
)
from iotbill.domain.metering.window_cap import CAPPABLE, WINDOW_LENGTHS, WindowCap, WindowLength
from iotbill.domain.models.risk_factor import RiskBand, RiskFactor

CAP_FIELDS = ("per", "max")
ROUNDING_FIELDS = ("function", "precision")
RISK_FIELDS = ("events", "exposure", "per", "table")
BAND_FIELDS = ("up_to", "factor")


def parse_cap(reader: FieldReader, aggregation: str | None) -> WindowCap | None:
    """A meter's ``cap``: ``{per: day | hour, max: N}``, on a meter that counts or sums."""
    cap = reader.section("cap")
    if cap is None:
        return None
    before = len(reader.problems.problems)
    cap.reject_unknown(CAP_FIELDS)
    per = cap.choice("per", WINDOW_LENGTHS)
    most = cap.decimal("max", positive=True)
    if aggregation is not None and aggregation not in CAPPABLE:
        reader.problems.add(
            reader.path("cap"),
            f"caps the quantity of each window, which a meter by {aggregation} does not add"
            f" up: use {' or '.join(CAPPABLE)}",
        )
    if len(reader.problems.problems) > before or per is None or most is None:
        return None
    return WindowCap(cast(WindowLength, per), most)


def parse_rounding(reader: FieldReader) -> Rounding | None:
    """A meter's ``rounding``: ``{function: round | ceil | floor, precision: N}``, ``N`` whole,
    from -9 to 9 (0 if left out)."""
    rounding = reader.section("rounding")
    if rounding is None:
        return None
    before = len(reader.problems.problems)
    rounding.reject_unknown(ROUNDING_FIELDS)
    function = rounding.choice("function", ROUNDING_FUNCTIONS)
    precision = rounding.integer("precision", minimum=MIN_PRECISION)
    if precision is not None and precision > MAX_PRECISION:
        reader.problems.add(
            rounding.path("precision"),
            f"must be at most {MAX_PRECISION} (a quantity has no more decimals), not {precision}",
        )
    if len(reader.problems.problems) > before or function is None or precision is None:
        return None
    return Rounding(cast(RoundingFunction, function), precision)


def parse_risk_factor(reader: FieldReader, meters: Mapping[str, Meter]) -> RiskFactor | None:
    """A charge's ``risk_factor``: the ratio of two meters and its table of factors."""
    risk = reader.section("risk_factor")
    if risk is None:
        return None
    before = len(reader.problems.problems)
    risk.reject_unknown(RISK_FIELDS)
    events = _ratio_meter(risk, "events", meters)
    exposure = _ratio_meter(risk, "exposure", meters)
    per = risk.decimal("per", required=False, default=Decimal(1), positive=True)
    table = _table(risk)
    if len(reader.problems.problems) > before:
        return None
    assert events is not None and exposure is not None and per is not None
    return RiskFactor(events, exposure, per, table)


def _ratio_meter(reader: FieldReader, name: str, meters: Mapping[str, Meter]) -> str | None:
    code = reader.text(name, limit=ID_LIMITS["code"])
    if code is None:
        return None
    meter = meters.get(code)
    if meter is None:
        known = ", ".join(sorted(meters)) or "none defined"
        reader.problems.add(reader.path(name), f"unknown meter {code!r} (meters: {known})")
    elif meter.group_by is not None:
        reader.problems.add(
            reader.path(name), f"meter {code!r} is split by group_by; a ratio needs one quantity"
        )
    return code


def _table(reader: FieldReader) -> tuple[RiskBand, ...]:
    rows = reader.items("table", required=True, limit=PLAN_LIMITS.max_tiers)
    if reader.data.get("table") == []:
        reader.problems.add(reader.path("table"), "must list at least one row")
    bands: list[RiskBand] = []
    previous: Decimal | None = None
    for index, item in enumerate(rows):
        row = FieldReader(item, f"{reader.path('table')}[{index}]", reader.problems)
        row.reject_unknown(BAND_FIELDS)
        up_to = _band_bound(row, previous, is_last=index == len(rows) - 1)
        factor = row.decimal("factor")
        if up_to is not None:
            previous = up_to
        if factor is not None:
            bands.append(RiskBand(up_to, factor))
    return tuple(bands)


def _band_bound(row: FieldReader, previous: Decimal | None, *, is_last: bool) -> Decimal | None:
    """A row's ``up_to``: ascending strictly; ``null`` on the last row only."""
    path = row.path("up_to")
    if not row.has("up_to"):
        if not is_last:
            row.problems.add(path, "only the last row may be unlimited (up_to: null)")
        return None
    up_to = row.decimal("up_to")
    if up_to is None:
        return None
    if is_last:
        row.problems.add(path, "the last row must have up_to: null (unlimited)")
    elif previous is not None and up_to <= previous:
        row.problems.add(path, f"must be greater than {previous} (bounds ascend)")
    return up_to


def check_commitment(
    reader: FieldReader,
    commitment: Commitment,
    charge_codes: Sequence[str | None],
    fees: Sequence[FixedFee | None],
) -> None:
    """Records what is wrong with the plan's ``minimum_commitment`` and ``maximum``
    (money per period, read by the plan loader): a maximum below the minimum, or
    either on a plan without charges.

    The charge codes of their lines (:data:`~iotbill.domain.commitments.TRUE_UP`,
    :data:`~iotbill.domain.commitments.CAP_CREDIT`) are refused as a charge's or a
    fee's code, so that each code on an invoice names one thing.
    """
    minimum, maximum = commitment.minimum, commitment.maximum
    if minimum is not None and maximum is not None and maximum < minimum:
        reader.problems.add(
            reader.path("maximum"),
            f"must be at least the minimum_commitment ({minimum}), not {maximum}",
        )
    for name, amount in (("minimum_commitment", minimum), ("maximum", maximum)):
        if amount is not None and not charge_codes:
            reader.problems.add(
                reader.path(name), "bounds what the plan's charges bill: it has none"
            )
    taken = {TRUE_UP: minimum, CAP_CREDIT: maximum}
    fee_codes = [fee.code if fee is not None else None for fee in fees]
    for section, codes in (("charges", charge_codes), ("fixed_fees", fee_codes)):
        for index, code in enumerate(codes):
            if code is not None and taken.get(code) is not None:
                reader.problems.add(
                    f"{section}[{index}].code",
                    f"{code!r} names the plan's commitment line: choose another code",
                )
