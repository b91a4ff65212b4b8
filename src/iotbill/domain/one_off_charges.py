"""One-off charges: something billed once, on the customer's next invoice.

A :class:`OneOffCharge` is recorded against a customer at any instant
(``recorded_at``): a device sold, a setup visit, a spare part. It is billed as
one line on the first invoice of that customer that a bill run finalizes and
that was issued at or after ``recorded_at``; it then names that invoice
(``invoice_id``) and is never billed again. The invoice and the mark are
written in the same transaction, so a bill run killed half-way and run again
bills each charge exactly once.

A charge of kind ``credit_purchase`` is prepaid credit bought
(``credits grant --purchased``): its line (kind ``credit_purchase``) is untaxed,
since tax is paid when the credit is spent. A charge of kind ``credit``
(:meth:`OneOffCharge.credit`) is money owed to the customer, e.g. its share of
what its asset sold: a negative line, taxed like the others, so it lowers the
taxed subtotal as a discount does.

Its line's amount is ``unit_price x quantity``, rounded once by the one rule
(:func:`~iotbill.domain.money.round_money`); the unit price and the quantity
are plan numbers (at most 12 digits before the point and 9 after), both
positive.

>>> from datetime import UTC, datetime
>>> from iotbill.domain.money import currency
>>> charge = OneOffCharge.create(
...     id="acme/one-off/1", customer_id="acme", description="Spare impeller",
...     unit_price="12.345", quantity="3", currency=currency("USD"),
...     recorded_at=datetime(2026, 1, 15, tzinfo=UTC))
>>> line = charge.line()
>>> line.kind, str(line.exact_amount), str(line.amount)
('one_off', '37.035', '37.04')
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from iotbill.domain.errors import InvalidInput, ProblemCollector
from iotbill.domain.input_rules import amount_problem, plan_number_problem, text_problem
from iotbill.domain.invoicing import InvoiceLine
from iotbill.domain.money import Currency, format_money, parse_decimal
from iotbill.domain.periods import require_aware
from iotbill.domain.quantities import decimal_text

OneOffKind = Literal["one_off", "credit_purchase", "credit"]


@dataclass(frozen=True, slots=True)
class OneOffCharge:
    """``quantity`` units at ``unit_price`` recorded against a customer at ``recorded_at``;
    ``invoice_id`` is the invoice that billed it (``None`` until one does)."""

    id: str
    customer_id: str
    description: str
    unit_price: Decimal
    quantity: Decimal
    currency: Currency
    recorded_at: datetime
    invoice_id: str | None = None
    kind: OneOffKind = "one_off"

    @classmethod
    def create(
        cls,
        *,
        id: str,
        customer_id: str,
        description: str,
        unit_price: object,
        quantity: object,
        currency: Currency,
        recorded_at: datetime,
        kind: OneOffKind = "one_off",
    ) -> OneOffCharge:
        """A charge from raw input; every problem is reported at once, each at its field
        (``description``, ``amount`` for the unit price, ``quantity``, ``at``)."""
        problems = ProblemCollector()
        if not description.strip():
            problems.add("description", "must say what is charged")
        elif (wrong := text_problem(description)) is not None:
            problems.add("description", wrong)
        price = _positive(unit_price, "amount", problems)
        count = _positive(quantity, "quantity", problems)
        if price is not None and count is not None:
            wrong = amount_problem(price * count)
            if wrong is not None:
                problems.add("amount", wrong)
        try:
            recorded_at = require_aware(recorded_at, "at")
        except InvalidInput as error:
            problems.extend(error.problems)
        problems.raise_if_any()
        assert price is not None and count is not None
        return cls(id, customer_id, description, price, count, currency, recorded_at, kind=kind)

    @classmethod
    def credit(
        cls,
        *,
        id: str,
        customer_id: str,
        description: str,
        amount: Decimal,
        currency: Currency,
        recorded_at: datetime,
    ) -> OneOffCharge:
        """A credit of ``amount`` (positive, at the currency's minor unit) to the customer:
        one line of kind ``credit`` of ``-amount``."""
        charge = cls.create(
            id=id,
            customer_id=customer_id,
            description=description,
            unit_price=amount,
            quantity=Decimal(1),
            currency=currency,
            recorded_at=recorded_at,
        )
        return replace(charge, unit_price=-charge.unit_price, kind="credit")

    @property
    def exact_amount(self) -> Decimal:
        return self.unit_price * self.quantity

    def line(self) -> InvoiceLine:
        """Its invoice line: ``quantity`` x ``unit_price``, rounded once."""
        return InvoiceLine.rounded(
            self.currency,
            charge=self.id,
            kind=self.kind,
            description=self.description,
            quantity=self.quantity,
            unit_price=self.unit_price,
            exact_amount=self.exact_amount,
        )

    def billed_on(self, invoice_id: str) -> OneOffCharge:
        return replace(self, invoice_id=invoice_id)

    def as_json(self, invoice_number: str | None = None) -> dict[str, Any]:
        """Its JSON; ``invoice_number`` is that of the invoice that billed it, if known."""
        return {
            "id": self.id,
            "kind": self.kind,
            "customer": self.customer_id,
            "description": self.description,
            "quantity": decimal_text(self.quantity),
            "unit_price": decimal_text(self.unit_price),
            "amount": format_money(self.line().amount, self.currency),
            "currency": self.currency.code,
            "recorded_at": self.recorded_at.isoformat(),
            "invoice": self.invoice_id,
            "invoice_number": invoice_number,
        }


def charges_for(
    pending: Iterable[OneOffCharge], customer_id: str, issued_at: datetime
) -> list[OneOffCharge]:
    """The charges among ``pending`` (not billed yet) that an invoice of ``customer_id``
    issued at ``issued_at`` bills: those recorded at or before it, oldest first."""
    found = [
        charge
        for charge in pending
        if charge.invoice_id is None
        and charge.customer_id == customer_id
        and charge.recorded_at <= issued_at
    ]
    return sorted(found, key=lambda charge: (charge.recorded_at, charge.id))


def next_charge_id(customer_id: str, recorded: Sequence[OneOffCharge]) -> str:
    """The id of the customer's next charge recorded by hand: ``{customer}/one-off/{n}``,
    n from 1. Charges recorded for something else (an order's, named after the order, and
    withdrawn if it is cancelled first) do not count, so no id is ever given twice."""
    prefix = f"{customer_id}/one-off/"
    return f"{prefix}{sum(1 for charge in recorded if charge.id.startswith(prefix)) + 1}"


def _positive(value: object, field: str, problems: ProblemCollector) -> Decimal | None:
    try:
        number = parse_decimal(value, field)
    except InvalidInput as error:
        problems.extend(error.problems)
        return None
    wrong = plan_number_problem(number)
    if wrong is None and number <= 0:
        wrong = f"must be positive, not {decimal_text(number)}"
    if wrong is not None:
        problems.add(field, wrong)
        return None
    return number
