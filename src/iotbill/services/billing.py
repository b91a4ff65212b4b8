"""Bill runs: closing billing periods into invoices, each exactly once.

``bill_run(open_uow, tenant, as_of=..., now=...)`` does, for every subscription:

1. issues the documents whose moment has come by ``as_of`` and that do not
   exist yet: the *opening* invoice (the first period's advance fees), one
   invoice per immediate plan change or migration inside a period, one for an
   immediate cancellation, and one *period-close* invoice per billing period
   that ended at or before ``as_of`` (that period's arrears: usage and arrears
   fees; the next period's advance fees);
2. revises the period-close drafts still in their grace period, so late
   events count while an invoice is a draft;
3. finalizes the drafts whose grace period has ended: their lines are priced
   one last time, late-usage adjustments for earlier, already finalized
   periods are added, and the next gap-free number of the tenant's series is
   assigned in the same transaction.

Every document has a deterministic id (``sub-1/close/2026-02-01T00:00:00+00:00``),
and each subscription's documents are written in one transaction, so a run
that is repeated, or killed half-way and run again, leaves every invoice
exactly once and no number unused.

Time: ``as_of`` decides which periods have closed and which drafts are due;
``now`` is when the run happens: invoices are finalized ``at=now`` and see the
events received before ``now``. Late events are those received after the
invoice of their period was finalized; the next period-close invoice of the
subscription carries the difference as adjustment lines, so what a period
costs over all its invoices always equals its price with every event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from iotbill.domain.catalog import Meter
from iotbill.domain.customers import Customer
from iotbill.domain.errors import InvalidInput
from iotbill.domain.invoices import Invoice, format_invoice_number
from iotbill.domain.invoicing import InvoiceLine
from iotbill.domain.late_events import late_usage_adjustments
from iotbill.domain.periods import Period, require_aware
from iotbill.domain.subscription_billing import (
    PlanVersions,
    billing_periods,
    cancellation_lines,
    change_lines,
    opening_lines,
    period_close_lines,
)
from iotbill.domain.subscriptions import Subscription
from iotbill.services.ports import EventScope, UnitOfWork, UnitOfWorkFactory

INVOICE_SERIES = "INV"
Progress = Callable[[int, int], None]


@dataclass
class BillRunReport:
    """What a bill run did: invoice ids issued and revised, numbers finalized."""

    issued: list[str] = field(default_factory=list)
    revised: list[str] = field(default_factory=list)
    finalized: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, list[str]]:
        return {"issued": self.issued, "revised": self.revised, "finalized": self.finalized}


@dataclass(frozen=True, slots=True)
class _Context:
    """What pricing one subscription needs, read in its unit of work."""

    subscription: Subscription
    customer: Customer
    plans: PlanVersions
    scope: EventScope

    @property
    def meters(self) -> list[Meter]:
        return [meter for plan in self.plans.values() for meter in plan.meters]


def bill_run(
    open_uow: UnitOfWorkFactory,
    tenant: str,
    *,
    as_of: datetime,
    now: datetime,
    grace: timedelta = timedelta(0),
    progress: Progress | None = None,
) -> BillRunReport:
    """Close every period that ended by ``as_of``; finalize drafts whose grace has ended."""
    as_of = require_aware(as_of, "as_of")
    now = require_aware(now, "now")
    if as_of > now:
        raise InvalidInput.at("as_of", f"{as_of} is in the future (now is {now})")
    if grace < timedelta(0):
        raise InvalidInput.at("grace", "must not be negative")
    with open_uow(tenant) as uow:
        subscription_ids = [subscription.id for subscription in uow.subscriptions.list()]
    report = BillRunReport()
    for done, subscription_id in enumerate(subscription_ids, start=1):
        with open_uow(tenant) as uow:
            _bill_subscription(uow, subscription_id, as_of, now, grace, report)
            uow.commit()
        if progress:
            progress(done, len(subscription_ids))
    return report


def _bill_subscription(
    uow: UnitOfWork,
    subscription_id: str,
    as_of: datetime,
    now: datetime,
    grace: timedelta,
    report: BillRunReport,
) -> None:
    context = _context(uow, subscription_id)
    existing = {invoice.id: invoice for invoice in uow.invoices.list(subscription=subscription_id)}
    for invoice_id, period, issued_at, compute in _documents(uow, context, as_of):
        if invoice_id in existing:
            continue
        lines = compute()
        if not lines:
            continue
        invoice = Invoice.draft(
            id=invoice_id,
            customer=context.customer,
            subscription_id=subscription_id,
            period=period,
            lines=lines,
            issued_at=issued_at,
            grace=grace,
        )
        uow.invoices.add(invoice)
        existing[invoice_id] = invoice
        report.issued.append(invoice_id)
    for invoice in sorted(existing.values(), key=lambda invoice: (invoice.issued_at, invoice.id)):
        if invoice.status != "draft" or invoice.issued_at > as_of:
            continue
        if invoice.is_due_for_finalization(as_of):
            _finalize(uow, context, invoice, existing, now)
            report.finalized.append(existing[invoice.id].number or "")
        elif _is_close(invoice.id):
            lines = _close_lines(uow, context, invoice.period)
            if tuple(lines) != invoice.lines:
                uow.invoices.save(invoice.revise(lines))
                report.revised.append(invoice.id)


def _context(uow: UnitOfWork, subscription_id: str) -> _Context:
    subscription = uow.subscriptions.get(subscription_id)
    customer = uow.customers.get(subscription.customer_id)
    plans = {
        phase.plan_key: uow.plans.get(phase.plan_code, phase.plan_version).plan
        for phase in subscription.phases
    }
    if subscription.device_id is not None:
        scope = EventScope(customer.id, devices=frozenset({subscription.device_id}))
    else:
        own = {
            other.device_id
            for other in uow.subscriptions.list(customer=customer.id)
            if other.device_id is not None
        }
        scope = EventScope(customer.id, excluded_devices=frozenset(own))
    return _Context(subscription, customer, plans, scope)


Compute = Callable[[], list[InvoiceLine]]


def _documents(
    uow: UnitOfWork, context: _Context, as_of: datetime
) -> list[tuple[str, Period, datetime, Compute]]:
    """Every document of the subscription due by ``as_of``, in time order, with its pricing."""
    subscription, customer, plans = context.subscription, context.customer, context.plans
    cycle = subscription.cycle(customer.timezone)
    documents: list[tuple[str, Period, datetime, Compute]] = []
    if subscription.start <= as_of:
        documents.append(
            (
                f"{subscription.id}/opening",
                cycle.period_containing(subscription.start),
                subscription.start,
                partial(opening_lines, subscription, customer, plans),
            )
        )
    for phase in subscription.phases[1:]:
        if phase.start <= as_of:
            documents.append(
                (
                    f"{subscription.id}/change/{phase.start.isoformat()}",
                    cycle.period_containing(phase.start),
                    phase.start,
                    partial(change_lines, subscription, customer, plans, phase.start),
                )
            )
    cancellation = subscription.cancellation
    if (
        cancellation is not None
        and cancellation.timing == "immediate"
        and cancellation.effective_at <= as_of
    ):
        documents.append(
            (
                f"{subscription.id}/cancellation",
                cycle.period_containing(cancellation.effective_at),
                cancellation.effective_at,
                partial(cancellation_lines, subscription, customer, plans),
            )
        )
    for period in billing_periods(subscription, customer, until=as_of):
        documents.append(
            (
                _close_id(subscription.id, period),
                period,
                period.end,
                partial(_close_lines, uow, context, period),
            )
        )
    return sorted(documents, key=lambda document: document[2])


def _close_id(subscription_id: str, period: Period) -> str:
    return f"{subscription_id}/close/{period.start.isoformat()}"


def _is_close(invoice_id: str) -> bool:
    return "/close/" in invoice_id


def _close_lines(
    uow: UnitOfWork, context: _Context, period: Period, received_before: datetime | None = None
) -> list[InvoiceLine]:
    table = uow.events.load(context.scope, context.meters, period, received_before)
    return period_close_lines(context.subscription, context.customer, context.plans, period, table)


def _finalize(
    uow: UnitOfWork,
    context: _Context,
    invoice: Invoice,
    invoices: dict[str, Invoice],
    now: datetime,
) -> None:
    """Price ``invoice`` one last time, add late adjustments, number and freeze it."""
    lines = list(invoice.lines)
    if _is_close(invoice.id):
        lines = _close_lines(uow, context, invoice.period, now)
        lines.extend(_late_adjustments(uow, context, invoice, invoices, now))
    year = now.astimezone(context.customer.zone).year
    sequence = uow.invoices.next_number(f"{INVOICE_SERIES}-{year}")
    number = format_invoice_number(INVOICE_SERIES, year, sequence)
    final = invoice.revise(lines).finalize(number=number, at=now)
    uow.invoices.save(final)
    invoices[invoice.id] = final


def _late_adjustments(
    uow: UnitOfWork,
    context: _Context,
    invoice: Invoice,
    invoices: dict[str, Invoice],
    now: datetime,
) -> list[InvoiceLine]:
    """Adjustments for earlier finalized periods whose events arrived after they were billed.

    Everything received before the last finalization of this subscription's
    period-close invoices has been billed (by the original invoices and the
    adjustments since); what arrived from then until ``now`` is adjusted here.
    """
    earlier = [
        other
        for other in invoices.values()
        if _is_close(other.id)
        and other.finalized_at is not None
        and other.number is not None
        and other.period.end <= invoice.period.start
    ]
    if not earlier:
        return []
    billed_until = max(other.finalized_at for other in earlier if other.finalized_at)
    lines: list[InvoiceLine] = []
    for other in sorted(earlier, key=lambda other: other.period.start):
        assert other.number is not None
        billed = uow.events.load(context.scope, context.meters, other.period, billed_until)
        current = uow.events.load(context.scope, context.meters, other.period, now)
        if len(current) == len(billed):
            continue
        lines.extend(
            late_usage_adjustments(
                context.subscription,
                context.customer,
                context.plans,
                other.period,
                billed=billed,
                current=current,
                original_number=other.number,
            )
        )
    return lines
