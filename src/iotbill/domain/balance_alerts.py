"""Balance alerts: a customer's credits falling below a threshold, recorded once a crossing.

A customer may set amounts (:func:`thresholds_from`): each is crossed when a
ledger entry takes its credits balance from at least the amount to below it
(a use of credit, an expiry). Each crossing is a :class:`BalanceAlert` named by
the threshold and the entry that crossed it, so it is recorded once however
often the ledger is read again; a balance that goes back up (a grant) and falls
again crosses again.

>>> from datetime import UTC, datetime
>>> from iotbill.domain.credits import LedgerEntry, PROMOTIONS, credits_account
>>> at = datetime(2026, 1, 1, tzinfo=UTC)
>>> granted = LedgerEntry("g", "acme", at, PROMOTIONS, credits_account("acme"),
...     Decimal("50.00"), None, None, "granted")
>>> used = LedgerEntry("u", "acme", at, credits_account("acme"), "customer:acme:receivable",
...     Decimal("31.00"), None, "inv-1", "used")
>>> [(str(a.threshold), str(a.balance)) for a in crossings("acme", (Decimal(20),), [granted, used])]
[('20', '19.00')]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from iotbill.domain.credits import LedgerEntry, credits_account
from iotbill.domain.errors import InvalidInput, ProblemCollector
from iotbill.domain.money import Currency, format_money, parse_decimal, round_money
from iotbill.domain.quantities import decimal_text


@dataclass(frozen=True, slots=True)
class BalanceAlert:
    """``customer_id``'s credits fell below ``threshold`` to ``balance`` at ``at``, by the
    ledger entry ``entry_id``."""

    id: str
    customer_id: str
    threshold: Decimal
    balance: Decimal
    at: datetime
    entry_id: str

    def as_json(self, currency: Currency) -> dict[str, Any]:
        return {
            "id": self.id,
            "customer": self.customer_id,
            "threshold": format_money(self.threshold, currency),
            "balance": format_money(self.balance, currency),
            "at": self.at.isoformat(),
            "entry": self.entry_id,
        }


def thresholds_from(amounts: Sequence[object], currency: Currency) -> tuple[Decimal, ...]:
    """Thresholds from raw input: positive amounts at the currency's minor unit, each once;
    highest first. Every problem is reported at once, at ``thresholds[i]``."""
    problems = ProblemCollector()
    found: list[Decimal] = []
    for index, given in enumerate(amounts):
        where = f"thresholds[{index}]"
        try:
            amount = parse_decimal(given, where)
        except InvalidInput as error:
            problems.extend(error.problems)
            continue
        if amount <= 0:
            problems.add(where, f"must be positive, not {decimal_text(amount)}")
        elif round_money(amount, currency) != amount:
            problems.add(where, f"{decimal_text(amount)} has more decimals than {currency} allows")
        elif amount in found:
            problems.add(where, f"{decimal_text(amount)} is given twice")
        else:
            found.append(amount)
    problems.raise_if_any()
    return tuple(sorted(found, reverse=True))


def crossings(
    customer_id: str, thresholds: Sequence[Decimal], entries: Iterable[LedgerEntry]
) -> list[BalanceAlert]:
    """Every crossing of ``thresholds`` by ``customer_id``'s credits over ``entries`` (the
    customer's ledger, by time then id), in order."""
    account = credits_account(customer_id)
    balance = Decimal(0)
    found: list[BalanceAlert] = []
    for entry in entries:
        change = (entry.amount if entry.credit == account else Decimal(0)) - (
            entry.amount if entry.debit == account else Decimal(0)
        )
        after = balance + change
        for threshold in thresholds:
            if after < threshold <= balance:
                found.append(
                    BalanceAlert(
                        id=f"{customer_id}/alert/{decimal_text(threshold)}/{entry.id}",
                        customer_id=customer_id,
                        threshold=threshold,
                        balance=after,
                        at=entry.at,
                        entry_id=entry.id,
                    )
                )
        balance = after
    return found
