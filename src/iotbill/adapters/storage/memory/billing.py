"""Invoices, credit notes, credits, one-off charges and coupons, in memory."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from iotbill.adapters.storage.memory.base import _add, _get, _paged, _Repository
from iotbill.domain.analytics import (
    InvoiceFigures,
    RevenueSum,
    Standing,
    invoice_standing,
    revenue_sums,
)
from iotbill.domain.balance_alerts import BalanceAlert
from iotbill.domain.coupons import Coupon, Redemption
from iotbill.domain.credits import CreditGrant, LedgerEntry
from iotbill.domain.errors import Conflict, NotFound
from iotbill.domain.invoices import CreditNote, Invoice, InvoiceStatus, InvoiceSummary
from iotbill.domain.one_off_charges import OneOffCharge
from iotbill.domain.payments import Notice, Payment, notice_order
from iotbill.domain.periods import require_aware
from iotbill.services.ports import Paging


class MemoryInvoiceRepository(_Repository):
    def hold(self) -> None:
        """Nothing to hold: one process (see :meth:`MemoryDeviceRepository.hold`)."""

    def add(self, invoice: Invoice) -> None:
        _get(self._data().customers, invoice.customer_id, "customer")
        _add(self._data().invoices, invoice.id, invoice, "invoice")

    def add_many(self, invoices: Sequence[Invoice]) -> None:
        data = self._data()
        for invoice in invoices:
            _get(data.customers, invoice.customer_id, "customer")
        ids = set(data.invoices)
        numbers = {invoice.number for invoice in data.invoices.values()}
        for invoice in invoices:
            if invoice.id in ids:
                raise Conflict(f"invoice {invoice.id!r} already exists")
            if invoice.number is not None and invoice.number in numbers:
                raise Conflict(f"invoice number {invoice.number!r} is already taken")
            ids.add(invoice.id)
            numbers.add(invoice.number)
        data.invoices.update((invoice.id, invoice) for invoice in invoices)

    def save(self, invoice: Invoice) -> None:
        stored = _get(self._data().invoices, invoice.id, "invoice")
        if stored.status != "draft":  # a finalized invoice's lines never change
            invoice = replace(invoice, lines=stored.lines)
        self._data().invoices[invoice.id] = invoice

    def replace_drafts(self, invoices: Sequence[Invoice]) -> None:
        stored = self._data().invoices
        for invoice in invoices:
            found = _get(stored, invoice.id, "invoice")
            if found.status != "draft":
                raise Conflict(f"invoice {found.number or found.id} is {found.status}, not a draft")
        stored.update((invoice.id, invoice) for invoice in invoices)

    def get(self, id: str) -> Invoice:
        return _get(self._data().invoices, id, "invoice")

    def find(self, ids: Sequence[str]) -> dict[str, Invoice]:
        invoices = self._data().invoices
        return {id: invoices[id] for id in set(ids) if id in invoices}

    def summaries(self, subscriptions: Sequence[str]) -> list[InvoiceSummary]:
        chosen = set(subscriptions)
        found = [
            invoice.summary()
            for invoice in self._data().invoices.values()
            if invoice.subscription_id in chosen
        ]
        return sorted(found, key=lambda summary: (summary.period.start, summary.id))

    def revenue_sums(self) -> list[RevenueSum]:
        data = self._data()
        notes: dict[str, builtins.list[CreditNote]] = {}
        for note in data.credit_notes.values():
            notes.setdefault(note.invoice_id, []).append(note)
        return revenue_sums(
            (InvoiceFigures.of(invoice) for invoice in data.invoices.values()),
            notes,
            {customer.id: customer.timezone for customer in data.customers.values()},
            data.subscriptions,
        )

    def standing(self, at: datetime) -> builtins.list[Standing]:
        figures = (InvoiceFigures.of(invoice) for invoice in self._data().invoices.values())
        return invoice_standing(figures, require_aware(at, "at"))

    def get_by_number(self, number: str) -> Invoice:
        for invoice in self._data().invoices.values():
            if invoice.number == number:
                return invoice
        raise NotFound(f"no invoice is numbered {number!r}")

    def list(
        self,
        *,
        customer: str | None = None,
        subscription: str | None = None,
        status: InvoiceStatus | None = None,
        paging: Paging[tuple[datetime, str]] | None = None,
    ) -> list[Invoice]:
        chosen = [
            invoice
            for invoice in self._data().invoices.values()
            if (customer is None or invoice.customer_id == customer)
            and (subscription is None or invoice.subscription_id == subscription)
            and (status is None or invoice.status == status)
        ]
        chosen.sort(key=_period_then_id)
        return _paged(chosen, _period_then_id, paging)

    def add_payment(self, payment: Payment) -> None:
        _get(self._data().invoices, payment.invoice_id, "invoice")
        self._data().payments.append(payment)

    def payments(self, invoice: str) -> builtins.list[Payment]:
        return [payment for payment in self._data().payments if payment.invoice_id == invoice]

    def add_notices(self, notices: Sequence[Notice]) -> None:
        stored = self._data().notices
        for notice in notices:
            _get(self._data().invoices, notice.invoice_id, "invoice")
            key = (notice.invoice_id, notice.kind)
            if key in stored:
                raise Conflict(f"invoice {notice.invoice_id!r} has a {notice.kind} notice already")
            stored[key] = notice

    def notices(self, invoice: str | None = None) -> builtins.list[Notice]:
        chosen = [
            notice
            for notice in self._data().notices.values()
            if invoice is None or notice.invoice_id == invoice
        ]
        return sorted(chosen, key=notice_order)

    def finalized_between(self, start: datetime, end: datetime) -> builtins.list[Invoice]:
        chosen = [
            invoice
            for invoice in self._data().invoices.values()
            if invoice.finalized_at is not None and start <= invoice.finalized_at < end
        ]
        return sorted(chosen, key=lambda invoice: invoice.number or "")

    def latest_finalization(self, series: str) -> datetime | None:
        return max(
            (
                invoice.finalized_at
                for invoice in self._data().invoices.values()
                if invoice.finalized_at is not None
                and (invoice.number or "").startswith(f"{series}-")
            ),
            default=None,
        )

    def next_number(self, series: str) -> int:
        return self.next_numbers(series, 1)[0]

    def next_numbers(self, series: str, count: int) -> range:
        if count < 1:
            raise ValueError(f"count must be at least 1, not {count}")
        sequences = self._data().sequences
        first = sequences.get(series, 0) + 1
        sequences[series] = first + count - 1
        return range(first, first + count)


class MemoryCreditNoteRepository(_Repository):
    def add(self, note: CreditNote) -> None:
        _get(self._data().invoices, note.invoice_id, "invoice")
        _add(self._data().credit_notes, note.id, note, "credit note")

    def get(self, id: str) -> CreditNote:
        return _get(self._data().credit_notes, id, "credit note")

    def list(self, invoice: str | None = None) -> list[CreditNote]:
        chosen = [
            note
            for note in self._data().credit_notes.values()
            if invoice is None or note.invoice_id == invoice
        ]
        return sorted(chosen, key=lambda note: (note.issued_at, note.id))


class MemoryCreditRepository(_Repository):
    def add_grant(self, grant: CreditGrant) -> None:
        _get(self._data().customers, grant.customer_id, "customer")
        _add(self._data().grants, grant.id, grant, "credit grant")

    def grants(self, customers: Sequence[str] | None = None) -> list[CreditGrant]:
        chosen = None if customers is None else set(customers)
        found = [
            grant
            for grant in self._data().grants.values()
            if chosen is None or grant.customer_id in chosen
        ]
        return sorted(found, key=lambda grant: (grant.customer_id, grant.granted_at, grant.id))

    def add_entries(self, entries: Sequence[LedgerEntry]) -> None:
        ledger = self._data().ledger
        taken = [entry.id for entry in entries if entry.id in ledger]
        if taken or len({entry.id for entry in entries}) < len(entries):
            raise Conflict("a ledger entry of these is recorded already")
        ledger.update((entry.id, entry) for entry in entries)

    def entries(self, customers: Sequence[str] | None = None) -> list[LedgerEntry]:
        chosen = None if customers is None else set(customers)
        found = [
            entry
            for entry in self._data().ledger.values()
            if chosen is None or entry.customer_id in chosen
        ]
        return sorted(found, key=lambda entry: (entry.at, entry.id))

    def set_thresholds(self, customer: str, thresholds: Sequence[Decimal]) -> None:
        _get(self._data().customers, customer, "customer")
        if thresholds:
            self._data().thresholds[customer] = tuple(sorted(thresholds, reverse=True))
        else:
            self._data().thresholds.pop(customer, None)

    def thresholds(self, customers: Sequence[str]) -> dict[str, tuple[Decimal, ...]]:
        kept = self._data().thresholds
        return {customer: kept[customer] for customer in customers if customer in kept}

    def add_alerts(self, alerts: Sequence[BalanceAlert]) -> None:
        recorded = self._data().alerts
        if any(alert.id in recorded for alert in alerts) or len({a.id for a in alerts}) < len(
            alerts
        ):
            raise Conflict("a balance alert of these is recorded already")
        recorded.update((alert.id, alert) for alert in alerts)

    def alerts(self, customers: Sequence[str] | None = None) -> list[BalanceAlert]:
        chosen = None if customers is None else set(customers)
        found = [
            alert
            for alert in self._data().alerts.values()
            if chosen is None or alert.customer_id in chosen
        ]
        return sorted(found, key=lambda alert: (alert.at, alert.id))


class MemoryOneOffChargeRepository(_Repository):
    def add(self, charge: OneOffCharge) -> None:
        _get(self._data().customers, charge.customer_id, "customer")
        _add(self._data().one_off_charges, charge.id, charge, "one-off charge")

    def add_many(self, charges: Sequence[OneOffCharge]) -> None:
        for charge in charges:
            self.add(charge)

    def list(self, customer: str | None = None) -> list[OneOffCharge]:
        found = [
            charge
            for charge in self._data().one_off_charges.values()
            if customer is None or charge.customer_id == customer
        ]
        return sorted(found, key=lambda charge: (charge.recorded_at, charge.id))

    def pending(self, customers: Sequence[str]) -> builtins.list[OneOffCharge]:
        chosen = set(customers)
        found = [
            charge
            for charge in self._data().one_off_charges.values()
            if charge.customer_id in chosen and charge.invoice_id is None
        ]
        return sorted(found, key=lambda charge: (charge.recorded_at, charge.id))

    def mark_billed(self, charges: Sequence[OneOffCharge]) -> None:
        stored = self._data().one_off_charges
        lost = [c.id for c in charges if c.id not in stored or stored[c.id].invoice_id is not None]
        if lost:
            raise Conflict(f"one-off charges billed or withdrawn meanwhile: {', '.join(lost)}")
        for charge in charges:
            stored[charge.id] = charge

    def withdraw(self, id: str) -> None:
        stored = self._data().one_off_charges
        if _get(stored, id, "one-off charge").invoice_id is not None:
            raise Conflict(f"one-off charge {id!r} is billed already")
        del stored[id]


class MemoryCouponRepository(_Repository):
    def add(self, coupon: Coupon) -> None:
        _add(self._data().coupons, coupon.code, coupon, "coupon")

    def get(self, code: str) -> Coupon:
        return _get(self._data().coupons, code, "coupon")

    def list(self) -> list[Coupon]:
        return sorted(self._data().coupons.values(), key=lambda coupon: coupon.code)

    def redeem(self, redemption: Redemption) -> None:
        _get(self._data().coupons, redemption.coupon, "coupon")
        _get(self._data().subscriptions, redemption.subscription_id, "subscription")
        _add(self._data().redemptions, redemption.id, redemption, "redemption")

    def redemptions(
        self, *, coupon: str | None = None, subscriptions: Sequence[str] | None = None
    ) -> builtins.list[Redemption]:
        chosen = None if subscriptions is None else set(subscriptions)
        found = [
            redemption
            for redemption in self._data().redemptions.values()
            if (coupon is None or redemption.coupon == coupon)
            and (chosen is None or redemption.subscription_id in chosen)
        ]
        return sorted(found, key=lambda redemption: (redemption.redeemed_at, redemption.id))


def _period_then_id(invoice: Invoice) -> tuple[datetime, str]:
    """The order of a list of invoices: by period start, then id."""
    return (invoice.period.start, invoice.id)
