"""Which invoices a subscription owes, and when each is due: the bill run's decisions.

A subscription owes, by an instant ``as_of``, one document of each
:class:`~iotbill.domain.invoices.DocumentKind` whose moment has come:

* ``opening`` at its start (the first period's advance fees);
* ``change`` at each plan change or migration that starts a phase;
* ``cancellation`` at an immediate cancellation;
* ``pause`` at each pause, ``resume`` at each resumption;
* ``close`` at the end of each billing period that ended by ``as_of``.

Each has a deterministic id (``sub-1/close/2026-02-01T00:00:00+00:00``), so
whether it exists already is a lookup; the id is only a key, never read back
for the kind. A document is *due* for finalization once its grace has passed:
``issued_at + grace <= as_of``.

Late events: before a ``close`` invoice is finalized, the periods finalized
before its own are checked for events that arrived since they were billed
(:func:`late_check_since`); only those whose counted events changed are priced
again (:func:`usage_changed`, then
:func:`~iotbill.domain.late_events.late_usage_adjustments`).

>>> from datetime import UTC, timedelta
>>> issued = datetime(2026, 2, 1, tzinfo=UTC)
>>> is_due(issued, timedelta(days=3), as_of=issued + timedelta(days=2))
False
>>> is_due(issued, timedelta(days=3), as_of=issued + timedelta(days=3))
True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial

from iotbill.domain.customers import Customer
from iotbill.domain.event_table import EventTable
from iotbill.domain.invoices import DocumentKind, InvoiceSummary
from iotbill.domain.invoicing import InvoiceLine
from iotbill.domain.money import Currency
from iotbill.domain.periods import Period
from iotbill.domain.subscription_billing import (
    PlanVersions,
    billing_periods,
    cancellation_lines,
    change_lines,
    opening_lines,
    pause_lines,
    resume_lines,
)
from iotbill.domain.subscriptions import Subscription


@dataclass(frozen=True, slots=True)
class Document:
    """An invoice a subscription owes: its kind, deterministic id, period and issue instant.

    ``fixed_lines`` prices a document that bills no usage; a ``close`` invoice
    (``None``) is priced from the period's events.
    """

    kind: DocumentKind
    id: str
    period: Period
    issued_at: datetime
    fixed_lines: Callable[[], list[InvoiceLine]] | None = None


def document_id(subscription_id: str, kind: DocumentKind, at: datetime | None = None) -> str:
    """The id of a subscription's document of ``kind``: ``at`` is a change's start, or a
    closed period's start; an opening and a cancellation happen once.

    >>> from datetime import UTC
    >>> document_id("sub-1", DocumentKind.CLOSE, datetime(2026, 2, 1, tzinfo=UTC))
    'sub-1/close/2026-02-01T00:00:00+00:00'
    >>> document_id("sub-1", DocumentKind.OPENING)
    'sub-1/opening'
    """
    if kind in (DocumentKind.OPENING, DocumentKind.CANCELLATION):
        return f"{subscription_id}/{kind.value}"
    # A LATE invoice is named by the instant of the run that issues it.
    if at is None:
        raise ValueError(f"a {kind.value} document is named by its instant")
    return f"{subscription_id}/{kind.value}/{at.isoformat()}"


def documents(
    subscription: Subscription, customer: Customer, plans: PlanVersions, as_of: datetime
) -> list[Document]:
    """Every document of the subscription whose moment has come by ``as_of``, in time order."""
    cycle = subscription.cycle(customer.timezone)
    found: list[Document] = []
    if subscription.start <= as_of:
        found.append(
            Document(
                kind=DocumentKind.OPENING,
                id=document_id(subscription.id, DocumentKind.OPENING),
                period=cycle.period_containing(subscription.start),
                issued_at=subscription.start,
                fixed_lines=partial(opening_lines, subscription, customer, plans),
            )
        )
    for phase in subscription.phases[1:]:
        if phase.start <= as_of:
            found.append(
                Document(
                    kind=DocumentKind.CHANGE,
                    id=document_id(subscription.id, DocumentKind.CHANGE, phase.start),
                    period=cycle.period_containing(phase.start),
                    issued_at=phase.start,
                    fixed_lines=partial(change_lines, subscription, customer, plans, phase.start),
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
                kind=DocumentKind.CANCELLATION,
                id=document_id(subscription.id, DocumentKind.CANCELLATION),
                period=cycle.period_containing(cancellation.effective_at),
                issued_at=cancellation.effective_at,
                fixed_lines=partial(cancellation_lines, subscription, customer, plans),
            )
        )
    for pause in subscription.pauses:
        moments = [(DocumentKind.PAUSE, pause.start, pause_lines)]
        if pause.end is not None:
            moments.append((DocumentKind.RESUME, pause.end, resume_lines))
        for kind, at, lines in moments:
            if at <= as_of:
                found.append(
                    Document(
                        kind=kind,
                        id=document_id(subscription.id, kind, at),
                        period=cycle.period_containing(at),
                        issued_at=at,
                        fixed_lines=partial(lines, subscription, customer, plans, pause),
                    )
                )
    for period in billing_periods(subscription, customer, until=as_of):
        found.append(
            Document(
                kind=DocumentKind.CLOSE,
                id=document_id(subscription.id, DocumentKind.CLOSE, period.start),
                period=period,
                issued_at=period.end,
            )
        )
    return sorted(found, key=lambda document: document.issued_at)


def is_due(issued_at: datetime, grace: timedelta, as_of: datetime) -> bool:
    """Whether a document issued at ``issued_at`` with ``grace`` is due for finalization."""
    return issued_at + grace <= as_of


def drafts_to_read(invoices: Sequence[InvoiceSummary], as_of: datetime) -> list[str]:
    """The drafts among ``invoices`` that a run may change: issued by ``as_of``, and due
    for finalization or priced from events (to revise)."""
    return [
        summary.id
        for summary in invoices
        if summary.status == "draft"
        and summary.issued_at <= as_of
        and (summary.grace_until <= as_of or summary.kind.priced_from_usage)
    ]


def finalized_before(invoices: Sequence[InvoiceSummary], period: Period) -> list[InvoiceSummary]:
    """The ``close`` invoices among ``invoices`` finalized for periods before ``period``,
    oldest period first: those whose late events the ``close`` invoice of ``period`` bills."""
    earlier = [
        summary
        for summary in invoices
        if summary.kind is DocumentKind.CLOSE
        and summary.status != "void"
        and summary.finalized_at is not None
        and summary.number is not None
        and summary.period.end <= period.start
    ]
    return sorted(earlier, key=lambda summary: summary.period.start)


def interim_id(subscription_id: str, period: Period, threshold: int) -> str:
    """The id of the interim invoice of ``period`` issued at its ``threshold``-th threshold
    (from 0): each threshold fires once per period.

    >>> from datetime import UTC
    >>> january = Period(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC))
    >>> interim_id("sub-1", january, 0)
    'sub-1/interim/2026-01-01T00:00:00+00:00/1'
    """
    kind = DocumentKind.INTERIM.value
    return f"{subscription_id}/{kind}/{period.start.isoformat()}/{threshold + 1}"


def interim_credit_line(currency: Currency, interim: InvoiceSummary) -> InvoiceLine:
    """The line that credits what the interim invoice ``interim`` billed (its subtotal),
    on the period's close or a later interim invoice."""
    return InvoiceLine.rounded(
        currency,
        charge="interim",
        kind="adjustment",
        description=f"Billed on interim invoice {interim.number}",
        quantity=Decimal(1),
        unit_price=None,
        exact_amount=-interim.subtotal,
    )


def reissue_id(document_id: str, stored: Mapping[str, InvoiceSummary]) -> str | None:
    """The id to issue a document under: its own, or, when every invoice issued for it was
    a draft that was voided, a replacement's (``{id}/2``, then ``{id}/3``, ...); ``None``
    when it is issued and stands (or was voided once finalized: then it was cancelled).

    >>> from iotbill.domain.periods import Period
    >>> from datetime import UTC
    >>> at = datetime(2026, 2, 1, tzinfo=UTC)
    >>> voided = InvoiceSummary("s/opening", DocumentKind.OPENING, "s", "void",
    ...     Period(at, at + timedelta(days=1)), at, at, None, None)
    >>> reissue_id("s/opening", {}), reissue_id("s/opening", {"s/opening": voided})
    ('s/opening', 's/opening/2')
    """
    issue_id, count = document_id, 1
    while issue_id in stored:
        summary = stored[issue_id]
        if summary.status != "void" or summary.number is not None:
            return None
        count += 1
        issue_id = f"{document_id}/{count}"
    return issue_id


def last_finalized(invoices: Sequence[InvoiceSummary]) -> InvoiceSummary | None:
    """The invoice finalized last among ``invoices`` and not void (by finalization instant,
    then number): the one whose negative subtotal the next invoice finalized carries."""
    finalized = [
        summary
        for summary in invoices
        if summary.status in ("finalized", "paid") and summary.finalized_at is not None
    ]
    return max(
        finalized,
        key=lambda summary: (summary.finalized_at, summary.number or ""),
        default=None,
    )


def late_check_since(earlier: Sequence[InvoiceSummary], now: datetime) -> datetime | None:
    """Since when late events for ``earlier`` (finalized) periods are to be looked for:
    the last of their finalizations, or ``None`` when there is nothing to check (no
    earlier period, or all billed at ``now`` with every event known then)."""
    finalized = [summary.finalized_at for summary in earlier if summary.finalized_at is not None]
    if not finalized:
        return None
    billed_until = max(finalized)
    return None if billed_until == now else billed_until


def usage_changed(billed: EventTable, current: EventTable) -> bool:
    """Whether the events that count differ between a period as billed and as known now.

    By ids: an event's content never changes, and a correction replaces one event
    by another, so the same number of events is no proof of the same events.
    """
    return _ids(current) != _ids(billed)


def _ids(table: EventTable) -> set[str]:
    return set(table.ids)
