"""Invoices and credit notes: list, show, finalize, pay, void, credit.

The lifecycle and totals are the domain's (:mod:`iotbill.domain.invoices`):
draft -> finalized -> paid, or void from draft or finalized; a finalized
invoice never changes except its status and its credits.

**Numbers.** One rule numbers every document,
:mod:`iotbill.domain.numbering`: at finalization, from the tenant's gap-free
series ``INV-{year}`` (``INV-2026-000123``), ``year`` being the year of the
finalization in the customer's zone (the year of the date the customer reads on
the invoice); credit notes the same way from ``CN-{year}`` (``CN-2026-000001``),
the number being also the credit note's id. Every service takes its numbers
one way, :func:`iotbill.services.numbering.take_numbers` (here through
:func:`assign_number`; the bill run takes a batch's at once), in the
transaction that stores the documents, so a failure rolls them back and leaves
no gap.

**Credit notes** credit an amount before tax, taxed at the invoice's rate, so
the note's total is the amount plus its tax. A full credit credits what is left
of the amount due: the subtotal not credited yet, adjusted by a minor unit
where rounding the tax would make it credit more than is left (then, rarely,
one minor unit stays due).

An invoice is named by its id or by its number. Each function except
:func:`assign_number` is one unit of work: it enters the (not yet entered)
``uow`` it is given, and an error stores nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import cast, get_args

from iotbill.domain.customers import Customer
from iotbill.domain.errors import Conflict, InvalidInput, NotFound, Problem, ProblemCollector
from iotbill.domain.invoices import (
    CreditNote,
    Invoice,
    InvoiceStatus,
    carried_credit_line,
    credit_line,
    issue_credit_note,
    totals,
)
from iotbill.domain.money import parse_decimal, round_money
from iotbill.domain.numbering import Series, series_for
from iotbill.domain.payments import (
    DEFAULT_DUNNING,
    OVERDUE,
    Notice,
    Payment,
    dunning_schedule,
    notices_due,
)
from iotbill.domain.periods import require_aware
from iotbill.services.balance import Balances
from iotbill.services.moments import Moment, collect_instant
from iotbill.services.numbering import take_number
from iotbill.services.ports import Paging, UnitOfWork
from iotbill.services.webhooks import credit_note_data, emit, emit_many, invoice_data

STATUSES: tuple[InvoiceStatus, ...] = get_args(InvoiceStatus)
_AMOUNT = {"lines": "amount", "lines[0].amount": "amount"}


def assign_number(
    uow: UnitOfWork, invoice: Invoice, at: datetime, *, customer: Customer | None = None
) -> Invoice:
    """``invoice`` finalized at ``at`` with the next number of the tenant's ``INV-{year}``.

    Call it inside an open unit of work (``with uow:``) and store the result
    (``uow.invoices.save`` or ``add``) before committing that same unit of
    work: the number is taken in its transaction and rolls back with it.
    ``customer`` is the invoice's customer when the caller has it at hand (it
    saves reading it). :class:`Conflict` unless ``invoice`` is a draft.
    """
    at = require_aware(at, "at")
    if invoice.status != "draft":
        name = invoice.number or invoice.id
        raise Conflict(f"cannot finalize invoice {name}: it is {invoice.status}, not draft")
    if customer is None or customer.id != invoice.customer_id:
        customer = uow.customers.get(invoice.customer_id)
    number = take_number(uow, Series.INVOICE, at, customer.zone)
    return invoice.finalize(number=number, at=at, due_on=customer.due_on(at))


def list_invoices(
    uow: UnitOfWork,
    *,
    customer: str | None = None,
    subscription: str | None = None,
    status: str | None = None,
    overdue_at: datetime | None = None,
    paging: Paging[tuple[datetime, str]] | None = None,
) -> list[Invoice]:
    """The matching invoices, by period start, then id; with ``overdue_at``, only those
    overdue then: finalized, something due, and due before that instant's local date.
    Without ``overdue_at``, the page ``paging`` asks for (with it, ``paging`` is not taken)."""
    if status is not None and status not in STATUSES:
        raise InvalidInput.at("status", f"must be one of {', '.join(STATUSES)}, not {status!r}")
    with uow:
        found = uow.invoices.list(
            customer=customer,
            subscription=subscription,
            status=cast(InvoiceStatus, status),
            paging=paging if overdue_at is None else None,
        )
        if overdue_at is None:
            return found
        at = require_aware(overdue_at, "overdue_at")
        customers = uow.customers.find(sorted({invoice.customer_id for invoice in found}))
    return [
        invoice
        for invoice in found
        if invoice.is_overdue(at.astimezone(customers[invoice.customer_id].zone).date())
    ]


def record_notices(
    uow: UnitOfWork, *, at: datetime, schedule: Sequence[int] = DEFAULT_DUNNING
) -> list[Notice]:
    """Record the overdue notices and dunning reminders due by ``at`` (each invoice's
    customer's local date), each once: running it again records nothing new."""
    at = require_aware(at, "at")
    days = dunning_schedule(schedule)
    with uow:
        unpaid = [
            invoice
            for invoice in uow.invoices.list(status="finalized")
            if invoice.due_on is not None and invoice.amount_due > 0
        ]
        customers = uow.customers.find(sorted({invoice.customer_id for invoice in unpaid}))
        recorded: dict[str, set[str]] = {}
        for notice in uow.invoices.notices():
            recorded.setdefault(notice.invoice_id, set()).add(notice.kind)
        new = [
            Notice(invoice.id, kind, invoice.due_on, at)
            for invoice in unpaid
            if invoice.due_on is not None
            for kind in notices_due(
                invoice.due_on,
                at.astimezone(customers[invoice.customer_id].zone).date(),
                days,
                recorded=recorded.get(invoice.id, set()),
            )
        ]
        uow.invoices.add_notices(new)
        invoices = {invoice.id: invoice for invoice in unpaid}
        for kind, type in ((False, "invoice.overdue"), (True, "invoice.reminder")):
            emit_many(
                uow,
                type,
                [
                    (
                        f"{notice.invoice_id}/{notice.kind}" if kind else notice.invoice_id,
                        {
                            **invoice_data(invoices[notice.invoice_id]),
                            "notice": notice.kind,
                            "due_on": notice.due_on.isoformat(),
                        },
                        at,
                    )
                    for notice in new
                    if (notice.kind != OVERDUE) == kind
                ],
            )  # the webhook outbox delivers them, in this transaction
        uow.commit()
    return new


def get_invoice(uow: UnitOfWork, reference: str) -> Invoice:
    """The invoice with id or number ``reference``; :class:`NotFound` if none."""
    with uow:
        return find_invoice(uow, reference)


def list_credit_notes(uow: UnitOfWork, invoice: str | None = None) -> list[CreditNote]:
    """The credit notes (of the invoice with id or number ``invoice``), by issue time."""
    with uow:
        invoice_id = None if invoice is None else find_invoice(uow, invoice).id
        return uow.credit_notes.list(invoice_id)


def finalize_invoice(
    uow: UnitOfWork, reference: str, *, at: datetime, now: datetime | None = None
) -> Invoice:
    """Finalize a draft at ``at``, grace period or not: it gets its number and never changes
    again.

    ``at`` may be earlier than ``now`` (a finalization recorded late), but never
    before the draft was issued, nor before the latest finalization of the
    number series it takes its number from: numbers follow the order of
    finalization, so ``INV-2026-000008`` is never dated before ``INV-2026-000007``.
    Either is :class:`InvalidInput` at ``at``, as is an ``at`` after ``now``.
    """
    at = require_aware(at, "at")
    if now is not None and at > now:
        raise InvalidInput.at("at", f"{at.isoformat()} is in the future (now is {now.isoformat()})")
    with uow:
        invoice = find_invoice(uow, reference)
        customer = uow.customers.get(invoice.customer_id)
        series = series_for(Series.INVOICE, at, customer.zone).name
        latest = uow.invoices.latest_finalization(series)
        if invoice.status == "draft" and latest is not None and at < latest:
            raise InvalidInput.at(
                "at",
                f"must not be before {latest.isoformat()}, when the last invoice of series"
                f" {series} was finalized (numbers follow the order of finalization)",
            )
        if invoice.status == "draft" and at < invoice.issued_at:
            raise InvalidInput.at(
                "at",
                f"must not be before the invoice was issued ({invoice.issued_at.isoformat()})",
            )
        if invoice.status == "draft" and invoice.subscription_id is not None:
            invoice = _with_carried_credit(uow, invoice)
        balances = Balances(uow, [invoice.customer_id])
        finalized = balances.apply(assign_number(uow, invoice, at, customer=customer))
        uow.invoices.save(finalized)
        balances.write()
        emit(uow, "invoice.finalized", subject=finalized.id, data=invoice_data(finalized), at=at)
        uow.commit()
    return finalized


def get_credit_note(uow: UnitOfWork, number: str) -> CreditNote:
    """The credit note ``number`` (also its id); :class:`NotFound` if none."""
    with uow:
        return uow.credit_notes.get(number)


def finalized_invoices(uow: UnitOfWork, *, start: datetime, end: datetime) -> list[Invoice]:
    """The invoices finalized in ``[start, end)``, by number: what accounting books for
    the span (those voided or paid since included, with their status now)."""
    start, end = require_aware(start, "from"), require_aware(end, "to")
    if end <= start:
        raise InvalidInput.at("to", f"{end.isoformat()} must be after from ({start.isoformat()})")
    with uow:
        return uow.invoices.finalized_between(start, end)


def pay_invoice(
    uow: UnitOfWork, reference: str, *, at: Moment, amount: str | Decimal | None = None
) -> Invoice:
    """Record a payment of ``amount`` (all that is due if ``None``) received at ``at`` (not
    before the invoice was finalized); the invoice is ``paid`` once nothing is due.

    A date is local midnight in the customer's zone. The amount must be positive, in
    the currency's minor units and at most the amount due; every problem is reported
    at once and nothing is stored.
    """
    with uow:
        invoice = find_invoice(uow, reference)
        problems = ProblemCollector()
        customer = uow.customers.get(invoice.customer_id)
        when = collect_instant(at, customer, "at", problems)
        if when is not None and invoice.finalized_at is not None and when < invoice.finalized_at:
            problems.add(
                "at",
                f"must not be before {invoice.number} was finalized"
                f" ({invoice.finalized_at.isoformat()})",
            )
        exact: Decimal | None = None
        if amount is not None:
            try:
                exact = parse_decimal(amount, "amount")
            except InvalidInput as error:
                problems.extend(error.problems)
        problems.raise_if_any()
        assert isinstance(when, datetime)
        paid = invoice.pay(at=when, amount=exact)
        uow.invoices.save(paid)
        received = paid.payments - invoice.payments
        uow.invoices.add_payment(Payment(paid.id, received, when))
        if paid.status == "paid":
            emit(uow, "invoice.paid", subject=paid.id, data=invoice_data(paid), at=when)
        payment = {
            **invoice_data(paid),
            "amount": str(received),
            "paid_at": when.isoformat(),
        }
        emit(uow, "payment.received", subject=paid.id, data=payment, at=when)
        uow.commit()
    return paid


def list_payments(uow: UnitOfWork, reference: str) -> list[Payment]:
    """The payments of the invoice with id or number ``reference``, in the order received."""
    with uow:
        return uow.invoices.payments(find_invoice(uow, reference).id)


def void_invoice(uow: UnitOfWork, reference: str, *, at: datetime) -> Invoice:
    """Void a draft or finalized invoice (a paid one is corrected by a credit note).

    An invoice with credit notes is not voided either: it is corrected already,
    and voiding it would correct it twice.
    """
    with uow:
        invoice = find_invoice(uow, reference)
        notes = uow.credit_notes.list(invoice.id)
        if notes:
            raise Conflict(
                f"cannot void invoice {invoice.number}: credit notes"
                f" {', '.join(note.number for note in notes)} correct it (credit the rest instead)"
            )
        voided = invoice.void(at=at)
        uow.invoices.save(voided)
        emit(uow, "invoice.voided", subject=voided.id, data=invoice_data(voided), at=at)
        uow.commit()
    return voided


def create_credit_note(
    uow: UnitOfWork,
    invoice: str,
    *,
    reason: str,
    at: datetime,
    amount: str | Decimal | None = None,
    description: str | None = None,
) -> tuple[CreditNote, Invoice]:
    """Credit ``amount`` (before tax; ``None``: all that is left) of a finalized or paid invoice.

    Returns the credit note and the invoice with its credits raised. The amount
    must be positive, in the invoice's currency's minor units, and its total
    with tax at most the amount due.
    """
    with uow:
        credited = find_invoice(uow, invoice)
        if credited.status not in ("finalized", "paid"):
            name = credited.number or credited.id
            raise Conflict(f"cannot credit invoice {name}: it is {credited.status}")
        money = credited.currency
        if amount is None:
            exact = _rest(credited)
            if exact <= 0:
                raise Conflict(f"invoice {credited.number} has nothing left to credit")
        else:
            exact = parse_decimal(amount, "amount")
            if exact <= 0:
                raise InvalidInput.at("amount", f"must be positive, not {exact}")
            if round_money(exact, money) != exact:
                raise InvalidInput.at(
                    "amount", f"{exact} has more decimals than {money.code} allows"
                )
        at = require_aware(at, "at")
        zone = uow.customers.get(credited.customer_id).zone
        number = take_number(uow, Series.CREDIT_NOTE, at, zone)
        line = credit_line(
            money,
            amount=exact,
            description=description or f"Credit on {credited.number}: {reason}",
        )
        try:
            note, updated = issue_credit_note(
                credited, id=number, number=number, lines=[line], reason=reason, issued_at=at
            )
        except InvalidInput as error:  # the one line is the amount asked for
            raise InvalidInput(
                [Problem(_AMOUNT.get(p.location, p.location), p.message) for p in error.problems]
            ) from None
        uow.credit_notes.add(note)
        uow.invoices.save(updated)
        emit(
            uow, "credit_note.created", subject=note.id, data=credit_note_data(note, updated), at=at
        )
        uow.commit()
    return note, updated


def find_invoice(uow: UnitOfWork, reference: str) -> Invoice:
    """The invoice whose id, or else number, is ``reference``, in an open unit of work."""
    try:
        return uow.invoices.get(reference)
    except NotFound:
        pass
    try:
        return uow.invoices.get_by_number(reference)
    except NotFound:
        raise NotFound(f"no invoice has the id or number {reference!r}") from None


def _with_carried_credit(uow: UnitOfWork, draft: Invoice) -> Invoice:
    """The draft with the negative subtotal of its subscription's last finalized invoice
    carried, as the bill run does at finalization."""
    finalized = [
        invoice
        for invoice in uow.invoices.list(subscription=draft.subscription_id)
        if invoice.status in ("finalized", "paid") and invoice.number is not None
    ]
    if not finalized:
        return draft
    last = max(finalized, key=lambda invoice: (invoice.finalized_at, invoice.number))
    if last.subtotal >= 0 or last.number is None:
        return draft
    carried = carried_credit_line(draft.currency, last.number, last.subtotal)
    return draft.revise([*draft.lines, carried])


def _rest(invoice: Invoice) -> Decimal:
    """The largest amount before tax whose total with tax is at most what is left to credit."""
    money, rate = invoice.currency, invoice.tax_rate
    due = invoice.creditable
    if due <= 0:
        return Decimal(0)
    credited_before = invoice.total - due  # what earlier credit notes took, with tax
    amount = round_money(invoice.subtotal * (1 - credited_before / invoice.total), money)

    def total_of(candidate: Decimal) -> Decimal:
        return totals([credit_line(money, amount=candidate, description="")], rate, money).total

    while amount > 0 and total_of(amount) > due:
        amount -= money.quantum
    while total_of(amount + money.quantum) <= due:
        amount += money.quantum
    return amount
