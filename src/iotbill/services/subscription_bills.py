"""One subscription's share of a bill run: what it owes, how it is priced, what is finalized.

A bill run prices a batch of subscriptions together, so that their events come
from a few queries rather than a few per subscription. A
:class:`SubscriptionBill` is one subscription's part of that work, done in
steps between which the run reads what the step asked for:

1. :meth:`~SubscriptionBill.pricing_windows`: the event windows that its
   period-close invoices are priced from (documents to issue, drafts to
   finalize or revise);
2. :meth:`~SubscriptionBill.price`: issues the documents that do not exist yet,
   revises the drafts still in their grace period, and lines up the invoices
   due for finalization in order (issue instant, then id);
3. :meth:`~SubscriptionBill.number`: gives them their numbers, in that order;
4. :meth:`~SubscriptionBill.late_checks` and :meth:`~SubscriptionBill.adjust`:
   whether events arrived late for the periods finalized before each
   period-close invoice due (two counts over the scope's history) and, only if
   some did, the adjustment lines;
5. :meth:`~SubscriptionBill.writes`: what to store: the invoices issued (drafts,
   or finalized at once) and the stored drafts revised or finalized.

Every document has a deterministic id (``sub-1/close/2026-02-01T00:00:00+00:00``),
so whether it exists is a lookup. An invoice due for finalization as soon as it
is drafted (no grace left by ``as_of``) is priced once, with the events
received up to the run's ``now``, and stored finalized.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial

from iotbill.domain.catalog import Meter
from iotbill.domain.customers import Customer
from iotbill.domain.event_table import EventTable
from iotbill.domain.invoices import Invoice
from iotbill.domain.invoicing import InvoiceLine
from iotbill.domain.late_events import late_usage_adjustments
from iotbill.domain.periods import Period
from iotbill.domain.subscription_billing import (
    PlanVersions,
    billing_periods,
    cancellation_lines,
    change_lines,
    opening_lines,
    period_close_lines,
)
from iotbill.domain.subscriptions import Subscription
from iotbill.services.ports import EventScope, EventWindow, InvoiceSummary

DAWN = datetime(1, 1, 1, tzinfo=UTC)
"""Before any event: where a window over a scope's whole history starts."""


def seen_by(instant: datetime) -> datetime:
    """The bound of ``received_before`` that takes in every event received at ``instant`` too.

    Stored instants have microsecond precision, so one microsecond later is the
    first instant after ``instant``: an invoice finalized at ``instant`` and the
    adjustments after it draw the line at the same place.
    """
    return instant + timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class RunTimes:
    """The instants of a bill run: which periods close and which drafts are due by
    ``as_of``; ``now``, when it happens; the ``grace`` of the drafts it issues."""

    as_of: datetime
    now: datetime
    grace: timedelta


@dataclass(frozen=True, slots=True)
class Document:
    """An invoice the subscription owes: its deterministic id, period and issue instant.

    ``fixed_lines`` prices a document that bills no usage; a period-close
    invoice (``None``) is priced from the period's events.
    """

    id: str
    period: Period
    issued_at: datetime
    fixed_lines: Callable[[], list[InvoiceLine]] | None = None


def documents(
    subscription: Subscription, customer: Customer, plans: PlanVersions, as_of: datetime
) -> list[Document]:
    """Every document of the subscription due by ``as_of``, in time order."""
    cycle = subscription.cycle(customer.timezone)
    found: list[Document] = []
    if subscription.start <= as_of:
        found.append(
            Document(
                f"{subscription.id}/opening",
                cycle.period_containing(subscription.start),
                subscription.start,
                partial(opening_lines, subscription, customer, plans),
            )
        )
    for phase in subscription.phases[1:]:
        if phase.start <= as_of:
            found.append(
                Document(
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
        found.append(
            Document(
                f"{subscription.id}/cancellation",
                cycle.period_containing(cancellation.effective_at),
                cancellation.effective_at,
                partial(cancellation_lines, subscription, customer, plans),
            )
        )
    for period in billing_periods(subscription, customer, until=as_of):
        found.append(Document(close_id(subscription.id, period), period, period.end))
    return sorted(found, key=lambda document: document.issued_at)


def close_id(subscription_id: str, period: Period) -> str:
    """The id of the period-close invoice of ``period``."""
    return f"{subscription_id}/close/{period.start.isoformat()}"


def is_close(invoice_id: str) -> bool:
    """Whether ``invoice_id`` names a period-close invoice."""
    return "/close/" in invoice_id


@dataclass(frozen=True, slots=True)
class LateCheck:
    """Whether events arrived late for the periods finalized before an invoice's.

    ``billed`` and ``current`` are the scope's events before the invoice's
    period as billed (received before the last of ``earlier`` was finalized)
    and as known now; one holds the other, so their counts differ exactly when
    some arrived in between.
    """

    invoice_id: str
    earlier: tuple[InvoiceSummary, ...]
    billed: EventWindow
    current: EventWindow

    def windows(self) -> list[EventWindow]:
        """Each earlier period as billed and as known now, oldest first."""
        return [
            replace(window, period=summary.period)
            for summary in self.earlier
            for window in (self.billed, self.current)
        ]


@dataclass
class _Pending:
    """An invoice this run may write: a document to issue (``stored`` is ``None``) or a
    stored draft; ``window`` holds its usage when its lines are priced from events."""

    id: str
    period: Period
    issued_at: datetime
    stored: Invoice | None
    due: bool
    window: EventWindow | None
    lines: list[InvoiceLine]
    number: str | None = None


class SubscriptionBill:
    """One subscription with its customer, plans and invoices, billed in the steps above.

    ``invoices`` summarises every stored invoice of the subscription; ``drafts``
    holds in full those named by :func:`drafts_to_read`.
    """

    def __init__(
        self,
        subscription: Subscription,
        customer: Customer,
        plans: PlanVersions,
        scope: EventScope,
        invoices: Sequence[InvoiceSummary],
        drafts: dict[str, Invoice],
        times: RunTimes,
    ) -> None:
        self.subscription = subscription
        self.customer = customer
        self.plans = plans
        self.scope = scope
        self.times = times
        self.meters: tuple[Meter, ...] = tuple(
            meter for plan in plans.values() for meter in plan.meters
        )
        self._invoices = invoices
        stored = {summary.id for summary in invoices}
        self._pending = [
            self._document(document)
            for document in documents(subscription, customer, plans, times.as_of)
            if document.id not in stored
        ]
        self._pending.extend(
            self._draft(drafts[summary.id]) for summary in invoices if summary.id in drafts
        )
        self._due: list[_Pending] = []
        self._drafted: list[Invoice] = []
        self._adjustments: dict[str, list[InvoiceLine]] = {}
        self.issued: list[str] = []
        self.revised: list[Invoice] = []

    def pricing_windows(self) -> list[EventWindow]:
        """Step 1: the event windows of the invoices priced from usage, in order."""
        return [pending.window for pending in self._pending if pending.window is not None]

    def price(self, tables: Sequence[EventTable]) -> None:
        """Step 2: the tables of :meth:`pricing_windows` in; documents issued (a document
        with no lines is not), drafts revised, the invoices due lined up."""
        priced = iter(tables)
        for pending in self._pending:
            if pending.window is not None:
                pending.lines = period_close_lines(
                    self.subscription, self.customer, self.plans, pending.period, next(priced)
                )
            if pending.stored is None:
                if not pending.lines:
                    continue
                self.issued.append(pending.id)
            if pending.due:
                self._due.append(pending)
            elif pending.stored is None:
                self._drafted.append(self._new_draft(pending, pending.lines))
            elif tuple(pending.lines) != pending.stored.lines:
                self.revised.append(pending.stored.revise(pending.lines))
        self._due.sort(key=lambda pending: (pending.issued_at, pending.id))

    @property
    def due(self) -> int:
        """How many invoices are due for finalization (after :meth:`price`)."""
        return len(self._due)

    def series_year(self) -> int:
        """The year of the invoice numbers: the year of ``now`` in the customer's zone."""
        return self.times.now.astimezone(self.customer.zone).year

    def number(self, numbers: Iterator[str]) -> None:
        """Step 3: the invoices due take their numbers from ``numbers``, in order."""
        for pending in self._due:
            pending.number = next(numbers)

    @property
    def numbers(self) -> list[str]:
        """The numbers of the invoices due, in the order they were given."""
        return [pending.number for pending in self._due if pending.number is not None]

    def late_checks(self) -> list[LateCheck]:
        """Step 4: a check for each period-close invoice due that follows finalized
        periods, unless they were all billed with the events known now."""
        checks = []
        for pending in self._due:
            if not is_close(pending.id):
                continue
            earlier = self._finalized_before(pending.period)
            if not earlier:
                continue
            billed_until = max(summary.finalized_at or DAWN for summary in earlier)
            if billed_until == self.times.now:  # billed with every event known now
                continue
            before = Period(DAWN, pending.period.start)
            billed = EventWindow(self.scope, self.meters, before, seen_by(billed_until))
            current = replace(billed, received_before=seen_by(self.times.now))
            checks.append(LateCheck(pending.id, tuple(earlier), billed, current))
        return checks

    def adjust(self, check: LateCheck, tables: Sequence[EventTable]) -> None:
        """The tables of ``check.windows()`` in: the adjustments of its invoice, for each
        earlier period whose events changed."""
        lines: list[InvoiceLine] = []
        for index, summary in enumerate(check.earlier):
            billed, current = tables[2 * index], tables[2 * index + 1]
            if _ids(current) == _ids(billed):  # a correction replaces one event by another
                continue
            assert summary.number is not None
            lines.extend(
                late_usage_adjustments(
                    self.subscription,
                    self.customer,
                    self.plans,
                    summary.period,
                    billed=billed,
                    current=current,
                    original_number=summary.number,
                )
            )
        self._adjustments[check.invoice_id] = lines

    def writes(self) -> tuple[list[Invoice], list[Invoice]]:
        """Step 5: the invoices to add (drafts issued, and those finalized at once) and the
        stored drafts to replace (revised, or finalized), in order."""
        added, replaced = list(self._drafted), list(self.revised)
        for pending in self._due:
            assert pending.number is not None
            lines = [*pending.lines, *self._adjustments.get(pending.id, [])]
            if pending.stored is None:
                draft = self._new_draft(pending, lines)
            else:
                draft = pending.stored.revise(lines)
            final = draft.finalize(number=pending.number, at=self.times.now)
            (added if pending.stored is None else replaced).append(final)
        return added, replaced

    def _document(self, document: Document) -> _Pending:
        due = document.issued_at + self.times.grace <= self.times.as_of
        if document.fixed_lines is not None:
            return _Pending(
                document.id,
                document.period,
                document.issued_at,
                None,
                due,
                None,
                document.fixed_lines(),
            )
        window = self._usage(document.period, due)
        return _Pending(document.id, document.period, document.issued_at, None, due, window, [])

    def _draft(self, draft: Invoice) -> _Pending:
        due = draft.is_due_for_finalization(self.times.as_of)
        window = self._usage(draft.period, due) if is_close(draft.id) else None
        return _Pending(
            draft.id, draft.period, draft.issued_at, draft, due, window, list(draft.lines)
        )

    def _usage(self, period: Period, due: bool) -> EventWindow:
        """The events a period-close invoice is priced from: all of them for a draft, those
        received by ``now`` for the invoice finalized now."""
        received_before = seen_by(self.times.now) if due else None
        return EventWindow(self.scope, self.meters, period, received_before)

    def _new_draft(self, pending: _Pending, lines: list[InvoiceLine]) -> Invoice:
        return Invoice.draft(
            id=pending.id,
            customer=self.customer,
            subscription_id=self.subscription.id,
            period=pending.period,
            lines=lines,
            issued_at=pending.issued_at,
            grace=self.times.grace,
        )

    def _finalized_before(self, period: Period) -> list[InvoiceSummary]:
        """The period-close invoices finalized for periods before ``period``, oldest first:
        the stored ones, and those this run finalizes (at ``now``)."""
        finalized = [
            summary
            for summary in self._invoices
            if summary.finalized_at is not None and summary.number is not None
        ]
        finalized.extend(
            InvoiceSummary(
                pending.id,
                self.subscription.id,
                "finalized",
                pending.period,
                pending.issued_at,
                pending.stored.grace_until
                if pending.stored
                else pending.issued_at + self.times.grace,
                pending.number,
                self.times.now,
            )
            for pending in self._due
        )
        earlier = [
            summary
            for summary in finalized
            if is_close(summary.id) and summary.period.end <= period.start
        ]
        return sorted(earlier, key=lambda summary: summary.period.start)


def drafts_to_read(invoices: Sequence[InvoiceSummary], as_of: datetime) -> list[str]:
    """The drafts among ``invoices`` that a run may change: issued by ``as_of``, and due
    for finalization or priced from events (to revise)."""
    return [
        summary.id
        for summary in invoices
        if summary.status == "draft"
        and summary.issued_at <= as_of
        and (summary.grace_until <= as_of or is_close(summary.id))
    ]


def _ids(table: EventTable) -> set[str]:
    """The ids of the events that count in ``table``: an event's content never changes."""
    return {event.id for event in table.source_events}
