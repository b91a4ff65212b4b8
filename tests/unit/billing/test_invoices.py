"""Invoices: lifecycle, numbering, tax once per invoice, credit notes, JSON, JPY end to end."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from iotbill.domain.errors import Conflict, InvalidInput
from iotbill.domain.invoices import (
    DocumentKind,
    Invoice,
    carried_credit_line,
    credit_line,
    issue_credit_note,
    totals,
)
from iotbill.domain.invoicing import InvoiceLine, LineKind
from iotbill.domain.money import currency
from iotbill.domain.numbering import format_invoice_number
from iotbill.domain.periods import Period
from iotbill.domain.plan_parsing import parse_plan
from iotbill.domain.subscription_billing import billing_periods, opening_lines, period_close_lines
from iotbill.domain.subscriptions import subscribe

from .builders import customer, flows, local, utc

USD = currency("USD")
APRIL = Period(utc(2026, 4, 1), utc(2026, 5, 1))
ISSUED = utc(2026, 5, 1, 0, 5)
ACME = customer(tax_rate="19")


def line(amount: str, kind: LineKind = "usage", description: str = "Water") -> InvoiceLine:
    return InvoiceLine.rounded(
        USD,
        charge="water",
        kind=kind,
        description=description,
        quantity=Decimal(1),
        unit_price=None,
        exact_amount=Decimal(amount),
    )


def draft(*lines: InvoiceLine) -> Invoice:
    return Invoice.draft(
        id="inv-1",
        kind=DocumentKind.CLOSE,
        customer=ACME,
        subscription_id="sub-1",
        period=APRIL,
        lines=lines,
        issued_at=ISSUED,
        grace=timedelta(days=3),
    )


def finalized(*lines: InvoiceLine) -> Invoice:
    return draft(*lines).finalize(number="INV-2026-000001", at=utc(2026, 5, 4, 0, 5))


def test_invoice_numbers() -> None:
    assert format_invoice_number("INV", 2026, 123) == "INV-2026-000123"
    assert format_invoice_number("CN", 2026, 1_234_567) == "CN-2026-1234567"
    with pytest.raises(InvalidInput) as error:
        format_invoice_number("IN V", 2026, 0)
    assert [str(problem) for problem in error.value.problems] == [
        "prefix: must be letters or digits, not 'IN V'",
        "sequence: must be at least 1, not 0",
    ]


def test_tax_is_applied_once_to_the_sum_of_the_rounded_lines() -> None:
    invoice = Invoice.draft(
        id="inv-1",
        kind=DocumentKind.CLOSE,
        customer=customer(tax_rate="25"),
        subscription_id=None,
        period=APRIL,
        lines=[line("0.02"), line("0.02"), line("0.02")],
        issued_at=ISSUED,
    )

    # Once: 25 % of 0.06 = 0.015 -> 0.02. Per line it would be 3 x round(0.005) = 0.03.
    assert (invoice.subtotal, invoice.tax, invoice.total) == (
        Decimal("0.06"),
        Decimal("0.02"),
        Decimal("0.08"),
    )


def test_the_subtotal_sums_lines_already_rounded_once() -> None:
    # 0.125 + 0.125 rounds per line to 0.13 + 0.13 = 0.26 (not round(0.25) = 0.25).
    assert totals([line("0.125"), line("0.125")], Decimal(0), USD).subtotal == Decimal("0.26")


def test_a_draft_is_finalized_with_its_number_then_paid() -> None:
    invoice = draft(line("100.00"))

    assert invoice.is_due_for_finalization(utc(2026, 5, 4, 0, 4)) is False
    assert invoice.is_due_for_finalization(utc(2026, 5, 4, 0, 5)) is True
    revised = invoice.revise([line("100.00"), line("5.00", description="Late water")])
    final = revised.finalize(number="INV-2026-000001", at=utc(2026, 5, 4, 0, 5))
    paid = final.pay(at=utc(2026, 5, 10))

    assert (final.status, final.number, final.finalized_at) == (
        "finalized",
        "INV-2026-000001",
        utc(2026, 5, 4, 0, 5),
    )
    assert final.total == Decimal("124.95")  # 105.00 + 19.95
    assert (paid.status, paid.paid_at, paid.number) == ("paid", utc(2026, 5, 10), final.number)
    assert final.is_due_for_finalization(utc(2026, 6, 1)) is False


@pytest.mark.parametrize(
    ("invoice", "transition", "message"),
    [
        (
            draft(),
            lambda i: i.pay(at=ISSUED),
            "cannot pay invoice inv-1: it is draft, not finalized",
        ),
        (
            finalized(),
            lambda i: i.finalize(number="INV-2026-000002", at=ISSUED),
            "cannot finalize invoice INV-2026-000001: it is finalized, not draft",
        ),
        (
            finalized(),
            lambda i: i.revise([]),
            "cannot revise invoice INV-2026-000001: it is finalized, not draft",
        ),
        (
            finalized().pay(at=ISSUED),
            lambda i: i.void(at=ISSUED),
            "cannot void invoice INV-2026-000001: it is paid, not draft or finalized",
        ),
        (
            draft().void(at=ISSUED),
            lambda i: i.finalize(number="INV-2026-000002", at=ISSUED),
            "cannot finalize invoice inv-1: it is void, not draft",
        ),
    ],
)
def test_illegal_transitions_are_conflicts(
    invoice: Invoice, transition: Callable[[Invoice], Invoice], message: str
) -> None:
    with pytest.raises(Conflict) as error:
        transition(invoice)
    assert str(error.value) == message


def test_void_a_draft_or_a_finalized_invoice() -> None:
    assert draft().void(at=ISSUED).number is None
    voided = finalized().void(at=utc(2026, 5, 5))
    assert (voided.status, voided.number, voided.voided_at) == (
        "void",
        "INV-2026-000001",
        utc(2026, 5, 5),
    )


def test_finalizing_needs_a_number() -> None:
    with pytest.raises(InvalidInput, match="number: must be a non-empty string"):
        draft().finalize(number=" ", at=ISSUED)


def test_credit_notes_reduce_the_amount_due_and_never_exceed_it() -> None:
    invoice = finalized(line("100.00"))  # 100.00 + 19 % = 119.00

    note, credited = issue_credit_note(
        invoice,
        id="cn-1",
        number="CN-2026-000001",
        lines=[credit_line(USD, amount=Decimal("10.00"), description="Outage, 3 days")],
        reason="SLA credit",
        issued_at=utc(2026, 5, 6),
    )

    assert (note.totals.subtotal, note.totals.tax, note.totals.total) == (
        Decimal("10.00"),
        Decimal("1.90"),
        Decimal("11.90"),
    )
    assert (credited.credits, credited.amount_due) == (Decimal("11.90"), Decimal("107.10"))
    assert credited.lines == invoice.lines and credited.number == invoice.number
    with pytest.raises(InvalidInput) as error:
        issue_credit_note(
            credited,
            id="cn-2",
            number="CN-2026-000002",
            lines=[credit_line(USD, amount=Decimal("90.01"), description="Goodwill")],
            reason="Goodwill",
            issued_at=utc(2026, 5, 7),
        )
    # 90.01 + 17.10 tax = 107.11 > 107.10.
    assert str(error.value) == (
        "lines: credits 107.11 but only 107.10 of INV-2026-000001 is left to credit"
    )
    _, settled = issue_credit_note(
        credited,
        id="cn-2",
        number="CN-2026-000002",
        lines=[credit_line(USD, amount=Decimal("90.00"), description="Goodwill")],
        reason="Goodwill",
        issued_at=utc(2026, 5, 7),
    )
    assert (settled.credits, settled.amount_due) == (Decimal("119.00"), Decimal("0.00"))
    assert note.as_json() == {
        "id": "cn-1",
        "number": "CN-2026-000001",
        "invoice": "inv-1",
        "currency": "USD",
        "reason": "SLA credit",
        "lines": [
            {
                "charge": "credit",
                "kind": "credit",
                "description": "Outage, 3 days",
                "group": None,
                "quantity": "1",
                "unit_price": "10.00",
                "amount": "10.00",
                "detail": [],
            }
        ],
        "subtotal": "10.00",
        "tax": {"rate": "19", "amount": "1.90"},
        "total": "11.90",
        "issued_at": "2026-05-06T00:00:00+00:00",
    }


def test_a_draft_takes_no_credit_note() -> None:
    with pytest.raises(Conflict, match="cannot credit invoice inv-1: it is draft"):
        issue_credit_note(
            draft(line("1.00")),
            id="cn-1",
            number="CN-2026-000001",
            lines=[credit_line(USD, amount=Decimal("1.00"), description="x")],
            reason="x",
            issued_at=ISSUED,
        )


def test_a_negative_invoice_is_due_nothing_and_carries_its_subtotal_forward() -> None:
    invoice = finalized(line("-21.44", kind="credit"), line("10.00", kind="fixed_fee"))

    # -11.44 + 19 % (-2.1736 -> -2.17) = -13.61: nothing due.
    assert (invoice.subtotal, invoice.tax, invoice.total, invoice.amount_due) == (
        Decimal("-11.44"),
        Decimal("-2.17"),
        Decimal("-13.61"),
        Decimal(0),
    )
    assert invoice.number is not None
    carried = carried_credit_line(invoice.currency, invoice.number, invoice.subtotal)
    assert (carried.kind, carried.description, carried.amount) == (
        "adjustment",
        "Credit carried from INV-2026-000001",
        Decimal("-11.44"),
    )
    assert carried.as_json(invoice.currency)["amount"] == "-11.44"


def test_a_negative_invoice_at_no_tax_shows_its_tax_without_a_sign() -> None:
    invoice = replace(draft(line("-11.00", kind="credit")), tax_rate=Decimal(0))
    # 0 % of -11.00 is -0.00 in Decimal arithmetic: written 0.00.
    document = invoice.as_json()
    assert (document["tax"]["amount"], document["total"], document["amount_due"]) == (
        "0.00",
        "-11.00",
        "0.00",
    )


def test_lines_in_another_currency_s_minor_unit_are_refused() -> None:
    with pytest.raises(InvalidInput, match=r"lines\[0\]\.amount: 1.50 is not an amount in JPY"):
        Invoice.draft(
            id="inv-1",
            kind=DocumentKind.CLOSE,
            customer=customer(currency="JPY"),
            subscription_id=None,
            period=APRIL,
            lines=[line("1.50")],
            issued_at=ISSUED,
        )


def test_jpy_end_to_end_from_subscription_to_invoice_json() -> None:
    plan = parse_plan(
        {
            "code": "sms-jp",
            "currency": "JPY",
            "interval": "month",
            "fixed_fees": [{"code": "base", "name": "Monitoring", "amount": 3000}],
            "meters": [
                {"code": "sms", "event_type": "pump.flow", "aggregation": "sum", "property": "m3"}
            ],
            "charges": [
                {
                    "code": "sms",
                    "name": "SMS",
                    "meter": "sms",
                    "model": "per_unit",
                    "unit_price": "0.35",
                }
            ],
        }
    )
    tokyo = customer("Asia/Tokyo", currency="JPY", tax_rate="10", id="kaisha")
    start = local("Asia/Tokyo", 2026, 2, 10)
    subscription = subscribe(id="sub-jp", customer=tokyo, plan=plan, plan_version=1, start=start)
    plans = {("sms-jp", 1): plan}
    (february,) = billing_periods(subscription, tokyo, until=local("Asia/Tokyo", 2026, 3, 1))
    events = flows((local("Asia/Tokyo", 2026, 2, 12), 600), (local("Asia/Tokyo", 2026, 2, 27), 401))

    opening = Invoice.draft(
        id="inv-open",
        kind=DocumentKind.OPENING,
        customer=tokyo,
        subscription_id=subscription.id,
        period=february,
        lines=opening_lines(subscription, tokyo, plans),
        issued_at=start,
    ).finalize(number="INV-2026-000001", at=start, due_on=tokyo.due_on(start))
    close = Invoice.draft(
        id="inv-feb",
        kind=DocumentKind.CLOSE,
        customer=tokyo,
        subscription_id=subscription.id,
        period=february,
        lines=period_close_lines(subscription, tokyo, plans, february, events),
        issued_at=february.end,
    )

    # 10 to 28 February local: 19 of 28 days. 3000 x 19/28 = 2035.71... -> 2036; tax 203.6 -> 204.
    assert opening.as_json() == {
        "id": "inv-open",
        "number": "INV-2026-000001",
        "kind": "opening",
        "status": "finalized",
        "customer": "kaisha",
        "subscription": "sub-jp",
        "currency": "JPY",
        "period": {"start": "2026-01-31T15:00:00+00:00", "end": "2026-02-28T15:00:00+00:00"},
        "lines": [
            {
                "charge": "base",
                "kind": "fixed_fee",
                "description": "Monitoring (sms-jp v1, 2026-02-10 to 2026-03-01, in advance)",
                "group": None,
                "quantity": "1",
                "unit_price": None,
                "amount": "2036",
                "detail": [
                    {
                        "kind": "proration",
                        "units": "1641600",
                        "amount": "2035.714285714285714",
                        "note": "3000 x 1641600/2419200 seconds of 2026-02-01 to 2026-03-01,"
                        " billed in advance",
                    }
                ],
            }
        ],
        "subtotal": "2036",
        "tax": {"rate": "10", "amount": "204"},
        "total": "2240",
        "credit_notes": "0",
        "balance_applied": "0",
        "payments": "0",
        "amount_due": "2240",
        "due_on": "2026-02-10",
        "issued_at": "2026-02-09T15:00:00+00:00",
        "finalized_at": "2026-02-09T15:00:00+00:00",
        "paid_at": None,
        "voided_at": None,
    }
    # 1001 messages x 0.35 = 350.35 -> 350; March in advance 3000; tax 10 % of 3350 = 335.
    document = close.as_json()
    assert [(item["description"], item["amount"]) for item in document["lines"]] == [
        ("SMS (sms-jp v1, 2026-02-10 to 2026-03-01)", "350"),
        ("Monitoring (sms-jp v1, 2026-03-01 to 2026-04-01, in advance)", "3000"),
    ]
    assert {key: document[key] for key in ("subtotal", "total", "amount_due", "number")} == {
        "subtotal": "3350",
        "total": "3685",
        "amount_due": "3685",
        "number": None,
    }
    assert document["tax"] == {"rate": "10", "amount": "335"}
