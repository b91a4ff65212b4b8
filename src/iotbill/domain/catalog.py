"""The catalog: plans, their meters, charges and fixed fees, as frozen values.

A plan is data, not code: :mod:`iotbill.domain.plan_parsing` builds these
values from a YAML or JSON document and reports every problem with its field
path. See docs/plans.md for the file format.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from iotbill.domain.entitlements import Feature
from iotbill.domain.metering import AGGREGATIONS, RECURRING, Aggregation, Window
from iotbill.domain.metering.rounding import Rounding
from iotbill.domain.metering.window_cap import (
    CappedQuantity,
    WindowCap,
    WindowLength,
    capped_quantity,
)
from iotbill.domain.metering.window_peaks import peak_quantity
from iotbill.domain.models.asset_sharing import SharingTerms
from iotbill.domain.models.data_products import DataProduct
from iotbill.domain.models.risk_factor import RiskFactor
from iotbill.domain.models.sla import SlaTerms
from iotbill.domain.money import Currency
from iotbill.domain.pricing import PriceModel

Interval = Literal["day", "week", "month", "quarter", "year"]
INTERVALS: tuple[Interval, ...] = ("day", "week", "month", "quarter", "year")
BusinessModel = Literal[
    "retail_sale",
    "lease",
    "subscription",
    "outcome_based",
    "asset_sharing",
    "razor_blade",
    "data_monetization",
    "pay_per_usage",
    "service",
]
BUSINESS_MODELS: tuple[BusinessModel, ...] = (
    "retail_sale",
    "lease",
    "subscription",
    "outcome_based",
    "asset_sharing",
    "razor_blade",
    "data_monetization",
    "pay_per_usage",
    "service",
)
"""The IoT business models a plan may say it implements (its ``model`` tag): revenue is
reported by them."""
FeeTiming = Literal["advance", "arrears"]
OnCancel = Literal["bill_remaining", "forgive"]
ON_CANCEL: tuple[OnCancel, ...] = ("bill_remaining", "forgive")
AtTermEnd = Literal["renew", "evergreen", "cancel"]
AT_TERM_END: tuple[AtTermEnd, ...] = ("renew", "evergreen", "cancel")


@dataclass(frozen=True, slots=True)
class Meter:
    """What to aggregate: events of ``event_type``, their ``property``, by ``aggregation``.

    ``filters`` keeps only events whose property equals one of the listed
    values; ``group_by`` splits the quantity by a property's value; ``cap``
    counts at most so much in each local day or hour; ``recurring`` carries the
    total (a ``sum``, a ``weighted_sum``) or the last value (a ``latest``) from
    period to period; ``per`` (a ``max`` only) sums the maximum of each local day
    or hour; ``rounding`` rounds the quantity, last, before it is priced.
    """

    code: str
    event_type: str
    aggregation: str
    property: str | None = None
    filters: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    group_by: str | None = None
    allow_negative: bool = False
    name: str | None = None
    cap: WindowCap | None = None
    recurring: bool = False
    per: WindowLength | None = None
    rounding: Rounding | None = None

    def aggregator(self) -> Aggregation:
        """The aggregation rule this meter applies."""
        if self.recurring:
            return RECURRING[self.aggregation]
        return AGGREGATIONS[self.aggregation]

    def quantity(self, window: Window, zone: ZoneInfo) -> CappedQuantity:
        """The meter's quantity over ``window``: aggregated, then capped in each local
        window of ``zone`` when the meter has a cap; the sum of each local window's
        maximum when it has ``per``; then rounded, when it has ``rounding``."""
        if self.per is not None:
            peaks = peak_quantity(window, self.per, zone)
            measured = CappedQuantity(peaks, peaks, 0)
        elif self.cap is None:
            quantity = window.measured
            if quantity is None:
                quantity = self.aggregator().aggregate(window)
            measured = CappedQuantity(quantity, quantity, 0)
        else:
            measured = capped_quantity(window, self.aggregator(), self.cap, zone)
        if self.rounding is None:
            return measured
        rounded = self.rounding.apply(measured.quantity)
        if rounded == measured.quantity:
            return measured
        return replace(measured, quantity=rounded, unrounded=measured.quantity)


@dataclass(frozen=True, slots=True)
class Charge:
    """A meter priced by a price model (``meter`` is ``None`` for a flat charge), its
    price multiplied by ``risk_factor``'s factor when it has one."""

    code: str
    model: PriceModel
    meter: str | None = None
    min_amount: Decimal | None = None
    name: str | None = None
    risk_factor: RiskFactor | None = None


@dataclass(frozen=True, slots=True)
class FixedFee:
    """A recurring fee, billed at the start (``advance``) or end (``arrears``) of a period."""

    code: str
    amount: Decimal
    timing: FeeTiming = "advance"
    name: str | None = None


@dataclass(frozen=True, slots=True)
class OneOffPlanCharge:
    """A price billed once per subscription, from its first invoice, in ``instalments``
    parts over its first periods; ``on_cancel`` says what becomes of the parts not billed
    when service ends first. See :mod:`iotbill.domain.instalments`."""

    code: str
    amount: Decimal
    instalments: int = 1
    on_cancel: OnCancel = "bill_remaining"
    name: str | None = None


@dataclass(frozen=True, slots=True)
class TerminationFee:
    """What ending a contract before its term costs: a fixed ``amount``, or ``percent`` of
    the fixed fees of the whole periods left in the term (exactly one is set)."""

    amount: Decimal | None = None
    percent: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ContractTerms:
    """A lease's terms: ``term`` billing periods, what happens ``at_term_end``, the fee for
    ending early, and the price at which the customer may buy the device at term end. See
    :mod:`iotbill.domain.lease`."""

    term: int
    at_term_end: AtTermEnd = "evergreen"
    early_termination_fee: TerminationFee | None = None
    buy_out: Decimal | None = None

    def as_json(self) -> dict[str, Any]:
        """``{"term", "at_term_end", "early_termination_fee": {"amount"} | {"percent"} |
        null, "buy_out"}``, numbers as exact strings."""
        fee = self.early_termination_fee
        return {
            "term": self.term,
            "at_term_end": self.at_term_end,
            "early_termination_fee": None
            if fee is None
            else {"amount": _text(fee.amount)}
            if fee.amount is not None
            else {"percent": _text(fee.percent)},
            "buy_out": _text(self.buy_out),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ContractTerms:
        """The terms :meth:`as_json` wrote (as stored: checked when they were given)."""
        fee = data["early_termination_fee"]
        return cls(
            data["term"],
            data["at_term_end"],
            None
            if fee is None
            else TerminationFee(_number(fee.get("amount")), _number(fee.get("percent"))),
            _number(data["buy_out"]),
        )


def _text(number: Decimal | None) -> str | None:
    return None if number is None else f"{number:f}"


def _number(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


@dataclass(frozen=True, slots=True)
class Consumable:
    """Something a device uses up and the plan reorders (razor-blade model): its level is
    the property of ``meter``'s events; an order is placed when the forecast run-out is
    within ``lead_time``, and billed ``price`` once. See :mod:`iotbill.domain.models.reorder`
    and :mod:`iotbill.domain.consumable_parsing`."""

    code: str
    meter: str
    event_type: str
    property: str
    price: Decimal
    lead_time: timedelta
    horizon: timedelta
    window: timedelta
    refill_rise: Decimal
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Part:
    """A spare part a technician may fit, at ``price`` each (service model)."""

    code: str
    price: Decimal
    name: str | None = None


@dataclass(frozen=True, slots=True)
class AlertRule:
    """A work order is opened when ``meter``'s property stays above ``above`` for at least
    ``window`` (service model). See :mod:`iotbill.domain.models.alert_rules`."""

    code: str
    meter: str
    event_type: str
    property: str
    above: Decimal
    window: timedelta
    summary: str | None = None


@dataclass(frozen=True, slots=True)
class ServiceTerms:
    """What a work order bills (service model): time on site at ``labour_rate`` an hour,
    counted in started ``labour_increment`` blocks, and the ``parts`` fitted at their
    prices; the ``alerts`` that open work orders; the ``sla`` whose breaches are credited
    (:mod:`iotbill.domain.models.sla`). See :mod:`iotbill.domain.models.work_orders`."""

    labour_rate: Decimal
    labour_increment: timedelta
    parts: tuple[Part, ...] = ()
    alerts: tuple[AlertRule, ...] = ()
    sla: SlaTerms | None = None

    def part(self, code: str) -> Part | None:
        return next((part for part in self.parts if part.code == code), None)


@dataclass(frozen=True, slots=True)
class Commitment:
    """What a plan's charges bill together per period: at least ``minimum`` (a shortfall
    is billed as a true-up), at most ``maximum`` (the excess is credited); both
    prorated by second on a partial period. See :mod:`iotbill.domain.commitments`."""

    minimum: Decimal | None = None
    maximum: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    """A named set of charges in one currency, billed every ``interval``."""

    code: str
    name: str
    currency: Currency
    interval: Interval
    fixed_fees: tuple[FixedFee, ...] = ()
    meters: tuple[Meter, ...] = ()
    charges: tuple[Charge, ...] = ()
    description: str | None = None
    thresholds: tuple[Decimal, ...] = ()
    """Progressive billing: amounts of a period's usage charges, increasing, at each of
    which the bill run issues an interim invoice (once per period and threshold)."""
    model: BusinessModel | None = None
    """Which business model the plan implements (``None``: untagged)."""
    commitment: Commitment = Commitment()
    """The least and the most its charges bill together per period (none by default)."""
    features: tuple[Feature, ...] = ()
    """What the plan grants (:mod:`~iotbill.domain.entitlements`); each metered feature also
    has its charge in ``charges``, coded like it (:mod:`~iotbill.domain.feature_parsing`)."""
    one_off_charges: tuple[OneOffPlanCharge, ...] = ()
    """Prices billed once per subscription that starts on the plan (a device sold), perhaps
    in instalments."""
    contract: ContractTerms | None = None
    """A lease's term, renewal, early termination fee and buy-out (``None``: no term)."""
    consumables: tuple[Consumable, ...] = ()
    """What its devices use up and the reorder job orders for them (razor-blade model)."""
    service: ServiceTerms | None = None
    """What a work order on its devices bills (service model; ``None``: no work orders)."""
    data_products: tuple[DataProduct, ...] = ()
    """The data products a buyer subscribed to the plan may export (data-monetization
    model)."""

    def data_product(self, code: str) -> DataProduct | None:
        """The data product with ``code``, or ``None`` when the plan does not hold it."""
        return next((product for product in self.data_products if product.code == code), None)

    sharing: SharingTerms | None = None
    """How its devices sell their spare capacity and the owner's share (asset-sharing
    model; ``None``: they sell none). See :mod:`iotbill.domain.models.asset_sharing`."""

    def feature(self, code: str) -> Feature | None:
        """The feature with ``code``, or ``None`` when the plan does not list it."""
        return next((feature for feature in self.features if feature.code == code), None)

    def meter(self, code: str) -> Meter:
        """The meter with ``code`` (plans are validated, so charges name real meters)."""
        return next(meter for meter in self.meters if meter.code == code)


@dataclass(frozen=True, slots=True)
class PlanDocument:
    """A plan and the document it was read from.

    ``text`` is kept as written (comments and all) when the plan is stored;
    ``source`` names the document in error messages (a file name).
    """

    plan: Plan
    text: str
    source: str
