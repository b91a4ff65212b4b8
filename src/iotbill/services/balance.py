"""A customer's balance: grant and buy credits, use them on invoices, write off expired ones.

The rules are the domain's (:mod:`iotbill.domain.credits`); this module stores
grants and ledger entries. :class:`Balances` is what finalizing invoices uses:
the grants and ledger of some customers, read once, used invoice by invoice in
the order the invoices are finalized, and the entries to record. The bill run
and ``invoices finalize`` both finalize through it, so credit is used exactly
once: the entries and the invoice are written in the same transaction, and an
entry's id (``{grant}/used/{invoice}``) is unique.

A *purchased* credit is billed as a one-off charge of kind ``credit_purchase``
on the customer's next invoice (:mod:`iotbill.services.one_off_charges`),
untaxed; the credit is usable at once, though never on the line that sells it.
Each function is one unit of work: it enters the ``uow`` it is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from iotbill.domain.balance_alerts import BalanceAlert, crossings, thresholds_from
from iotbill.domain.credits import (
    CREDIT_TIMINGS,
    CreditGrant,
    LedgerEntry,
    credits_account,
    expiry_entry,
    grant_entry,
    remaining,
    use_credits,
    use_entries,
)
from iotbill.domain.errors import InvalidInput
from iotbill.domain.invoices import Invoice, InvoiceSummary
from iotbill.domain.invoicing import InvoiceLine, untaxed
from iotbill.domain.money import Currency
from iotbill.domain.one_off_charges import OneOffCharge, next_charge_id
from iotbill.domain.periods import require_aware
from iotbill.services.ports import Tenant, UnitOfWork
from iotbill.services.webhooks import emit_many


class Balances:
    """The credits of some customers, read once in a unit of work, used invoice by invoice."""

    def __init__(self, uow: UnitOfWork, customers: Sequence[str]) -> None:
        self._uow = uow
        self.before_tax = uow.tenants.get(uow.tenant).credits == "before_tax"
        self.grants = {grant.id: grant for grant in uow.credits.grants(customers)}
        entries = uow.credits.entries(customers)
        self._left = {grant.id: remaining(grant, entries) for grant in self.grants.values()}
        self.added: list[LedgerEntry] = []
        self.new_grants: list[CreditGrant] = []

    def apply(self, invoice: Invoice) -> Invoice:
        """The finalized ``invoice`` with the customer's usable credit applied, the ledger
        entries noted: to what is due after tax (``balance_applied``), or, when the tenant
        uses credits before tax, to the subtotal, as a line that lowers the taxed amount."""
        if invoice.status != "finalized" or invoice.amount_due <= 0:
            return invoice
        assert invoice.finalized_at is not None and invoice.number is not None
        mine = [
            (grant, self._left[grant.id])
            for grant in self.grants.values()
            if grant.customer_id == invoice.customer_id
        ]
        usable = (invoice.subtotal if self.before_tax else invoice.amount_due) - untaxed(
            invoice.lines
        )  # credit never pays for its own purchase
        if usable <= 0:
            return invoice
        uses = use_credits(mine, usable, at=invoice.finalized_at)
        if not uses:
            return invoice
        for use in uses:
            self._left[use.grant_id] -= use.amount
        self.added.extend(
            use_entries(
                invoice.customer_id,
                uses,
                invoice=invoice.id,
                number=invoice.number,
                at=invoice.finalized_at,
            )
        )
        used = sum((use.amount for use in uses), Decimal(0))
        if self.before_tax:
            applied = replace(invoice, lines=(*invoice.lines, credits_used_line(invoice, used)))
        else:
            applied = replace(invoice, balance_applied=invoice.balance_applied + used)
        if applied.amount_due > 0:
            return applied
        return replace(applied, status="paid", paid_at=invoice.finalized_at)

    def carried(self, invoice_id: str) -> bool:
        """Whether the credit of invoice ``invoice_id`` is on the balance already."""
        return f"{invoice_id}/carried" in self.grants

    def carry(self, last: InvoiceSummary, invoice: Invoice, at: datetime) -> None:
        """Put the credit of an ended subscription's last invoice, negative, on its
        customer's balance (once: the grant's id is the invoice's)."""
        grant_id = f"{last.id}/carried"
        if grant_id in self.grants or invoice.total >= 0:
            return
        grant = CreditGrant(
            id=grant_id,
            customer_id=invoice.customer_id,
            kind="carried",
            amount=-invoice.total,
            currency=invoice.currency,
            granted_at=at,
            description=f"Credit of {invoice.number}, whose subscription has ended",
        )
        self.grants[grant.id] = grant
        self._left[grant.id] = grant.amount
        self.new_grants.append(grant)
        self.added.append(grant_entry(grant))

    def write(self) -> None:
        """Store the grants and entries noted (in the caller's transaction)."""
        for grant in self.new_grants:
            self._uow.credits.add_grant(grant)
        self._uow.credits.add_entries(self.added)
        record_alerts(self._uow, self.added)
        self.new_grants, self.added = [], []


def credits_used_line(invoice: Invoice, used: Decimal) -> InvoiceLine:
    """The line of the credits an invoice uses before tax: ``-used``, taxed with the rest."""
    return InvoiceLine.rounded(
        invoice.currency,
        charge="prepaid_credit",
        kind="adjustment",
        description="Credits used from the balance (before tax)",
        quantity=Decimal(1),
        unit_price=None,
        exact_amount=-used,
    )


def set_credit_timing(uow: UnitOfWork, timing: str) -> Tenant:
    """Choose when the unit of work's tenant uses customers' credits: ``after_tax`` (the
    default) or ``before_tax``; :class:`InvalidInput` at ``credits`` for anything else."""
    if timing not in CREDIT_TIMINGS:
        raise InvalidInput.at(
            "credits", f"must be one of {', '.join(CREDIT_TIMINGS)}, not {timing!r}"
        )
    with uow:
        tenant = replace(uow.tenants.get(uow.tenant), credits=timing)
        uow.tenants.save(tenant)
        uow.commit()
    return tenant


def grant_credit(
    uow: UnitOfWork,
    *,
    customer: str,
    amount: str | Decimal,
    at: datetime,
    purchased: bool = False,
    expires_at: datetime | None = None,
    priority: int = 0,
    description: str = "",
) -> tuple[CreditGrant, OneOffCharge | None]:
    """Add a credit to ``customer``'s balance at ``at``: free, or purchased (then billed,
    untaxed, as a one-off charge on the customer's next invoice: the charge is returned).
    Every problem is reported at once, each at its field; nothing is stored then."""
    with uow:
        found = uow.customers.get(customer)
        number = len(uow.credits.grants([customer])) + 1
        grant = CreditGrant.create(
            id=f"{customer}/credit/{number}",
            customer_id=customer,
            kind="purchased" if purchased else "granted",
            amount=amount,
            currency=found.currency,
            granted_at=at,
            expires_at=expires_at,
            priority=priority,
            description=description,
        )
        charge = None
        if purchased:
            charge = OneOffCharge.create(
                id=next_charge_id(customer, uow.one_off_charges.list(customer)),
                customer_id=customer,
                description=description or "Prepaid credit",
                unit_price=grant.amount,
                quantity=Decimal(1),
                currency=found.currency,
                recorded_at=at,
                kind="credit_purchase",
            )
            uow.one_off_charges.add(charge)
        uow.credits.add_grant(grant)
        uow.credits.add_entries([grant_entry(grant)])
        uow.commit()
    return grant, charge


def list_credits(uow: UnitOfWork, customer: str | None = None) -> list[tuple[CreditGrant, Decimal]]:
    """The grants (of ``customer``) with what is left of each."""
    with uow:
        if customer is not None:
            uow.customers.get(customer)
        chosen = None if customer is None else [customer]
        entries = uow.credits.entries(chosen)
        return [(grant, remaining(grant, entries)) for grant in uow.credits.grants(chosen)]


def credit_history(uow: UnitOfWork, customer: str) -> list[LedgerEntry]:
    """The ledger entries of ``customer``, by time."""
    with uow:
        uow.customers.get(customer)
        return uow.credits.entries([customer])


def customer_balance(uow: UnitOfWork, customer: str) -> Decimal:
    """What ``customer`` has in credits: its credits account in the ledger."""
    with uow:
        return balance_of(uow.credits.entries([customer]), customer)


def balance_of(entries: Sequence[LedgerEntry], customer: str) -> Decimal:
    """The balance of ``customer``'s credits account in ``entries``."""
    account = credits_account(customer)
    return sum((e.amount for e in entries if e.credit == account), Decimal(0)) - sum(
        (e.amount for e in entries if e.debit == account), Decimal(0)
    )


def expire_credits(uow: UnitOfWork, *, at: datetime) -> list[LedgerEntry]:
    """Write off what is left of every grant expired by ``at`` (once each); the entries."""
    at = require_aware(at, "at")
    with uow:
        entries = uow.credits.entries()
        done = {entry.id for entry in entries}
        written = [
            entry
            for grant in uow.credits.grants()
            if grant.expires_at is not None and grant.expires_at <= at
            if (entry := expiry_entry(grant, remaining(grant, entries))) is not None
            and entry.id not in done
        ]
        if written:  # a run with nothing to write off commits nothing
            uow.credits.add_entries(written)
            record_alerts(uow, written)
            uow.commit()
    return written


def set_alert_thresholds(
    uow: UnitOfWork, customer: str, amounts: Sequence[str]
) -> tuple[Decimal, ...]:
    """Set the amounts below which ``customer``'s credits raise an alert (none: no alerts).
    Every problem is reported at once, at ``thresholds[i]``; nothing is stored then."""
    with uow:
        found = uow.customers.get(customer)
        thresholds = thresholds_from(amounts, found.currency)
        uow.credits.set_thresholds(customer, thresholds)
        uow.commit()
    return thresholds


def list_alerts(
    uow: UnitOfWork, customer: str | None = None
) -> list[tuple[BalanceAlert, Currency]]:
    """The balance alerts recorded (of ``customer``), oldest first, with their currency."""
    with uow:
        chosen = None if customer is None else [customer]
        if customer is not None:
            uow.customers.get(customer)
        alerts = uow.credits.alerts(chosen)
        customers = uow.customers.find(sorted({alert.customer_id for alert in alerts}))
    return [(alert, customers[alert.customer_id].currency) for alert in alerts]


def record_alerts(uow: UnitOfWork, entries: Sequence[LedgerEntry]) -> list[BalanceAlert]:
    """Record the crossings of their customers' thresholds that ``entries``, just added to
    the ledger, made (each once), and queue a ``credits.balance_threshold_crossed``
    message for each, in the caller's transaction."""
    thresholds = uow.credits.thresholds(sorted({entry.customer_id for entry in entries}))
    if not thresholds:
        return []
    chosen = sorted(thresholds)
    new = {entry.id for entry in entries}
    recorded = {alert.id for alert in uow.credits.alerts(chosen)}
    ledger = uow.credits.entries(chosen)
    alerts = [
        alert
        for customer, amounts in thresholds.items()
        for alert in crossings(customer, amounts, [e for e in ledger if e.customer_id == customer])
        if alert.entry_id in new and alert.id not in recorded
    ]
    uow.credits.add_alerts(alerts)
    customers = uow.customers.find(chosen)
    emit_many(
        uow,
        "credits.balance_threshold_crossed",
        [
            (alert.id, alert.as_json(customers[alert.customer_id].currency), alert.at)
            for alert in alerts
        ],
    )
    return alerts
