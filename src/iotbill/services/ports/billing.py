"""The ports of billing: invoices, credit notes, credits, one-off charges and coupons."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from iotbill.domain.analytics import RevenueSum, Standing
from iotbill.domain.balance_alerts import BalanceAlert
from iotbill.domain.coupons import Coupon, Redemption
from iotbill.domain.credits import CreditGrant, LedgerEntry
from iotbill.domain.invoices import CreditNote, Invoice, InvoiceStatus, InvoiceSummary
from iotbill.domain.one_off_charges import OneOffCharge
from iotbill.domain.payments import Notice, Payment
from iotbill.services.ports.values import Paging


class InvoiceRepository(Protocol):
    """Invoices with their lines; numbers are unique per tenant."""

    def add(self, invoice: Invoice) -> None: ...

    def hold(self) -> None:
        """Hold the tenant's bill run until this unit of work ends, so that two bill runs
        at once take turns, a batch at a time: the later reads what the earlier wrote,
        and issues nothing twice. A store whose writing transactions take turns anyway
        has nothing to do."""
        ...

    def add_many(self, invoices: Sequence[Invoice]) -> None:
        """Store new invoices, drafts or finalized, with their lines.

        :class:`Conflict` if an id or a number is taken (then roll the unit of
        work back: some of the others may be stored); :class:`NotFound` for an
        unknown customer, before anything is written.
        """
        ...

    def save(self, invoice: Invoice) -> None:
        """Replace a stored invoice by id (a revised draft, or a new status)."""
        ...

    def replace_drafts(self, invoices: Sequence[Invoice]) -> None:
        """Replace stored drafts by id (revised, or finalized), with their lines.

        :class:`NotFound` for an unknown id and :class:`Conflict` for an invoice
        that is no longer a draft (another transaction finalized or voided it),
        checked before anything is written; on PostgreSQL the drafts stay
        locked until the transaction ends.
        """
        ...

    def get(self, id: str) -> Invoice: ...

    def find(self, ids: Sequence[str]) -> dict[str, Invoice]:
        """The invoices among ``ids`` that exist (unknown ids are left out)."""
        ...

    def summaries(self, subscriptions: Sequence[str]) -> list[InvoiceSummary]:
        """The invoices of ``subscriptions`` without their lines, by period start, then id."""
        ...

    def revenue_sums(self) -> list[RevenueSum]:
        """The tenant's net revenue summed as :func:`iotbill.domain.analytics.revenue_sums`
        sums it (a store sums its stored totals and credit notes, building no invoice), in
        no particular order."""
        ...

    def standing(self, at: datetime) -> list[Standing]:
        """The invoices paid, due and overdue at ``at`` (aware) per currency, as
        :func:`iotbill.domain.analytics.invoice_standing` counts and sums them, in its
        order."""
        ...

    def finalized_between(self, start: datetime, end: datetime) -> list[Invoice]:
        """The invoices finalized in ``[start, end)`` (whatever their status now), by number."""
        ...

    def latest_finalization(self, series: str) -> datetime | None:
        """When the last invoice of number series ``series`` (``INV-2026``) was finalized;
        ``None`` if none was."""
        ...

    def get_by_number(self, number: str) -> Invoice: ...

    def list(
        self,
        *,
        customer: str | None = None,
        subscription: str | None = None,
        status: InvoiceStatus | None = None,
        paging: Paging[tuple[datetime, str]] | None = None,
    ) -> list[Invoice]:
        """Matching invoices, by period start, then id (the page of them after ``paging``'s
        period start and id)."""
        ...

    def add_payment(self, payment: Payment) -> None:
        """Record a payment of a stored invoice (store the invoice's new payments too)."""
        ...

    def payments(self, invoice: str) -> builtins.list[Payment]:
        """The payments of the invoice with id ``invoice``, in the order received."""
        ...

    def add_notices(self, notices: Sequence[Notice]) -> None:
        """Record notices of stored invoices; :class:`Conflict` for a kind an invoice has."""
        ...

    def notices(self, invoice: str | None = None) -> builtins.list[Notice]:
        """The notices (of the invoice with id ``invoice``), in the order recorded."""
        ...

    def next_number(self, series: str) -> int:
        """The next number of ``series`` (1, 2, ...): gap-free, since it rolls back with the
        transaction that took it, and serialised between concurrent transactions."""
        ...

    def next_numbers(self, series: str, count: int) -> range:
        """The next ``count`` numbers of ``series`` (``count`` at least 1), taken at once
        and kept as :meth:`next_number` keeps one."""
        ...


class CreditNoteRepository(Protocol):
    def add(self, note: CreditNote) -> None: ...

    def get(self, id: str) -> CreditNote: ...

    def list(self, invoice: str | None = None) -> list[CreditNote]: ...


class CreditRepository(Protocol):
    """Credit grants and the double-entry ledger: rows are added, never changed."""

    def add_grant(self, grant: CreditGrant) -> None:
        """Store a grant; :class:`Conflict` if its id is taken, :class:`NotFound` for an
        unknown customer."""
        ...

    def grants(self, customers: Sequence[str] | None = None) -> list[CreditGrant]:
        """The grants (of ``customers``), by customer, grant time, then id."""
        ...

    def add_entries(self, entries: Sequence[LedgerEntry]) -> None:
        """Record ledger entries; :class:`Conflict` if an id is taken (roll back then)."""
        ...

    def entries(self, customers: Sequence[str] | None = None) -> list[LedgerEntry]:
        """The ledger entries (of ``customers``), by time, then id."""
        ...

    def set_thresholds(self, customer: str, thresholds: Sequence[Decimal]) -> None:
        """Replace the balance-alert thresholds of ``customer``; :class:`NotFound` for an
        unknown customer."""
        ...

    def thresholds(self, customers: Sequence[str]) -> dict[str, tuple[Decimal, ...]]:
        """The thresholds of those of ``customers`` that have some, highest first."""
        ...

    def add_alerts(self, alerts: Sequence[BalanceAlert]) -> None:
        """Record balance alerts; :class:`Conflict` if an id is taken (roll back then)."""
        ...

    def alerts(self, customers: Sequence[str] | None = None) -> list[BalanceAlert]:
        """The balance alerts (of ``customers``), by time, then id."""
        ...


class OneOffChargeRepository(Protocol):
    """Customers' one-off charges: added, then marked once with the invoice that bills them."""

    def add(self, charge: OneOffCharge) -> None:
        """Store a charge; :class:`Conflict` if its id is taken, :class:`NotFound` for an
        unknown customer."""
        ...

    def add_many(self, charges: Sequence[OneOffCharge]) -> None:
        """Store charges at once (the owners' credits of a data export); :class:`Conflict`
        if an id is taken, :class:`NotFound` for an unknown customer (then roll back)."""
        ...

    def list(self, customer: str | None = None) -> list[OneOffCharge]:
        """The charges (of ``customer``), by recording time, then id."""
        ...

    def pending(self, customers: Sequence[str]) -> builtins.list[OneOffCharge]:
        """The charges of ``customers`` that no invoice bills yet, by recording time, then id."""
        ...

    def mark_billed(self, charges: Sequence[OneOffCharge]) -> None:
        """Record the invoice of each of ``charges`` (their ``invoice_id``), each only while
        no invoice bills it; :class:`Conflict` naming those billed or withdrawn since they
        were read (the caller's transaction then rolls back: their invoice bills them)."""
        ...

    def withdraw(self, id: str) -> None:
        """Remove the charge ``id`` before any invoice bills it (a cancelled order's);
        :class:`NotFound` if it is unknown, :class:`Conflict` if an invoice billed it."""
        ...


class CouponRepository(Protocol):
    """Coupons and their redemptions: rows are added, never changed."""

    def add(self, coupon: Coupon) -> None:
        """Store a coupon; :class:`Conflict` if its code is taken."""
        ...

    def get(self, code: str) -> Coupon:
        """The coupon ``code``; :class:`NotFound` if there is none."""
        ...

    def list(self) -> list[Coupon]:
        """Every coupon, by code."""
        ...

    def redeem(self, redemption: Redemption) -> None:
        """Store a redemption; :class:`Conflict` if its id is taken, :class:`NotFound` for an
        unknown coupon or subscription."""
        ...

    def redemptions(
        self, *, coupon: str | None = None, subscriptions: Sequence[str] | None = None
    ) -> builtins.list[Redemption]:
        """The redemptions (of ``coupon``, on ``subscriptions``), by instant, then id."""
        ...
