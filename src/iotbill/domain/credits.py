"""A customer's balance: prepaid and granted credits, used by invoices, kept in a ledger.

A :class:`CreditGrant` adds money to a customer's balance: ``granted`` (free,
e.g. a goodwill or launch credit), ``purchased`` (the customer pays for it as
an untaxed one-off line on its next invoice), or ``carried`` (the credit of an ended
subscription's last invoice, which has no next invoice to carry it to). Each
has an optional expiry and a priority.

Invoices use the balance when they are finalized, after tax (or before tax,
when the tenant chooses: then the amount used is the part of the subtotal it
covers), never more than what is due. Grants are used in order
(:func:`use_order`): higher priority first; then the soonest expiry; grants
without expiry last; ties by grant time, then id. A grant's unused rest is
written off when it expires.

Every movement of money is a :class:`LedgerEntry` of the double-entry ledger:
one amount, debited from one account and credited to another, so every entry
balances by construction and the accounts always sum to zero. The accounts of
a customer are named after it (``customer:acme:credits`` is what iotbill owes
the customer in credits); the others are the tenant's:

==============================  ===================================  ==========================
movement                        debit                                credit
==============================  ===================================  ==========================
a free grant                    ``promotions``                       ``customer:C:credits``
a purchased grant               ``customer:C:receivable``            ``customer:C:credits``
an ended subscription's credit  ``customer:C:receivable``            ``customer:C:credits``
credit used by an invoice       ``customer:C:credits``               ``customer:C:receivable``
expiry                          ``customer:C:credits``               ``expired_credits``
==============================  ===================================  ==========================

>>> from datetime import UTC, datetime
>>> from iotbill.domain.money import currency
>>> usd, at = currency("USD"), datetime(2026, 1, 1, tzinfo=UTC)
>>> grant = CreditGrant.create(id="g1", customer_id="acme", kind="granted",
...     amount="50.00", currency=usd, granted_at=at)
>>> used = use_credits([(grant, Decimal("50.00"))], Decimal("30.00"), at=at)
>>> [(use.grant_id, str(use.amount)) for use in used]
[('g1', '30.00')]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, get_args

from iotbill.domain.errors import InvalidInput, ProblemCollector
from iotbill.domain.money import Currency, format_money, parse_decimal, round_money
from iotbill.domain.periods import require_aware

CreditTiming = Literal["after_tax", "before_tax"]
"""When a tenant's invoices use the customer's credits: on what is due after tax (the
default), or before tax, as a line that lowers the taxed subtotal."""
CREDIT_TIMINGS: tuple[CreditTiming, ...] = get_args(CreditTiming)
GrantKind = Literal["granted", "purchased", "carried"]
GRANT_KINDS: tuple[GrantKind, ...] = get_args(GrantKind)
PROMOTIONS = "promotions"
EXPIRED_CREDITS = "expired_credits"


NO_CUSTOMER = ""
"""The ``customer_id`` of a ledger entry of the operator's own, filed under no customer
(the operator's part of a data export, shared by many owners and none of the buyer's
business): no customer's history or balance lists it; the whole ledger does."""


def credits_account(customer_id: str) -> str:
    """The account of what iotbill owes ``customer_id`` in credits."""
    return f"customer:{customer_id}:credits"


def receivable_account(customer_id: str) -> str:
    """The account of what ``customer_id`` owes."""
    return f"customer:{customer_id}:receivable"


@dataclass(frozen=True, slots=True)
class CreditGrant:
    """An amount added to a customer's balance at ``granted_at``, usable until
    ``expires_at`` (``None``: never expires), used before grants of lower ``priority``."""

    id: str
    customer_id: str
    kind: GrantKind
    amount: Decimal
    currency: Currency
    granted_at: datetime
    expires_at: datetime | None = None
    priority: int = 0
    description: str = ""

    @classmethod
    def create(
        cls,
        *,
        id: str,
        customer_id: str,
        kind: str,
        amount: object,
        currency: Currency,
        granted_at: datetime,
        expires_at: datetime | None = None,
        priority: object = 0,
        description: str = "",
    ) -> CreditGrant:
        """A grant from raw input; every problem is reported at once, each at its field."""
        problems = ProblemCollector()
        if not id.strip():
            problems.add("id", "must be a non-empty string")
        if kind not in GRANT_KINDS:
            problems.add("kind", f"must be one of {', '.join(GRANT_KINDS)}, not {kind!r}")
        exact: Decimal | None = None
        try:
            exact = parse_decimal(amount, "amount")
        except InvalidInput as error:
            problems.extend(error.problems)
        if exact is not None:
            if exact <= 0:
                problems.add("amount", f"must be positive, not {exact}")
            elif round_money(exact, currency) != exact:
                problems.add("amount", f"{exact} has more decimals than {currency} allows")
        if isinstance(priority, bool) or not isinstance(priority, int):
            problems.add("priority", f"must be a whole number, not {priority!r}")
        try:
            granted_at = require_aware(granted_at, "granted_at")
            if expires_at is not None and require_aware(expires_at, "expires_at") <= granted_at:
                problems.add(
                    "expires_at",
                    f"must be after the grant ({granted_at.isoformat()}),"
                    f" not {expires_at.isoformat()}",
                )
        except InvalidInput as error:
            problems.extend(error.problems)
        problems.raise_if_any()
        assert exact is not None and isinstance(priority, int)
        return cls(
            id,
            customer_id,
            kind,  # type: ignore[arg-type]
            exact,
            currency,
            granted_at,
            expires_at,
            priority,
            description,
        )

    def usable_at(self, at: datetime) -> bool:
        """Whether the grant may be used at ``at``: granted by then and not expired."""
        return self.granted_at <= at and (self.expires_at is None or at < self.expires_at)

    def as_json(self, remaining: Decimal) -> dict[str, Any]:
        return {
            "id": self.id,
            "customer": self.customer_id,
            "kind": self.kind,
            "amount": format_money(self.amount, self.currency),
            "remaining": format_money(remaining, self.currency),
            "currency": self.currency.code,
            "priority": self.priority,
            "granted_at": self.granted_at.isoformat(),
            "expires_at": None if self.expires_at is None else self.expires_at.isoformat(),
            "description": self.description,
        }


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One movement of ``amount`` from account ``credit`` to account ``debit`` at ``at``.

    ``grant_id`` and ``document`` say which grant and which invoice it concerns;
    ``id`` is deterministic (``{grant}/used/{invoice}``, ``{grant}/expired``), so a
    movement is recorded once.
    """

    id: str
    customer_id: str
    at: datetime
    debit: str
    credit: str
    amount: Decimal
    grant_id: str | None = None
    document: str | None = None
    memo: str = ""

    def as_json(self, currency: Currency) -> dict[str, Any]:
        return {
            "id": self.id,
            "customer": self.customer_id,
            "at": self.at.isoformat(),
            "debit": self.debit,
            "credit": self.credit,
            "amount": format_money(self.amount, currency),
            "grant": self.grant_id,
            "document": self.document,
            "memo": self.memo,
        }


def grant_entry(grant: CreditGrant) -> LedgerEntry:
    """The ledger entry that adds ``grant`` to its customer's balance."""
    debit = PROMOTIONS if grant.kind == "granted" else receivable_account(grant.customer_id)
    return LedgerEntry(
        id=f"{grant.id}/granted",
        customer_id=grant.customer_id,
        at=grant.granted_at,
        debit=debit,
        credit=credits_account(grant.customer_id),
        amount=grant.amount,
        grant_id=grant.id,
        memo=f"{grant.kind} credit {grant.id}",
    )


def remaining(grant: CreditGrant, entries: Iterable[LedgerEntry]) -> Decimal:
    """What is left of ``grant``: what it added less what was used or written off."""
    taken = sum(
        (
            entry.amount
            for entry in entries
            if entry.grant_id == grant.id and entry.debit == credits_account(grant.customer_id)
        ),
        Decimal(0),
    )
    return grant.amount - taken


def use_order(grant: CreditGrant) -> tuple[int, int, datetime, datetime, str]:
    """The order grants are used in: higher priority, soonest expiry, no expiry last,
    then the earliest grant (and id)."""
    never = grant.expires_at is None
    return (
        -grant.priority,
        never,
        grant.expires_at or grant.granted_at,
        grant.granted_at,
        grant.id,
    )


@dataclass(frozen=True, slots=True)
class CreditUse:
    """``amount`` of grant ``grant_id`` used."""

    grant_id: str
    amount: Decimal


def use_credits(
    available: Sequence[tuple[CreditGrant, Decimal]], amount: Decimal, *, at: datetime
) -> list[CreditUse]:
    """Which grants pay ``amount`` at ``at``, and how much of each, in :func:`use_order`.

    ``available`` pairs each grant with what is left of it; grants not usable at
    ``at`` (expired, or granted later) are passed over. The uses add up to
    ``amount`` or to all that is usable, whichever is less.
    """
    uses: list[CreditUse] = []
    left = amount
    for grant, rest in sorted(available, key=lambda pair: use_order(pair[0])):
        if left <= 0:
            break
        if rest <= 0 or not grant.usable_at(at):
            continue
        taken = min(rest, left)
        uses.append(CreditUse(grant.id, taken))
        left -= taken
    return uses


def use_entries(
    customer_id: str, uses: Sequence[CreditUse], *, invoice: str, number: str, at: datetime
) -> list[LedgerEntry]:
    """The ledger entries of ``uses`` by invoice ``invoice`` (numbered ``number``)."""
    return [
        LedgerEntry(
            id=f"{use.grant_id}/used/{invoice}",
            customer_id=customer_id,
            at=at,
            debit=credits_account(customer_id),
            credit=receivable_account(customer_id),
            amount=use.amount,
            grant_id=use.grant_id,
            document=invoice,
            memo=f"used by {number}",
        )
        for use in uses
    ]


def expiry_entry(grant: CreditGrant, rest: Decimal) -> LedgerEntry | None:
    """The write-off of what is left of an expired ``grant`` (``None`` if nothing is)."""
    if grant.expires_at is None or rest <= 0:
        return None
    return LedgerEntry(
        id=f"{grant.id}/expired",
        customer_id=grant.customer_id,
        at=grant.expires_at,
        debit=credits_account(grant.customer_id),
        credit=EXPIRED_CREDITS,
        amount=rest,
        grant_id=grant.id,
        memo=f"expired rest of {grant.id}",
    )


def balances(entries: Iterable[LedgerEntry]) -> dict[str, Decimal]:
    """Every account's balance (credits minus debits): they always sum to zero."""
    found: dict[str, Decimal] = {}
    for entry in entries:
        found[entry.debit] = found.get(entry.debit, Decimal(0)) - entry.amount
        found[entry.credit] = found.get(entry.credit, Decimal(0)) + entry.amount
    return found
