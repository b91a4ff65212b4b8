"""The documents a subscription owes, their kinds, when they are due, and their numbers."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from iotbill.domain.documents import (
    document_id,
    documents,
    drafts_to_read,
    finalized_before,
    is_due,
    late_check_since,
    usage_changed,
)
from iotbill.domain.errors import InvalidInput
from iotbill.domain.event_table import EventTable
from iotbill.domain.events import UsageEvent
from iotbill.domain.invoices import DocumentKind, InvoiceStatus, InvoiceSummary
from iotbill.domain.numbering import NumberSeries, Series, format_invoice_number, series_for
from iotbill.domain.periods import Period
from iotbill.domain.subscriptions import cancel, change_plan, subscribe

from .builders import BASIC, PLANS, PREMIUM, customer, flows, utc

ACME = customer()
JANUARY = Period(utc(2026, 1, 1), utc(2026, 2, 1))
FEBRUARY = Period(utc(2026, 2, 1), utc(2026, 3, 1))
MARCH = Period(utc(2026, 3, 1), utc(2026, 4, 1))


def summary(
    id: str,
    kind: DocumentKind,
    period: Period,
    *,
    status: InvoiceStatus = "finalized",
    finalized_at: datetime | None = None,
    grace: timedelta = timedelta(0),
) -> InvoiceSummary:
    finalized = status in ("finalized", "paid")
    return InvoiceSummary(
        id=id,
        kind=kind,
        subscription_id="sub-1",
        status=status,
        period=period,
        issued_at=period.end,
        grace_until=period.end + grace,
        number=f"INV-2026-{id[-1]}" if finalized else None,
        finalized_at=(finalized_at or period.end) if finalized else None,
    )


def test_a_subscription_owes_each_kind_at_its_moment_in_time_order() -> None:
    # Basic from 15 January; Premium from 10 February 06:00; cancelled at once on 20 March.
    started = subscribe(
        id="sub-1", customer=ACME, plan=BASIC, plan_version=1, start=utc(2026, 1, 15)
    )
    upgraded = change_plan(
        started, ACME, plan=PREMIUM, plan_version=1, at=utc(2026, 2, 10, 6), timing="immediate"
    )
    cancelled = cancel(upgraded, ACME, timing="immediate", at=utc(2026, 3, 20))

    owed = documents(cancelled, ACME, PLANS, as_of=utc(2026, 4, 1))

    assert [(d.kind, d.id, d.period, d.issued_at) for d in owed] == [
        (DocumentKind.OPENING, "sub-1/opening", JANUARY, utc(2026, 1, 15)),
        (DocumentKind.CLOSE, "sub-1/close/2026-01-01T00:00:00+00:00", JANUARY, JANUARY.end),
        (
            DocumentKind.CHANGE,
            "sub-1/change/2026-02-10T06:00:00+00:00",
            FEBRUARY,
            utc(2026, 2, 10, 6),
        ),
        (DocumentKind.CLOSE, "sub-1/close/2026-02-01T00:00:00+00:00", FEBRUARY, FEBRUARY.end),
        (DocumentKind.CANCELLATION, "sub-1/cancellation", MARCH, utc(2026, 3, 20)),
        (DocumentKind.CLOSE, "sub-1/close/2026-03-01T00:00:00+00:00", MARCH, MARCH.end),
    ]
    # Only a close is priced from events; the others carry their fixed lines.
    assert [d.fixed_lines is None for d in owed] == [False, True, False, True, False, True]
    assert [kind for kind in DocumentKind if kind.priced_from_usage] == [DocumentKind.CLOSE]
    # By 1 February only the opening and January's close are owed.
    by_february = documents(cancelled, ACME, PLANS, as_of=utc(2026, 2, 1))
    assert [d.kind for d in by_february] == [DocumentKind.OPENING, DocumentKind.CLOSE]


def test_a_document_id_needs_the_instant_of_a_change_or_close() -> None:
    assert document_id("s", DocumentKind.CANCELLATION) == "s/cancellation"
    with pytest.raises(ValueError, match="a change document is named by its instant"):
        document_id("s", DocumentKind.CHANGE)


def test_a_document_is_due_once_its_grace_has_passed() -> None:
    issued = utc(2026, 2, 1)
    grace = timedelta(hours=72)

    assert not is_due(issued, grace, as_of=utc(2026, 2, 3, 23, 59, 59))
    assert is_due(issued, grace, as_of=utc(2026, 2, 4))
    assert is_due(issued, timedelta(0), as_of=issued)


def test_a_run_reads_the_drafts_it_may_finalize_or_revise() -> None:
    as_of = utc(2026, 2, 2)
    invoices = [
        # A close draft in its grace: read, to revise with late events.
        summary("c-jan", DocumentKind.CLOSE, JANUARY, status="draft", grace=timedelta(days=3)),
        # An opening draft in its grace: nothing to revise (no usage), not due yet.
        summary("o-jan", DocumentKind.OPENING, JANUARY, status="draft", grace=timedelta(days=3)),
        # An opening draft whose grace ended: read, to finalize.
        summary("o-dec", DocumentKind.OPENING, JANUARY, status="draft", grace=timedelta(hours=1)),
        # Issued after as_of, or finalized already: not read.
        summary("c-feb", DocumentKind.CLOSE, FEBRUARY, status="draft"),
        summary("c-old", DocumentKind.CLOSE, JANUARY),
    ]

    assert drafts_to_read(invoices, as_of) == ["c-jan", "o-dec"]


def test_late_events_are_looked_for_in_the_closes_finalized_before_a_period() -> None:
    jan = summary("c-1", DocumentKind.CLOSE, JANUARY, finalized_at=utc(2026, 2, 1, 9))
    feb = summary("c-2", DocumentKind.CLOSE, FEBRUARY, finalized_at=utc(2026, 3, 1, 9))
    opening = summary("o-3", DocumentKind.OPENING, JANUARY)
    draft = summary("c-4", DocumentKind.CLOSE, JANUARY, status="draft")

    earlier = finalized_before([feb, opening, draft, jan], MARCH)

    assert earlier == [jan, feb]  # oldest period first; no opening, no draft
    assert finalized_before([feb, jan], FEBRUARY) == [jan]
    # Since the last finalization; nothing to look for when all were billed just now.
    assert late_check_since(earlier, now=utc(2026, 4, 1)) == utc(2026, 3, 1, 9)
    assert late_check_since(earlier, now=utc(2026, 3, 1, 9)) is None
    assert late_check_since([], now=utc(2026, 4, 1)) is None


def test_usage_changed_compares_the_events_that_count_not_their_number() -> None:
    billed = flows((utc(2026, 1, 5), 10))
    [reading] = billed.source_events
    corrected = UsageEvent(
        "e9", "pump.flow", "pump-1", reading.timestamp, {"m3": Decimal(12)}, corrects="e1"
    )

    assert not usage_changed(billed, flows((utc(2026, 1, 5), 10)))
    assert usage_changed(billed, EventTable.build([reading, corrected]))  # still one counts


@pytest.mark.parametrize(
    ("series", "zone", "expected"),
    [
        # 31 December 23:30 UTC is already 1 January in Berlin, still 31 December in New York.
        (Series.INVOICE, "Europe/Berlin", ("INV-2027", "INV-2027-000042")),
        (Series.INVOICE, "America/New_York", ("INV-2026", "INV-2026-000042")),
        (Series.CREDIT_NOTE, "Asia/Tokyo", ("CN-2027", "CN-2027-000042")),
    ],
)
def test_a_number_is_taken_from_the_series_of_the_year_the_customer_reads(
    series: Series, zone: str, expected: tuple[str, str]
) -> None:
    found = series_for(series, utc(2026, 12, 31, 23, 30), ZoneInfo(zone))

    assert (found.name, found.number(42)) == expected


def test_series_sort_by_kind_then_year_and_numbers_grow_past_six_digits() -> None:
    series = [NumberSeries(Series.INVOICE, 2027), NumberSeries(Series.CREDIT_NOTE, 2026)]

    assert [s.name for s in sorted(series)] == ["CN-2026", "INV-2027"]
    assert NumberSeries(Series.INVOICE, 2026).number(1_000_000) == "INV-2026-1000000"
    with pytest.raises(InvalidInput, match="sequence: must be at least 1, not 0"):
        NumberSeries(Series.INVOICE, 2026).number(0)
    assert format_invoice_number("INV", 26, 7) == "INV-0026-000007"
