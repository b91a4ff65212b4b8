"""Invoices and credit notes: lifecycle, numbering, totals, tax and the one JSON schema.

Lifecycle::

    draft ──finalize(number)──► finalized ──pay──► paid
      │                            │
      └──────────void──────────────┴──void──► void

A draft may be revised (late events during the grace period still count); the
bill run finalizes it once ``grace_until`` has passed. Finalizing assigns the
invoice's number (sequential and gap-free per tenant, given by the caller; see
:mod:`iotbill.domain.numbering`) and freezes it: a finalized invoice never
changes again, except its status (paid, void) and the credits of the credit
notes issued against it. Any other transition is a
:class:`~iotbill.domain.errors.Conflict`. A paid invoice is corrected by a
:class:`CreditNote`, never voided.

Totals: ``subtotal`` is the exact sum of the rounded lines; ``tax`` is the
invoice's tax rate (the customer's, copied when the invoice is drafted) applied
once to that sum and then rounded by :func:`~iotbill.domain.money.round_money`
(every line kind is taxable, credits and adjustments included, so they reduce
the tax too); ``total = subtotal + tax``; ``credits`` is the sum of the totals
of the credit notes issued against it; ``amount_due = total - credits``, never
below zero. A credit note cannot credit more than is left, so ``amount_due`` is
zero only when fully credited or when the total is negative (a downgrade whose
credit exceeds its charge). Then nothing is due, and the negative subtotal is
carried to the next invoice as an adjustment line (:func:`carried_credit_line`),
where it is taxed again at that invoice's rate.

``Invoice.as_json`` is the one schema that the command line and the API print::

    {"id", "number", "kind", "status", "customer", "subscription", "currency",
     "period": {"start", "end"}, "lines": [InvoiceLine.as_json, ...],
     "subtotal", "tax": {"rate", "amount"}, "total", "credits", "amount_due",
     "issued_at", "finalized_at", "paid_at", "voided_at"}

Amounts are strings at the currency's minor unit (``"12.30"``, ``"1230"`` for
JPY); the tax rate is an exact percentage string (``"19"``); instants are ISO
8601 in UTC; ``number`` and ``finalized_at`` are ``null`` on a draft,
``paid_at`` until it is paid, ``voided_at`` unless it is void.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal, Protocol

from iotbill.domain.customers import Customer
from iotbill.domain.errors import Conflict, InvalidInput, ProblemCollector
from iotbill.domain.input_rules import text_problem
from iotbill.domain.invoicing import InvoiceLine, subtotal, taxable
from iotbill.domain.money import Currency, format_money, round_money
from iotbill.domain.periods import Period, require_aware
from iotbill.domain.pricing import Detail
from iotbill.domain.quantities import decimal_text
from iotbill.domain.tax_rates import MAX_TAX_RATE

InvoiceStatus = Literal["draft", "finalized", "paid", "void"]


class DocumentKind(StrEnum):
    """What an invoice bills: each kind is issued at its own moment of a subscription.

    The kind is stored with the invoice (never read back out of its id):
    :mod:`iotbill.domain.documents` says when each kind is due.
    """

    OPENING = "opening"
    """The first period's advance fees, issued when the subscription starts."""
    CHANGE = "change"
    """The prorated difference of a plan change or migration inside a period."""
    CANCELLATION = "cancellation"
    """The prorated credit (or charge) of an immediate cancellation."""
    PAUSE = "pause"
    """The credit of the advance fees from a pause to the end of its period."""
    RESUME = "resume"
    """The advance fees from a resumption to the end of its period."""
    CLOSE = "close"
    """A period's close: its usage and arrears fees, and the next period's advance fees.
    The only kind priced from events, so the only one revised while a draft and the one
    that carries late-usage adjustments."""
    LATE = "late"
    """Late usage of a subscription whose service has ended: the adjustments a next
    ``close`` invoice would have carried."""
    INTERIM = "interim"
    """Progressive billing: a period's usage so far, issued when it reaches a threshold of
    the plan, less what earlier interim invoices of the period billed."""
    PURCHASE = "purchase"
    """A customer's purchase of prepaid credit: one untaxed line, of no subscription."""

    @property
    def priced_from_usage(self) -> bool:
        """Whether invoices of this kind are priced from the period's events."""
        return self is DocumentKind.CLOSE


@dataclass(frozen=True, slots=True)
class Totals:
    """An invoice's or credit note's sums, each at the currency's minor unit."""

    subtotal: Decimal
    tax: Decimal
    total: Decimal


def totals(lines: Iterable[InvoiceLine], tax_rate: Decimal, currency: Currency) -> Totals:
    """Subtotal of the rounded lines, tax once on its taxable part (rounded; every line
    but prepaid credit bought, :data:`~iotbill.domain.invoicing.UNTAXED`), and their total.

    >>> from iotbill.domain.money import currency
    >>> usd = currency("USD")
    >>> line = InvoiceLine.rounded(usd, charge="sms", kind="usage", description="SMS",
    ...     quantity=Decimal(1), unit_price=None, exact_amount=Decimal("0.02"))
    >>> totals([line, line, line], Decimal(25), usd)  # per line, tax would be 3 x 0.01
    Totals(subtotal=Decimal('0.06'), tax=Decimal('0.02'), total=Decimal('0.08'))
    """
    lines = tuple(lines)
    sum_of_lines = subtotal(lines)
    tax = round_money((taxable(lines) * tax_rate).scaleb(-2), currency)
    return Totals(sum_of_lines, tax, sum_of_lines + tax)


@dataclass(frozen=True, slots=True)
class InvoiceSummary:
    """An invoice without its lines: what a bill run needs to know of the invoices it
    does not change."""

    id: str
    kind: DocumentKind
    subscription_id: str | None
    status: InvoiceStatus
    period: Period
    issued_at: datetime
    grace_until: datetime
    number: str | None
    finalized_at: datetime | None
    subtotal: Decimal = Decimal(0)
    """The sum of its lines: a negative one is carried to the subscription's next invoice."""


@dataclass(frozen=True, slots=True)
class Invoice:
    """An invoice: lines for a customer (and subscription) over a period, and its state."""

    id: str
    customer_id: str
    subscription_id: str | None
    currency: Currency
    period: Period
    lines: tuple[InvoiceLine, ...]
    tax_rate: Decimal
    issued_at: datetime
    grace_until: datetime
    kind: DocumentKind
    status: InvoiceStatus = "draft"
    number: str | None = None
    finalized_at: datetime | None = None
    paid_at: datetime | None = None
    voided_at: datetime | None = None
    credits: Decimal = Decimal(0)
    payments: Decimal = Decimal(0)
    balance_applied: Decimal = Decimal(0)
    due_on: date | None = None
    _totals: Totals | None = field(default=None, init=False, repr=False, compare=False)
    """The totals, computed once when first asked for (the lines never change)."""

    def __post_init__(self) -> None:
        problems = ProblemCollector()
        if not self.id.strip():
            problems.add("id", "must be a non-empty string")
        if not (self.tax_rate.is_finite() and Decimal(0) <= self.tax_rate <= MAX_TAX_RATE):
            problems.add("tax_rate", f"must be a percentage from 0 to 100, not {self.tax_rate}")
        _check_lines(self.lines, self.currency, problems)
        try:
            if require_aware(self.grace_until, "grace_until") < require_aware(
                self.issued_at, "issued_at"
            ):
                problems.add("grace_until", "must not be before issued_at")
        except InvalidInput as error:
            problems.extend(error.problems)
        if (self.number is None) != (self.finalized_at is None):
            problems.add("number", "is given exactly when the invoice is finalized")
        if self.status in ("finalized", "paid") and self.number is None:
            problems.add("number", f"a {self.status} invoice has a number")
        if self.status == "draft" and self.number is not None:
            problems.add("number", "a draft has no number yet")
        for name, value in (
            ("credits", self.credits),
            ("payments", self.payments),
            ("balance_applied", self.balance_applied),
        ):
            if value and (value < 0 or round_money(value, self.currency) != value):
                problems.add(name, f"must be a positive amount in {self.currency}")
        problems.raise_if_any()

    @classmethod
    def draft(
        cls,
        *,
        id: str,
        kind: DocumentKind,
        customer: Customer,
        subscription_id: str | None,
        period: Period,
        lines: Iterable[InvoiceLine],
        issued_at: datetime,
        grace: timedelta = timedelta(0),
    ) -> Invoice:
        """A draft for ``customer`` at its currency and tax rate, finalizable after ``grace``."""
        return cls(
            id=id,
            kind=kind,
            customer_id=customer.id,
            subscription_id=subscription_id,
            currency=customer.currency,
            period=period,
            lines=tuple(lines),
            tax_rate=customer.tax_rate_at(issued_at),
            issued_at=issued_at,
            grace_until=issued_at + grace,
        )

    @property
    def totals(self) -> Totals:
        computed = self._totals
        if computed is None:
            computed = totals(self.lines, self.tax_rate, self.currency)
            object.__setattr__(self, "_totals", computed)  # a cache of frozen fields
        return computed

    @property
    def subtotal(self) -> Decimal:
        return self.totals.subtotal

    @property
    def tax(self) -> Decimal:
        return self.totals.tax

    @property
    def total(self) -> Decimal:
        return self.totals.total

    @property
    def amount_due(self) -> Decimal:
        """What the customer is still asked to pay: nothing on a void invoice, else
        ``total - credit_notes - balance_applied - payments``, never below zero."""
        return amount_due_of(self, self.total)

    @property
    def creditable(self) -> Decimal:
        """What credit notes may still credit: the total less what they credited already
        (payments do not reduce it: crediting a paid invoice refunds to the balance)."""
        return max(self.total - self.credits, Decimal(0))

    def is_overdue(self, on: date) -> bool:
        """Whether the invoice is finalized, not fully paid, and its due date is before ``on``."""
        return (
            self.status == "finalized"
            and self.due_on is not None
            and self.due_on < on
            and self.amount_due > 0
        )

    def summary(self) -> InvoiceSummary:
        """This invoice without its lines."""
        return InvoiceSummary(
            id=self.id,
            kind=self.kind,
            subscription_id=self.subscription_id,
            status=self.status,
            period=self.period,
            issued_at=self.issued_at,
            grace_until=self.grace_until,
            number=self.number,
            finalized_at=self.finalized_at,
            subtotal=self.subtotal,
        )

    def is_due_for_finalization(self, as_of: datetime) -> bool:
        """Whether this is a draft whose grace period has ended by ``as_of``."""
        return self.status == "draft" and self.grace_until <= as_of

    def revise(self, lines: Iterable[InvoiceLine]) -> Invoice:
        """The draft with ``lines`` instead (late events during the grace period)."""
        self._require("revise", "draft")
        return replace(self, lines=tuple(lines))

    def finalize(self, *, number: str, at: datetime, due_on: date | None = None) -> Invoice:
        """The invoice finalized at ``at`` with ``number``, due on ``due_on``: its lines
        never change again."""
        self._require("finalize", "draft")
        if not number.strip():
            raise InvalidInput.at("number", "must be a non-empty string")
        if require_aware(at, "at") < self.issued_at:
            raise InvalidInput.at("at", "must not be before the invoice was issued")
        return self._checked_with(status="finalized", number=number, finalized_at=at, due_on=due_on)

    def _checked_with(self, **changes: Any) -> Invoice:
        """This invoice with ``changes`` that the caller has checked keep every rule of
        ``__post_init__``, which is not run again: its lines are the same, and checking
        them once more took a tenth of writing a bill run's invoices. So are its totals,
        kept if computed."""
        changed = object.__new__(Invoice)
        for name in _INVOICE_FIELDS:
            object.__setattr__(changed, name, changes.get(name, getattr(self, name)))
        return changed

    def pay(self, *, at: datetime, amount: Decimal | None = None) -> Invoice:
        """The finalized invoice with a payment of ``amount`` (all that is due if ``None``)
        received at ``at``; it is ``paid`` once nothing is due.

        The amount must be positive, at the currency's minor unit, and at most the
        amount due (:class:`InvalidInput` at ``amount``).
        """
        self._require("pay", "finalized")
        at = require_aware(at, "at")
        due = self.amount_due
        paid = due if amount is None else amount
        problems = ProblemCollector()
        if amount is not None:
            if not amount.is_finite() or amount <= 0:
                problems.add("amount", f"must be positive, not {amount}")
            elif round_money(amount, self.currency) != amount:
                problems.add("amount", f"{amount} has more decimals than {self.currency} allows")
            elif amount > due:
                problems.add(
                    "amount",
                    f"{format_money(amount, self.currency)} is more than the"
                    f" {format_money(due, self.currency)} due on {self.number}",
                )
        problems.raise_if_any()
        received = replace(self, payments=self.payments + paid)
        if received.amount_due == 0:
            return replace(received, status="paid", paid_at=at)
        return received

    def void(self, *, at: datetime) -> Invoice:
        """The draft or finalized invoice voided at ``at``: nothing is due on it any more.

        A paid invoice, or one with payments, takes a credit note instead
        (:class:`Conflict`).
        """
        self._require("void", "draft", "finalized")
        if self.payments:
            raise Conflict(
                f"cannot void invoice {self.number}: it has"
                f" {format_money(self.payments, self.currency)} of payments (credit it instead)"
            )
        return replace(self, status="void", voided_at=require_aware(at, "at"))

    def _require(self, action: str, *statuses: InvoiceStatus) -> None:
        if self.status not in statuses:
            name = self.number or self.id
            allowed = " or ".join(statuses)
            raise Conflict(f"cannot {action} invoice {name}: it is {self.status}, not {allowed}")

    def as_json(self) -> dict[str, Any]:
        """The invoice in the one documented schema (see the module docstring)."""
        money = self.currency
        computed = self.totals
        return {
            "id": self.id,
            "number": self.number,
            "kind": self.kind.value,
            "status": self.status,
            "customer": self.customer_id,
            "subscription": self.subscription_id,
            "currency": money.code,
            "period": {"start": _iso(self.period.start), "end": _iso(self.period.end)},
            "lines": [line.as_json(money) for line in self.lines],
            "subtotal": format_money(computed.subtotal, money),
            "tax": {
                "rate": decimal_text(self.tax_rate),
                "amount": format_money(computed.tax, money),
            },
            "total": format_money(computed.total, money),
            "credit_notes": format_money(self.credits, money),
            "balance_applied": format_money(self.balance_applied, money),
            "payments": format_money(self.payments, money),
            "amount_due": format_money(amount_due_of(self, computed.total), money),
            "due_on": None if self.due_on is None else self.due_on.isoformat(),
            "issued_at": _iso(self.issued_at),
            "finalized_at": None if self.finalized_at is None else _iso(self.finalized_at),
            "paid_at": None if self.paid_at is None else _iso(self.paid_at),
            "voided_at": None if self.voided_at is None else _iso(self.voided_at),
        }


class Settled(Protocol):
    """What settles an invoice, as an :class:`Invoice` or its stored figures hold it."""

    @property
    def status(self) -> InvoiceStatus: ...

    @property
    def credits(self) -> Decimal: ...

    @property
    def balance_applied(self) -> Decimal: ...

    @property
    def payments(self) -> Decimal: ...


_INVOICE_FIELDS = tuple(each.name for each in fields(Invoice))


def amount_due_of(invoice: Settled, total: Decimal) -> Decimal:
    """``max(0, total - credit_notes - balance_applied - payments)``; 0 on a void invoice."""
    if invoice.status == "void":
        return Decimal(0)
    settled = invoice.credits + invoice.balance_applied + invoice.payments
    return max(total - settled, Decimal(0))


@dataclass(frozen=True, slots=True)
class CreditNote:
    """A correction of a finalized (or paid) invoice: positive lines, credited with tax."""

    id: str
    invoice_id: str
    number: str
    currency: Currency
    lines: tuple[InvoiceLine, ...]
    tax_rate: Decimal
    reason: str
    issued_at: datetime

    @property
    def totals(self) -> Totals:
        return totals(self.lines, self.tax_rate, self.currency)

    def as_json(self) -> dict[str, Any]:
        """``{"id", "number", "invoice", "currency", "reason", "lines", "subtotal",
        "tax": {"rate", "amount"}, "total", "issued_at"}``, amounts as in invoices."""
        money = self.currency
        computed = self.totals
        return {
            "id": self.id,
            "number": self.number,
            "invoice": self.invoice_id,
            "currency": money.code,
            "reason": self.reason,
            "lines": [line.as_json(money) for line in self.lines],
            "subtotal": format_money(computed.subtotal, money),
            "tax": {
                "rate": decimal_text(self.tax_rate),
                "amount": format_money(computed.tax, money),
            },
            "total": format_money(computed.total, money),
            "issued_at": _iso(self.issued_at),
        }


def credit_line(currency: Currency, *, amount: Decimal, description: str) -> InvoiceLine:
    """A credit note line crediting ``amount`` (positive, rounded once)."""
    return InvoiceLine.rounded(
        currency,
        charge="credit",
        kind="credit",
        description=description,
        quantity=Decimal(1),
        unit_price=amount,
        exact_amount=amount,
    )


def issue_credit_note(
    invoice: Invoice,
    *,
    id: str,
    number: str,
    lines: Iterable[InvoiceLine],
    reason: str,
    issued_at: datetime,
) -> tuple[CreditNote, Invoice]:
    """A credit note against ``invoice`` and the invoice with its credits raised.

    Only a finalized or paid invoice takes one (:class:`Conflict` otherwise);
    its total must be positive and at most what is left to credit.
    """
    invoice._require("credit", "finalized", "paid")
    note = CreditNote(
        id,
        invoice.id,
        number,
        invoice.currency,
        tuple(lines),
        invoice.tax_rate,
        reason,
        require_aware(issued_at, "issued_at"),
    )
    problems = ProblemCollector()
    if not id.strip():
        problems.add("id", "must be a non-empty string")
    if not number.strip():
        problems.add("number", "must be a non-empty string")
    if not reason.strip():
        problems.add("reason", "must say why the invoice is credited")
    elif (wrong := text_problem(reason)) is not None:
        problems.add("reason", wrong)
    _check_lines(note.lines, note.currency, problems)
    if any(line.amount <= 0 for line in note.lines):
        problems.add("lines", "every credited amount must be positive")
    credited = note.totals.total
    if credited > invoice.creditable:
        problems.add(
            "lines",
            f"credits {format_money(credited, note.currency)} but only"
            f" {format_money(invoice.creditable, note.currency)} of"
            f" {invoice.number} is left to credit",
        )
    problems.raise_if_any()
    return note, replace(invoice, credits=invoice.credits + credited)


def carried_credit_line(currency: Currency, number: str, subtotal: Decimal) -> InvoiceLine:
    """The adjustment that carries the negative ``subtotal`` of invoice ``number`` to the
    next invoice, before tax (that invoice's tax applies to it)."""
    return InvoiceLine.rounded(
        currency,
        charge="carried_credit",
        kind="adjustment",
        description=f"Credit carried from {number}",
        quantity=Decimal(1),
        unit_price=None,
        exact_amount=subtotal,
        detail=(Detail("carried_credit", subtotal, note=f"subtotal of {number}"),),
    )


def _check_lines(
    lines: tuple[InvoiceLine, ...], currency: Currency, problems: ProblemCollector
) -> None:
    for index, line in enumerate(lines):
        if round_money(line.amount, currency) != line.amount:
            problems.add(f"lines[{index}].amount", f"{line.amount} is not an amount in {currency}")
        if (wrong := text_problem(line.description)) is not None:
            problems.add(f"lines[{index}].description", wrong)


def _iso(instant: datetime) -> str:
    return require_aware(instant).isoformat()
