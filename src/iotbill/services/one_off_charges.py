"""One-off charges: record one against a customer; the bill run bills it once.

:func:`add_one_off_charge` stores a charge for a customer at an instant (a
device sold, a setup fee, a spare part, credit bought). The bill run reads
the charges not billed yet of the customers of each batch once
(:class:`PendingCharges`) and, invoice by invoice in the order it finalizes
them, puts each charge on the first invoice of its customer issued at or
after the charge was recorded (:func:`~iotbill.domain.one_off_charges.charges_for`).
The charges are marked with their invoice in the batch's transaction, so a
run killed half-way and run again bills each exactly once.

A charge waits for an invoice finalized by a bill run: a customer without a
subscription gets none, and a draft finalized by hand (``invoices finalize``)
does not take charges.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from iotbill.domain.invoicing import InvoiceLine
from iotbill.domain.one_off_charges import OneOffCharge, charges_for, next_charge_id
from iotbill.services.moments import Moment, instant_for
from iotbill.services.ports import UnitOfWork


def add_one_off_charge(
    uow: UnitOfWork,
    *,
    customer: str,
    description: str,
    amount: str | Decimal,
    quantity: str | Decimal = Decimal(1),
    at: Moment,
) -> OneOffCharge:
    """Record ``quantity`` x ``amount`` (the price of one unit, in the customer's currency)
    against ``customer`` at ``at`` (an instant, or a date: the customer's midnight), to be
    billed on its next invoice.

    Every problem is reported at once, each at its field; nothing is stored then.
    :class:`~iotbill.domain.errors.NotFound` for an unknown customer.
    """
    with uow:
        found = uow.customers.get(customer)
        charge = OneOffCharge.create(
            id=next_charge_id(customer, uow.one_off_charges.list(customer)),
            customer_id=customer,
            description=description,
            unit_price=amount,
            quantity=quantity,
            currency=found.currency,
            recorded_at=instant_for(at, found, "at"),
        )
        uow.one_off_charges.add(charge)
        uow.commit()
    return charge


def list_one_off_charges(
    uow: UnitOfWork, customer: str | None = None
) -> list[tuple[OneOffCharge, str | None]]:
    """The one-off charges (of ``customer``), oldest first, each with the number of the
    invoice that billed it (``None`` until one has)."""
    with uow:
        if customer is not None:
            uow.customers.get(customer)
        charges = uow.one_off_charges.list(customer)
        billed = uow.invoices.find([c.invoice_id for c in charges if c.invoice_id is not None])
    return [
        (charge, None if charge.invoice_id is None else billed[charge.invoice_id].number)
        for charge in charges
    ]


class PendingCharges:
    """The charges not billed yet of some customers, read once in a bill run's unit of work
    and handed to invoices in the order they are finalized."""

    def __init__(self, uow: UnitOfWork, customers: Sequence[str]) -> None:
        self._uow = uow
        self._pending = uow.one_off_charges.pending(customers)
        self.billed: list[OneOffCharge] = []

    def take(self, customer: str, invoice_id: str, issued_at: datetime) -> list[InvoiceLine]:
        """The lines of the charges that the invoice ``invoice_id`` of ``customer``, issued at
        ``issued_at``, bills; they are no longer pending."""
        taken = charges_for(self._pending, customer, issued_at)
        if not taken:
            return []
        billed = [charge.billed_on(invoice_id) for charge in taken]
        ids = {charge.id for charge in taken}
        self._pending = [charge for charge in self._pending if charge.id not in ids]
        self.billed.extend(billed)
        return [charge.line() for charge in billed]

    def write(self) -> None:
        """Mark the charges taken with their invoices (in the caller's transaction)."""
        self._uow.one_off_charges.mark_billed(self.billed)
        self.billed = []
