"""The JSON bodies the API takes and gives, as pydantic models (the OpenAPI document's schemas).

Bodies are strict: an unknown field, a number where text is due (amounts and
rates are exact decimal strings, never binary floats), or a missing field is
422 naming the field. Dates and instants are text: a date (``2026-03-01``)
means local midnight in the customer's time zone; a date and time must carry
a UTC offset. The answers' shapes are those of :mod:`iotbill.entrypoints.views`
and the domain's ``as_json``, with ids in their URL form (:mod:`.ids`).
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from iotbill.domain.api_keys import Scope

T = TypeVar("T")

Id = Annotated[str, Field(min_length=1, max_length=128)]
Text = Annotated[str, Field(max_length=2000)]
Moment = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description="A date (local midnight in the customer's zone) or a date and time "
        "with a UTC offset.",
        examples=["2026-03-01", "2026-03-01T12:00:00Z"],
    ),
]
Decimal = Annotated[
    str, Field(min_length=1, max_length=64, description="An exact decimal, as text.")
]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Out(BaseModel):
    """An answer's shape. Fields that a newer part of iotbill adds to a view pass through
    (``additionalProperties``), so clients must ignore the fields they do not know."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class CustomerIn(Body):
    id: Id
    name: Annotated[str, Field(min_length=1, max_length=500)]
    currency: Annotated[str, Field(min_length=1, max_length=3, examples=["EUR"])]
    timezone: Annotated[str, Field(min_length=1, max_length=64, examples=["Europe/Berlin"])]
    billing_address: Text = ""
    tax_rate: Decimal = Field(default="0", description="A percentage, exact: 19, 8.875.")


class CustomerOut(Out):
    id: str
    name: str
    currency: str
    timezone: str
    billing_address: str
    tax_rate: str


class DeviceIn(Body):
    id: Annotated[str, Field(min_length=1, max_length=256)]
    customer: Id
    start: Moment


class DeviceMoveIn(Body):
    customer: Id
    at: Moment


class Ownership(Out):
    customer: str
    from_: str = Field(alias="from")


class DeviceOut(Out):
    id: str
    owner: str
    ownership: list[Ownership]
    retired_at: str | None = Field(None, description="Out of service from then; else null.")


class DeviceMoveOut(Out):
    device: DeviceOut
    events_moved: int


class PlanIn(Body):
    document: Annotated[
        str,
        Field(min_length=1, max_length=1_000_000, description="The plan, as YAML or JSON text."),
    ]


class FixedFeeOut(Out):
    code: str
    name: str
    amount: str
    timing: str


class MeterOut(Out):
    code: str
    event_type: str
    aggregation: str
    property: str | None


class ChargeOut(Out):
    code: str
    name: str
    meter: str | None
    model: str


class PlanOut(Out):
    code: str
    version: int
    name: str
    description: str | None
    currency: str
    interval: str
    created_at: str | None
    fixed_fees: list[FixedFeeOut]
    meters: list[MeterOut]
    charges: list[ChargeOut]
    thresholds: list[str] = Field(
        default=[], description="Progressive billing: amounts per period, at the minor unit."
    )
    document: str | None = None
    created: bool | None = Field(
        default=None, description="On upload: whether a new version was stored."
    )


class SubscriptionIn(Body):
    customer: Id
    plan: Id
    start: Moment
    plan_version: Annotated[int, Field(ge=1)] | None = None
    billing_mode: Literal["calendar", "anniversary"] = "calendar"
    trial_days: Annotated[int, Field(ge=0, le=3660)] | None = None
    trial_end: Moment | None = None
    device: Annotated[str, Field(min_length=1, max_length=256)] | None = None
    id: Id | None = None


class SubscriptionChangeIn(Body):
    plan: Id
    timing: Literal["immediate", "period_end"]
    at: Moment | None = None
    plan_version: Annotated[int, Field(ge=1)] | None = None


class SubscriptionCancelIn(Body):
    timing: Literal["immediate", "period_end"]
    at: Moment | None = None


class StepIn(Body):
    """A step that happens at ``at`` (now when absent); the whole body may be left out."""

    at: Moment | None = None


class SubscriptionPauseIn(StepIn):
    pass


class CouponIn(Body):
    code: Annotated[str, Field(min_length=1, max_length=64)]
    name: Text = ""
    percent: Decimal | None = Field(default=None, description="Percentage off: > 0, <= 100.")
    amount: Decimal | None = Field(default=None, description="Amount off each period.")
    currency: Annotated[str, Field(min_length=1, max_length=3)] | None = None
    plan: Id | None = Field(default=None, description="Only this plan's lines.")
    charge: Id | None = Field(default=None, description="Only this charge's (or fee's) lines.")
    periods: Annotated[int, Field(ge=1, le=1200)] | None = Field(
        default=None, description="Billing periods it lasts; none: forever."
    )
    max_redemptions: Annotated[int, Field(ge=1)] | None = None


class CouponOut(Out):
    code: str
    kind: str
    percent: str | None
    amount: str | None
    currency: str | None
    periods: int | None
    max_redemptions: int | None
    redeemed: int


class RedemptionIn(Body):
    subscription: Annotated[str, Field(min_length=1, max_length=400)]
    at: Moment | None = None


class RedemptionOut(Out):
    id: str
    coupon: str
    subscription: str
    customer: str
    redeemed_at: str


class CreditIn(Body):
    customer: Id
    amount: Decimal
    purchased: bool = Field(
        default=False, description="Bought: billed, untaxed, as a one-off charge."
    )
    expires_at: Moment | None = None
    priority: Annotated[int, Field(ge=-1000, le=1000)] = 0
    description: Text = ""
    at: Moment | None = None


class OneOffChargeOut(Out):
    id: str
    kind: str
    customer: str
    description: str
    quantity: str
    unit_price: str
    amount: str
    currency: str
    recorded_at: str
    invoice: str | None


class CreditOut(Out):
    id: str
    customer: str
    kind: str
    amount: str
    currency: str
    remaining: str
    charge: OneOffChargeOut | None = None


class LedgerEntryOut(Out):
    id: str
    at: str
    debit: str
    credit: str
    amount: str


class BalanceOut(Out):
    customer: str
    currency: str
    balance: str = Field(description="What the customer's credits account holds.")
    entries: list[LedgerEntryOut]


class ChargeIn(Body):
    customer: Id
    description: Annotated[str, Field(min_length=1, max_length=500)]
    amount: Decimal = Field(description="The price of one unit, in the customer's currency.")
    quantity: Decimal = "1"
    at: Moment | None = None


class OrderOut(Out):
    id: str
    customer: str
    device: str
    consumable: str
    price: str
    currency: str
    status: str
    placed_at: str | None
    charge: str | None


class WorkOrderIn(Body):
    device: Annotated[str, Field(min_length=1, max_length=256)]
    summary: Annotated[str, Field(min_length=1, max_length=500)]
    at: Moment | None = None


class WorkOrderResolveIn(StepIn):
    parts: dict[Annotated[str, Field(min_length=1, max_length=64)], Annotated[int, Field(ge=1)]] = (
        Field(default_factory=dict, description="Parts fitted: code and count.")
    )


class WorkOrderOut(Out):
    id: str
    customer: str
    device: str
    summary: str
    status: str
    opened_at: str | None
    dispatched_at: str | None
    on_site_at: str | None
    resolved_at: str | None
    charges: list[OneOffChargeOut] | None = None


class ConsentOut(Out):
    device: str
    given_at: str
    withdrawn_at: str | None


class DataExportIn(Body):
    product: Id
    buyer: Annotated[str, Field(min_length=1, max_length=400)] | None = Field(
        default=None, description="The customer holding the product; a party's key: itself."
    )
    start: Annotated[str, Field(alias="from", min_length=1, max_length=64)]
    end: Annotated[str, Field(alias="to", min_length=1, max_length=64)]
    format: Literal["csv", "jsonl", "parquet"] = "csv"
    id: Id | None = Field(
        default=None, description="The export's id: the same id again bills nothing more."
    )


class DataExportOut(Out):
    id: str
    buyer: str
    product: str
    from_: str = Field(alias="from")
    to: str
    format: str
    records: int
    suppressed: int
    revenue: str
    currency: str


class BuyerIn(Body):
    device: Annotated[str, Field(min_length=1, max_length=256)]
    buyer: Annotated[str, Field(min_length=1, max_length=128)] = Field(
        description="The buyer's name in the device's sale events."
    )
    customer: Annotated[str, Field(min_length=1, max_length=400)] | None = Field(
        default=None, description="The customer invoiced for what it buys."
    )
    paid_directly: bool = Field(
        default=False, description="A market that pays the operator directly (no customer)."
    )
    at: Moment | None = None


class Phase(Out):
    plan: str
    version: int
    start: str | None


class Cancellation(Out):
    timing: str
    requested_at: str | None
    effective_at: str | None
    reason: str


class Pause(Out):
    start: str | None
    end: str | None


class TerminationFeeOut(Out):
    amount: str | None = None
    percent: str | None = None


class ContractOut(Out):
    term: int
    at_term_end: str
    early_termination_fee: TerminationFeeOut | None
    buy_out: str | None


class SubscriptionOut(Out):
    id: str
    customer: str
    device: str | None
    billing_mode: str
    interval: str
    start: str | None
    trial_end: str | None
    phases: list[Phase]
    cancellation: Cancellation | None
    pauses: list[Pause]
    end: str | None


class Period(Out):
    start: str
    end: str


class Tax(Out):
    rate: str
    amount: str


class InvoiceOut(Out):
    id: str
    number: str | None
    kind: str = Field(description="What the invoice bills: opening, close, adjustment, ...")
    status: Literal["draft", "finalized", "paid", "void"]
    customer: str
    subscription: str | None
    currency: str
    period: Period
    lines: list[dict[str, Any]]
    subtotal: str
    tax: Tax
    total: str
    credit_notes: str = Field(description="What credit notes took off the total")
    balance_applied: str = Field(description="What the customer's balance paid at finalization")
    payments: str = Field(description="What payments recorded against the invoice paid")
    amount_due: str = Field(
        description="max(0, total - credit_notes - balance_applied - payments); 0 when void"
    )
    due_on: str | None
    issued_at: str
    finalized_at: str | None
    paid_at: str | None
    voided_at: str | None


class UsageMeter(Out):
    code: str
    event_type: str
    aggregation: str
    property: str | None


class UsageRow(Out):
    meter: str
    start: str
    end: str
    group: str | None
    quantity: str


class UsageOut(Out):
    """Stored usage per meter and bucket, as ``iotbill usage`` gives it."""

    customer: str
    device: str | None
    timezone: str
    from_: str = Field(alias="from")
    to: str
    by: str | None
    meters: list[UsageMeter]
    rows: list[UsageRow]


class PayIn(Body):
    at: Moment | None = None


class CreditNoteIn(Body):
    invoice: Annotated[str, Field(min_length=1, max_length=400)]
    reason: Annotated[str, Field(min_length=1, max_length=500)]
    amount: Decimal | None = Field(
        default=None, description="Before tax; none: all that is left to credit."
    )
    description: Text | None = None


class CreditNoteOut(Out):
    id: str
    number: str
    invoice: str
    currency: str
    reason: str
    lines: list[dict[str, Any]]
    subtotal: str
    tax: Tax
    total: str
    issued_at: str


class KeyIn(Body):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    scopes: Annotated[list[Scope], Field(min_length=1, max_length=4)]
    party: Id | None = Field(
        default=None,
        description="A customer the key acts for alone (billing:read and billing:write only).",
    )


class KeyOut(Out):
    id: str
    prefix: str = Field(description="How the key's text begins: enough to recognise it.")
    name: str
    scopes: list[str]
    created_at: str
    revoked_at: str | None
    party: str | None = None


class CreatedKeyOut(KeyOut):
    key: str = Field(description="The key itself: shown this once, never again.")


class EventIn(BaseModel):
    """A usage event, as ``iotbill ingest`` reads it (numbers in ``properties`` are exact)."""

    model_config = ConfigDict(extra="forbid")

    id: Annotated[str, Field(min_length=1, max_length=256)]
    type: Annotated[str, Field(min_length=1, max_length=256)]
    device: Annotated[str, Field(min_length=1, max_length=256)]
    timestamp: Annotated[
        str, Field(description="With a UTC offset.", examples=["2026-01-09T12:00:00Z"])
    ]
    properties: dict[str, Any] = {}
    corrects: Annotated[str, Field(min_length=1, max_length=256)] | None = None
    voids: Annotated[str, Field(min_length=1, max_length=256)] | None = None


class EventResult(Out):
    index: int = Field(description="The item's position in the body (0 for a single event).")
    id: str | None
    status: Literal["accepted", "duplicate", "conflict", "rejected"]
    field: str | None = None
    reason: str | None = None


class EventsOut(Out):
    atomic: bool
    stored: int = Field(description="Events newly stored by this request.")
    accepted: int
    duplicates: int
    conflicts: int
    rejected: int
    results: list[EventResult]


class Health(Out):
    status: str
    detail: str | None = None


class PageOf(BaseModel, Generic[T]):
    """One page of a list: ``next_cursor`` reads on (``null``: the end)."""

    data: list[T]
    next_cursor: str | None
