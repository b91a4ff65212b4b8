"""Invoices and credit notes as documents: every figure spelled, ready for a template.

A :class:`Document` holds only text: the renderers (:mod:`.html`, :mod:`.pdf`)
lay it out and decide nothing. What it shows, and the rules chosen:

* the seller (the tenant) and the customer (name, id, billing address);
* the number (a draft has none yet and says so), status, issue date, the
  period and, as they happen, when it was finalized, paid or voided;
* the period ``[start, end)`` as its first and last day in the customer's zone
  (``Jan 1, 2026 – Jan 31, 2026``): a period ending at local midnight ends the
  day before, one ending at any other time shows that instant;
* each line: description (and group), quantity, unit price, amount, and the
  steps of its arithmetic beneath it (tiers, free units, prorations, late
  adjustments), each with its exact amount: the steps are exact and the line's
  amount is their sum rounded once, so they may differ from it by less than a
  minor unit;
* subtotal, tax (its rate), total, the credit notes issued against it, and the
  amount due.

Amounts are spelled by :class:`~iotbill.entrypoints.render.spelling.Spelling`
in the customer's locale and the invoice's currency. Labels are English.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from iotbill.domain.invoices import Invoice
from iotbill.domain.invoicing import InvoiceLine
from iotbill.domain.periods import Period
from iotbill.domain.pricing import Detail
from iotbill.entrypoints.render.spelling import Spelling
from iotbill.services.documents import CreditNoteSheet, InvoiceSheet

_STEP_NAMES = {
    "billed": "Already billed",
    "carried_credit": "Credit carried",
    "charges": "Charges billed",
    "event_amounts": "Amounts of the events",
    "event_fees": "Fees per event",
    "fixed_fee": "Fixed fee",
    "flat": "Flat amount",
    "free_amount": "Free amount",
    "free_events": "Free events",
    "free_units": "Free units",
    "maximum": "Maximum",
    "minimum": "Minimum commitment",
    "minimum_true_up": "Raised to the minimum",
    "packages": "Packages",
    "per_event_maximum": "Cut to the maximum per event",
    "per_event_minimum": "Raised to the minimum per event",
    "percentage": "Share",
    "proration": "Prorated",
    "repriced": "Priced again",
    "risk_factor": "Risk factor",
    "rounding": "Rounded",
    "units": "Units",
    "window_cap": "Not counted above the cap",
}


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a line's arithmetic: what it is, and its exact amount."""

    text: str
    amount: str


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the document."""

    description: str
    quantity: str
    unit_price: str
    amount: str
    steps: tuple[Step, ...]


@dataclass(frozen=True, slots=True)
class Figure:
    """A label and its value (a fact in the header, or a total)."""

    label: str
    value: str
    strong: bool = False


@dataclass(frozen=True, slots=True)
class Document:
    """An invoice or credit note, every figure spelled; nothing left to compute."""

    kind: str
    title: str
    heading: str
    stamp: str | None
    language: str
    direction: str
    seller: str
    customer: str
    customer_lines: tuple[str, ...]
    facts: tuple[Figure, ...]
    currency: str
    rows: tuple[Row, ...]
    totals: tuple[Figure, ...]
    notes: tuple[str, ...]
    created: datetime
    modified: datetime | None


def invoice_document(sheet: InvoiceSheet) -> Document:
    """The invoice of ``sheet`` as a document in its customer's locale."""
    invoice, customer = sheet.invoice, sheet.customer
    spell = Spelling(customer.locale, invoice.currency)
    zone = customer.zone
    facts = [
        Figure("Invoice number", invoice.number or "none yet (draft)"),
        Figure("Issued", spell.instant(invoice.issued_at, zone)),
        Figure("Period", period_text(invoice.period, spell, zone)),
    ]
    if invoice.finalized_at is not None:
        facts.append(Figure("Finalized", spell.instant(invoice.finalized_at, zone)))
    if invoice.paid_at is not None:
        facts.append(Figure("Paid", spell.instant(invoice.paid_at, zone)))
    if invoice.voided_at is not None:
        facts.append(Figure("Void since", spell.instant(invoice.voided_at, zone)))
    if invoice.status == "draft":
        facts.append(Figure("Draft until", spell.instant(invoice.grace_until, zone)))
    computed = invoice.totals
    totals = [
        Figure("Subtotal", spell.money(computed.subtotal)),
        Figure(f"Tax ({spell.percent(invoice.tax_rate)})", spell.money(computed.tax)),
        Figure("Total", spell.money(computed.total), strong=True),
    ]
    for note in sheet.credit_notes:
        totals.append(Figure(f"Credit note {note.number}", spell.money(-note.totals.total)))
    totals.append(Figure("Amount due", spell.money(invoice.amount_due), strong=True))
    notes = [f"Credit note {note.number}: {note.reason}" for note in sheet.credit_notes]
    changes = (invoice.paid_at, invoice.voided_at, *(n.issued_at for n in sheet.credit_notes))
    modified = [moment for moment in changes if moment is not None]
    return Document(
        kind="Invoice",
        title=f"Invoice {invoice.number}" if invoice.number else f"Draft invoice {invoice.id}",
        heading=invoice.number or "Draft: numbered when finalized",
        stamp=_stamp(invoice),
        language=str(spell.locale),
        direction="rtl" if spell.locale.character_order == "right-to-left" else "ltr",
        seller=sheet.seller.name,
        customer=customer.name,
        customer_lines=_customer_lines(customer.billing_address, customer.id),
        facts=tuple(facts),
        currency=invoice.currency.code,
        rows=tuple(_row(line, spell) for line in invoice.lines),
        totals=tuple(totals),
        notes=(*notes, _rounding_note(invoice.currency.code, invoice.currency.minor_units)),
        created=invoice.finalized_at or invoice.issued_at,
        modified=max(modified) if modified else None,
    )


def credit_note_document(sheet: CreditNoteSheet) -> Document:
    """The credit note of ``sheet`` as a document in its customer's locale."""
    note, invoice, customer = sheet.credit_note, sheet.invoice, sheet.customer
    spell = Spelling(customer.locale, note.currency)
    zone = customer.zone
    computed = note.totals
    return Document(
        kind="Credit note",
        title=f"Credit note {note.number}",
        heading=note.number,
        stamp=None,
        language=str(spell.locale),
        direction="rtl" if spell.locale.character_order == "right-to-left" else "ltr",
        seller=sheet.seller.name,
        customer=customer.name,
        customer_lines=_customer_lines(customer.billing_address, customer.id),
        facts=(
            Figure("Credit note number", note.number),
            Figure("Issued", spell.instant(note.issued_at, zone)),
            Figure("Credits invoice", invoice.number or invoice.id),
            Figure("Invoice period", period_text(invoice.period, spell, zone)),
            Figure("Reason", note.reason),
        ),
        currency=note.currency.code,
        rows=tuple(_row(line, spell) for line in note.lines),
        totals=(
            Figure("Subtotal", spell.money(computed.subtotal)),
            Figure(f"Tax ({spell.percent(note.tax_rate)})", spell.money(computed.tax)),
            Figure("Total credited", spell.money(computed.total), strong=True),
        ),
        notes=(_rounding_note(note.currency.code, note.currency.minor_units),),
        created=note.issued_at,
        modified=None,
    )


def period_text(period: Period, spell: Spelling, zone: ZoneInfo) -> str:
    """``[start, end)`` as its first and last day: ``Jan 1, 2026 – Jan 31, 2026``.

    An end at local midnight is shown as the day before (the last day billed);
    an end at another time is shown as that instant.
    """
    start = spell.instant(period.start, zone)
    end_local = period.end.astimezone(zone)
    if end_local.timetz().replace(tzinfo=None) == time(0):
        end = spell.date((end_local - timedelta(days=1)).date())
    else:
        end = spell.instant(period.end, zone)
    return f"{start} – {end}"


def step_text(detail: Detail, spell: Spelling) -> str:
    """What one step of a charge's arithmetic did, in words and exact figures.

    >>> from iotbill.domain.money import currency
    >>> spell = Spelling("en_US", currency("USD"))
    >>> step_text(Detail("tier", Decimal("7.5"), units=Decimal(3), unit_price=Decimal("2.5"),
    ...     tier=2, lower=Decimal(10), up_to=None, flat_fee=Decimal(0)), spell)
    'Tier 2 (above 10): 3 × $2.50'
    """
    if detail.kind == "tier":
        band = (
            f"above {spell.number(detail.lower or Decimal(0))}"
            if detail.up_to is None
            else f"{spell.number(detail.lower or Decimal(0))} to {spell.number(detail.up_to)}"
        )
        text = f"Tier {detail.tier} ({band})"
    else:
        text = _STEP_NAMES.get(detail.kind, detail.kind.replace("_", " ").capitalize())
    if detail.rate is not None:
        base = "" if detail.units is None else f" of {spell.exact_money(detail.units)}"
        text += f": {spell.percent(detail.rate)}{base}"
    elif detail.units is not None and detail.unit_price is not None:
        text += f": {spell.number(detail.units)} × {spell.exact_money(detail.unit_price)}"
    elif detail.units is not None:
        unit = " seconds" if detail.kind == "proration" else ""
        text += f": {spell.number(detail.units)}{unit}"
    elif detail.factor is not None:
        text += f": × {spell.number(detail.factor)}"
    if detail.flat_fee:
        text += f" + {spell.exact_money(detail.flat_fee)}"
    if detail.note:
        text += f" ({detail.note})"
    return text


def _row(line: InvoiceLine, spell: Spelling) -> Row:
    description = line.description if line.group is None else f"{line.description} – {line.group}"
    return Row(
        description=description,
        quantity=spell.number(line.quantity),
        unit_price="" if line.unit_price is None else spell.exact_money(line.unit_price),
        amount=spell.money(line.amount),
        steps=tuple(
            Step(step_text(detail, spell), spell.exact_money(detail.amount))
            for detail in line.detail
        ),
    )


def _customer_lines(address: str, id: str) -> tuple[str, ...]:
    lines = [part.strip() for part in address.replace("\n", ",").split(",") if part.strip()]
    return (*lines, f"Customer {id}")


def _stamp(invoice: Invoice) -> str | None:
    return {"draft": "Draft", "paid": "Paid", "void": "Void"}.get(invoice.status)


def _rounding_note(code: str, digits: int) -> str:
    unit = "whole units" if digits == 0 else f"{digits} decimals"
    return (
        f"Amounts in {code}. Each line is rounded once, half up, to {unit}; the steps"
        " beneath a line are exact, and the subtotal is the sum of the rounded lines."
    )
