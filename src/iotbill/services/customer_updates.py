"""Changing a customer: its name, billing address and net terms from now on, its tax rate
from an instant (effective-dated).

An invoice is taxed, whole, at the rate in force at its ``issued_at``
(:mod:`iotbill.domain.tax_rates`). A finalized invoice never changes, so a new
rate takes effect only after the latest finalized invoice of the customer was
issued; drafts issued from the change on are priced at the new rate when the
bill run revises them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from iotbill.domain.customers import Customer
from iotbill.domain.errors import InvalidInput, ProblemCollector
from iotbill.domain.money import parse_decimal
from iotbill.domain.tax_rates import MAX_TAX_RATE
from iotbill.services.moments import Moment, collect_instant
from iotbill.services.ports import UnitOfWork


def update_customer(
    uow: UnitOfWork,
    id: str,
    *,
    name: str | None = None,
    billing_address: str | None = None,
    net_terms: int | None = None,
    tax_rate: object | None = None,
    tax_from: Moment | None = None,
) -> Customer:
    """Customer ``id`` with the fields given changed; ``tax_rate`` in force from
    ``tax_from`` (a date: the customer's midnight). Every problem is :class:`InvalidInput`
    at its field, and nothing is stored; :class:`NotFound` for an unknown customer."""
    with uow:
        customer = uow.customers.get(id)
        problems = ProblemCollector()
        given: dict[str, Any] = {
            field: value
            for field, value in (
                ("name", name),
                ("billing_address", billing_address),
                ("net_terms", net_terms),
            )
            if value is not None
        }
        updated = customer
        try:
            updated = replace(customer, **given)
        except InvalidInput as error:
            problems.extend(error.problems)
        if tax_rate is None:
            if tax_from is not None:
                problems.add("from", "is the start of a new tax rate: give the rate with it")
        else:
            updated = _with_rate(uow, updated, tax_rate, tax_from, problems)
        if not given and tax_rate is None and tax_from is None:
            problems.add("", "nothing to change: give a name, an address, net terms or a tax rate")
        problems.raise_if_any()
        uow.customers.save(updated)
        uow.commit()
    return updated


def _with_rate(
    uow: UnitOfWork,
    customer: Customer,
    tax_rate: object,
    tax_from: Moment | None,
    problems: ProblemCollector,
) -> Customer:
    rate: Decimal | None = None
    try:
        rate = parse_decimal(tax_rate, "tax_rate")
    except InvalidInput as error:
        problems.extend(error.problems)
    if rate is not None and not (rate.is_finite() and Decimal(0) <= rate <= MAX_TAX_RATE):
        problems.add("tax_rate", f"must be a percentage from 0 to 100, not {rate}")
        rate = None
    if tax_from is None:
        problems.add("from", "is required with a new tax rate: when it takes effect")
        return customer
    start = collect_instant(tax_from, customer, "from", problems)
    if start is None or rate is None:
        return customer
    _refuse_before_finalized(uow, customer, start, problems)
    try:
        return customer.with_tax_rate(rate, start)
    except InvalidInput as error:
        problems.extend(error.problems)
        return customer


def _refuse_before_finalized(
    uow: UnitOfWork, customer: Customer, start: datetime, problems: ProblemCollector
) -> None:
    """A problem at ``from`` if a finalized (or paid) invoice of ``customer`` was issued from
    ``start`` on: it is taxed at the rate then in force, and never changes."""
    fixed = [
        invoice
        for invoice in uow.invoices.list(customer=customer.id)
        if invoice.status in ("finalized", "paid") and invoice.issued_at >= start
    ]
    if fixed:
        latest = max(fixed, key=lambda invoice: invoice.issued_at)
        problems.add(
            "from",
            f"invoice {latest.number} was issued at {latest.issued_at.isoformat()} and is"
            f" finalized at {latest.tax_rate} %; a finalized invoice never changes: give a"
            f" start after {latest.issued_at.isoformat()}",
        )
