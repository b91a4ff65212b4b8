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

Which documents a subscription owes, when each is due, and which finalized
periods to check for late events are the domain's decisions
(:mod:`iotbill.domain.documents`); this module orchestrates them. An invoice
due for finalization as soon as it is drafted (no grace left by ``as_of``) is
priced once, with the events received up to the run's ``now``, and stored
finalized.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from iotbill.domain.catalog import Meter
from iotbill.domain.customers import Customer
from iotbill.domain.discounts import Discount, amount_lines, percentage_lines
from iotbill.domain.documents import (
    Document,
    document_id,
    documents,
    finalized_before,
    interim_credit_line,
    interim_id,
    is_due,
    last_finalized,
    late_check_since,
    reissue_id,
    usage_changed,
)
from iotbill.domain.event_table import EventTable
from iotbill.domain.invoices import DocumentKind, Invoice, InvoiceSummary, carried_credit_line
from iotbill.domain.invoicing import InvoiceLine
from iotbill.domain.late_events import late_usage_adjustments
from iotbill.domain.numbering import NumberSeries, Series, series_for
from iotbill.domain.periods import Period
from iotbill.domain.subscription_billing import (
    PlanVersions,
    billing_periods,
    lines_covering,
    measured_usage,
    period_close_lines,
    usage_lines,
)
from iotbill.domain.subscriptions import Subscription
from iotbill.services.one_off_charges import PendingCharges
from iotbill.services.ports import EventScope, EventWindow
from iotbill.services.sla_credits import SlaCredits

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


@dataclass(frozen=True, slots=True)
class _Progress:
    """The open ``period`` of a plan with ``thresholds``: its usage ``so_far`` is read
    from ``window``; thresholds up to ``fired`` (an index, -1: none) fired already."""

    period: Period
    so_far: Period
    thresholds: tuple[Decimal, ...]
    fired: int
    window: EventWindow


@dataclass
class _Pending:
    """An invoice this run may write: a document to issue (``stored`` is ``None``) or a
    stored draft; ``window`` holds its usage when its lines are priced from events."""

    id: str
    kind: DocumentKind
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
        discounts: Sequence[Discount] = (),
    ) -> None:
        self.subscription = subscription
        self.customer = customer
        self.plans = plans
        self.scope = scope
        self.times = times
        self.discounts = discounts
        self.meters: tuple[Meter, ...] = tuple(
            meter for plan in plans.values() for meter in plan.meters
        )
        self._invoices = invoices
        stored = {summary.id: summary for summary in invoices}
        self._pending = [
            self._document(document if issue_id == document.id else replace(document, id=issue_id))
            for document in documents(subscription, customer, plans, times.as_of)
            if (issue_id := reissue_id(document.id, stored)) is not None
        ]
        self._pending.extend(
            self._draft(drafts[summary.id]) for summary in invoices if summary.id in drafts
        )
        self._progress = self._open_period(set(stored))
        self._due: list[_Pending] = []
        self._drafted: list[Invoice] = []
        self._adjustments: dict[str, list[InvoiceLine]] = {}
        self.issued: list[str] = []
        self.revised: list[Invoice] = []

    def pricing_windows(self) -> list[EventWindow]:
        """Step 1: the event windows of the invoices priced from usage, in order (and last,
        the open period's usage so far, when its plan bills progressively)."""
        windows = [pending.window for pending in self._pending if pending.window is not None]
        if self._progress is not None:
            windows.append(self._progress.window)
        return windows

    def price(self, tables: Sequence[EventTable]) -> None:
        """Step 2: the tables of :meth:`pricing_windows` in; documents issued (a document
        with no lines is not), drafts revised, the invoices due lined up."""
        priced = iter(tables)
        for pending in self._pending:
            if pending.window is not None:
                table = next(priced)
                lines = period_close_lines(
                    self.subscription, self.customer, self.plans, pending.period, table
                )
                pending.lines = [
                    *lines,
                    *self._percentages(lines),
                    *self._amounts(pending.period, table),
                    *self._interim_credits(pending.period),
                ]
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
        if self._progress is not None:
            self._interim(self._progress, next(priced))
        self._due.sort(key=lambda pending: (pending.issued_at, pending.id))

    def _open_period(self, stored: set[str]) -> _Progress | None:
        """The period open at ``as_of``, when the plan then in force has thresholds and
        some of them have not fired in it yet."""
        as_of = self.times.as_of
        end = self.subscription.end
        if as_of <= self.subscription.start or (end is not None and end <= as_of):
            return None
        phase = self.subscription.phase_at(as_of)
        if phase is None or not self.plans[phase.plan_key].thresholds:
            return None
        thresholds = self.plans[phase.plan_key].thresholds
        period = self.subscription.cycle(self.customer.timezone).period_containing(as_of)
        if period.start == as_of:
            return None
        fired = [
            index
            for index in range(len(thresholds))
            if interim_id(self.subscription.id, period, index) in stored
        ]
        if fired and max(fired) == len(thresholds) - 1:
            return None
        so_far = Period(period.start, as_of)
        window = EventWindow(self.scope, self.meters, so_far, seen_by(self.times.now))
        return _Progress(period, so_far, thresholds, max(fired, default=-1), window)

    def _interim(self, progress: _Progress, table: EventTable) -> None:
        """An interim invoice for the usage so far, when it reached a threshold not fired
        yet: less what the period's earlier interim invoices billed; finalized now."""
        usage = usage_lines(self.subscription, self.customer, self.plans, progress.so_far, table)
        total = sum((line.amount for line in usage), Decimal(0))
        crossed = [i for i, amount in enumerate(progress.thresholds) if total >= amount]
        if not crossed or crossed[-1] <= progress.fired:
            return
        id = interim_id(self.subscription.id, progress.period, crossed[-1])
        pending = _Pending(
            id=id,
            kind=DocumentKind.INTERIM,
            period=progress.period,
            issued_at=self.times.as_of,
            stored=None,
            due=True,
            window=None,
            lines=[*usage, *self._percentages(usage), *self._interim_credits(progress.period)],
        )
        self._due.append(pending)
        self.issued.append(id)

    def _percentages(self, lines: Sequence[InvoiceLine]) -> list[InvoiceLine]:
        """The percentage coupons' discounts of ``lines``, a line per coupon and period."""
        if not self.discounts:
            return []
        return percentage_lines(self.discounts, lines, self.customer.currency, self.customer.zone)

    def _amounts(self, period: Period, table: EventTable) -> list[InvoiceLine]:
        """The fixed-amount coupons' discounts of ``period``, on the invoice that closes it:
        taken from every line billed for it (``table``: its events)."""
        if not any(
            discount.coupon.kind == "amount" and discount.window.covers(period.start)
            for discount in self.discounts
        ):
            return []
        covering = lines_covering(self.subscription, self.customer, self.plans, period, table)
        return amount_lines(
            self.discounts, period, covering, self.customer.currency, self.customer.zone
        )

    def _interim_credits(self, period: Period) -> list[InvoiceLine]:
        """What the interim invoices of ``period`` billed, credited line by line."""
        interims = [
            summary
            for summary in self._invoices
            if summary.kind is DocumentKind.INTERIM
            and summary.period == period
            and summary.status in ("finalized", "paid")
        ]
        interims.sort(key=lambda summary: (summary.finalized_at or DAWN, summary.number or ""))
        return [interim_credit_line(self.customer.currency, summary) for summary in interims]

    @property
    def due(self) -> int:
        """How many invoices are due for finalization (after :meth:`price`)."""
        return len(self._due)

    def series(self) -> NumberSeries:
        """The series its invoices take their numbers from: they are finalized ``now``."""
        return series_for(Series.INVOICE, self.times.now, self.customer.zone)

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
        periods, unless they were all billed with the events known now; and, once
        service has ended and its last period is billed, one for a late-usage invoice
        of its own (an ended subscription has no next invoice to carry adjustments)."""
        checks = []
        for pending in self._due:
            if pending.kind is DocumentKind.CLOSE:
                checks.append(self._late_check(pending.id, pending.period))
        end = self._service_end()
        if end is not None and not any(p.kind is DocumentKind.CLOSE for p in self._due):
            # (a close finalized in this run carries the adjustments itself)
            late = document_id(self.subscription.id, DocumentKind.LATE, self.times.now)
            checks.append(self._late_check(late, Period(end, end + timedelta(microseconds=1))))
        return [check for check in checks if check is not None]

    def _late_check(self, invoice_id: str, period: Period) -> LateCheck | None:
        """Whether events before ``period`` arrived after the periods before it were
        billed (by their close invoices, or by a late-usage invoice since)."""
        finalized = self._finalized()
        earlier = finalized_before(finalized, period)
        if not earlier:
            return None
        late = [summary for summary in finalized if summary.kind is DocumentKind.LATE]
        billed_until = late_check_since([*earlier, *late], self.times.now)
        if billed_until is None:
            return None
        before = Period(DAWN, period.start)
        billed = EventWindow(self.scope, self.meters, before, seen_by(billed_until))
        current = replace(billed, received_before=seen_by(self.times.now))
        return LateCheck(invoice_id, tuple(earlier), billed, current)

    def _service_end(self) -> datetime | None:
        """The end of the last billed period, once service has ended, that period has
        closed by ``as_of`` and no period-close invoice waits in its grace period."""
        end = self.subscription.end
        if end is None:
            return None
        periods = billing_periods(self.subscription, self.customer, until=self.times.as_of)
        if not periods or periods[-1].end < end:
            return None
        if any(p.kind is DocumentKind.CLOSE and not p.due for p in self._pending):
            return None
        return periods[-1].end

    def credits_left(self, written: Sequence[Invoice]) -> list[InvoiceSummary]:
        """Once service has ended and its last period is billed, the invoices whose negative
        subtotal no later invoice will carry (``written``: what this run finalizes): the
        last invoice that carries credits, and every late-usage invoice (they carry none)."""
        if self._service_end() is None:
            return []
        summaries = [*self._invoices, *(invoice.summary() for invoice in written)]
        carrying = last_finalized([s for s in summaries if s.kind is not DocumentKind.LATE])
        left = [
            summary
            for summary in summaries
            if summary.kind is DocumentKind.LATE
            and summary.status in ("finalized", "paid")
            and summary.subtotal < 0
        ]
        if carrying is not None and carrying.subtotal < 0:
            left.append(carrying)
        return left

    def late_invoice(self, check: LateCheck) -> None:
        """An ended subscription's late usage as an invoice of its own, due now, when
        ``check`` (of :meth:`late_checks`) found some: numbered with the others."""
        lines = self._adjustments.get(check.invoice_id, [])
        if not lines or any(pending.id == check.invoice_id for pending in self._due):
            return
        if check.invoice_id != document_id(self.subscription.id, DocumentKind.LATE, self.times.now):
            return
        period = Period(check.earlier[0].period.start, check.earlier[-1].period.end)
        self._due.append(
            _Pending(
                id=check.invoice_id,
                kind=DocumentKind.LATE,
                period=period,
                issued_at=self.times.now,
                stored=None,
                due=True,
                window=None,
                lines=[],
            )
        )
        self.issued.append(check.invoice_id)

    def adjust(self, check: LateCheck, tables: Sequence[EventTable]) -> None:
        """The tables of ``check.windows()`` in: the adjustments of its invoice, for each
        earlier period whose events changed."""
        lines: list[InvoiceLine] = []
        for index, summary in enumerate(check.earlier):
            billed, current = tables[2 * index], tables[2 * index + 1]
            if not usage_changed(billed, current):
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

    def writes(
        self, charges: PendingCharges, sla: SlaCredits | None = None
    ) -> tuple[list[Invoice], list[Invoice]]:
        """Step 5: the invoices to add (drafts issued, and those finalized at once) and the
        stored drafts to replace (revised, or finalized), in order.

        Each invoice finalized bills the customer's one-off ``charges`` recorded by its
        issue instant and not billed yet, after its own lines; a period-close invoice
        then credits the late visits settled by ``now`` (``sla``).

        Each invoice finalized carries, before tax, the negative subtotal of the
        subscription's invoice finalized just before it (:func:`carried_credit_line`),
        so a credit larger than the charges is never lost; it is due on the local date
        of ``now`` plus the customer's net terms.
        """
        added, replaced = list(self._drafted), list(self.revised)
        previous = last_finalized(self._invoices)
        due_on = self.customer.due_on(self.times.now) if self._due else None
        for pending in self._due:
            assert pending.number is not None
            lines = [
                *pending.lines,
                *self._adjustments.get(pending.id, []),
                *charges.take(self.customer.id, pending.id, pending.issued_at),
                *self._sla_credits(sla, pending),
            ]
            carries = pending.kind is not DocumentKind.LATE  # its subscription has ended
            if carries and previous is not None and previous.subtotal < 0 and previous.number:
                lines.append(
                    carried_credit_line(self.customer.currency, previous.number, previous.subtotal)
                )
            if pending.stored is None:
                draft = self._new_draft(pending, lines)
            else:
                draft = pending.stored.revise(lines)
            final = draft.finalize(number=pending.number, at=self.times.now, due_on=due_on)
            (added if pending.stored is None else replaced).append(final)
            previous = final.summary()
        return added, replaced

    def _sla_credits(self, sla: SlaCredits | None, pending: _Pending) -> list[InvoiceLine]:
        if sla is None or pending.kind is not DocumentKind.CLOSE:
            return []
        return sla.take(
            self.subscription,
            self.customer,
            self.plans,
            self.scope,
            pending.id,
            pending.period,
            self.times.now,
        )

    def _document(self, document: Document) -> _Pending:
        due = is_due(document.issued_at, self.times.grace, self.times.as_of)
        fixed = document.fixed_lines
        lines = [] if fixed is None else fixed()
        return _Pending(
            id=document.id,
            kind=document.kind,
            period=document.period,
            issued_at=document.issued_at,
            stored=None,
            due=due,
            window=None if fixed is not None else self._usage(document.period, due),
            lines=[*lines, *self._percentages(lines)],
        )

    def _draft(self, draft: Invoice) -> _Pending:
        due = draft.is_due_for_finalization(self.times.as_of)
        return _Pending(
            id=draft.id,
            kind=draft.kind,
            period=draft.period,
            issued_at=draft.issued_at,
            stored=draft,
            due=due,
            window=self._usage(draft.period, due) if draft.kind.priced_from_usage else None,
            lines=list(draft.lines),
        )

    def _usage(self, period: Period, due: bool) -> EventWindow:
        """The events a period-close invoice is priced from: all of them for a draft, those
        received by ``now`` for the invoice finalized now."""
        received_before = seen_by(self.times.now) if due else None
        measured = measured_usage(self.subscription, self.plans, period)
        return EventWindow(self.scope, self.meters, period, received_before, measured)

    def _new_draft(self, pending: _Pending, lines: list[InvoiceLine]) -> Invoice:
        return Invoice.draft(
            id=pending.id,
            kind=pending.kind,
            customer=self.customer,
            subscription_id=self.subscription.id,
            period=pending.period,
            lines=lines,
            issued_at=pending.issued_at,
            grace=self.times.grace,
        )

    def _finalized(self) -> list[InvoiceSummary]:
        """The subscription's invoices finalized: those stored, and those this run
        finalizes (at ``now``)."""
        finalized = [summary for summary in self._invoices if summary.finalized_at is not None]
        finalized.extend(
            InvoiceSummary(
                id=pending.id,
                kind=pending.kind,
                subscription_id=self.subscription.id,
                status="finalized",
                period=pending.period,
                issued_at=pending.issued_at,
                grace_until=pending.stored.grace_until
                if pending.stored
                else pending.issued_at + self.times.grace,
                number=pending.number,
                finalized_at=self.times.now,
            )
            for pending in self._due
        )
        return finalized
