"""Data products (data-monetization model): consent, exports, metering and the owners' share.

:func:`give_consent` and :func:`withdraw_consent` keep each device's consent
history (:mod:`~iotbill.domain.models.consent`); only events from consented
intervals are ever exported.

:func:`export_data` delivers a product to a buyer. The buyer must hold it: a
subscription in force at the export's instant whose plan lists the product
(``data_products``). The store groups the product's cells
(:meth:`~iotbill.services.ports.DataRepository.tabulate`, k-anonymous), the
caller's ``deliver`` writes them, and in the same transaction:

- the export is recorded, with a one-off charge of records x the product's
  price that the next bill run puts on the buyer's invoice
  (:mod:`~iotbill.services.one_off_charges`);
- the revenue is split (:func:`~iotbill.domain.models.data_products.allocate`)
  and posted to the double-entry ledger (:mod:`~iotbill.domain.credits`):

  ==========================  ===========================  ===========================
  movement                    debit                        credit
  ==========================  ===========================  ===========================
  the records sold            ``customer:B:receivable``    ``data_sales``
  an owner's share            ``data_sales``               ``customer:O:credits``
  the operator's rest         ``data_sales``               ``operator_revenue``
  ==========================  ===========================  ===========================

  so ``data_sales`` is back at zero after each export and buyer revenue = owner
  credits + operator revenue, to the cent. An owner's share is a credit grant
  on its balance, which its next invoice uses (before tax when the tenant's
  credit timing is ``before_tax``). An owner billed in another currency than
  the product's gets no share: its events are left out of the allocation.

If ``deliver`` fails, nothing is stored. The export's id is its idempotency
key: the same id again (same buyer, product and window) delivers the same cells
again and bills and shares nothing more.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from iotbill.domain.catalog import Plan
from iotbill.domain.credits import CreditGrant, LedgerEntry, credits_account, receivable_account
from iotbill.domain.errors import Conflict, InvalidInput, NotFound, ProblemCollector
from iotbill.domain.models import consent as consent_rules
from iotbill.domain.models.consent import Consent
from iotbill.domain.models.data_exports import DataExport
from iotbill.domain.models.data_products import (
    EXPORT_FORMATS,
    Allocation,
    Cell,
    DataProduct,
    Tabulation,
    allocate,
)
from iotbill.domain.money import round_money
from iotbill.domain.one_off_charges import OneOffCharge
from iotbill.domain.periods import Period, require_aware
from iotbill.services.ports import UnitOfWork

DATA_SALES = "data_sales"
OPERATOR_REVENUE = "operator_revenue"

Deliver = Callable[[DataProduct, Sequence[Cell]], None]
"""Writes the cells of a product somewhere (a file); raising stores nothing."""


def give_consent(uow: UnitOfWork, device: str, *, at: datetime) -> Consent:
    """Record that ``device``'s data may be sold from ``at``."""
    with uow:
        uow.devices.get(device)
        history = consent_rules.give_consent(uow.data_products.consents(device), device, at)
        uow.data_products.save_consent(history[-1])
        uow.commit()
    return history[-1]


def withdraw_consent(uow: UnitOfWork, device: str, *, at: datetime) -> Consent:
    """Record that ``device``'s data may no longer be sold from ``at``."""
    with uow:
        uow.devices.get(device)
        history = consent_rules.withdraw_consent(uow.data_products.consents(device), device, at)
        uow.data_products.save_consent(history[-1])
        uow.commit()
    return history[-1]


def list_consents(uow: UnitOfWork, device: str | None = None) -> list[Consent]:
    with uow:
        if device is not None:
            uow.devices.get(device)
        return uow.data_products.consents(device)


@dataclass(frozen=True, slots=True)
class ExportResult:
    """An export, the cells it delivered and how its revenue was split (``None`` when
    ``repeated``: an export of the same id was stored before, and nothing was billed)."""

    export: DataExport
    product: DataProduct
    tabulation: Tabulation
    allocation: Allocation | None
    repeated: bool = False


def held_products(uow: UnitOfWork, buyer: str, at: datetime) -> dict[str, tuple[Plan, str]]:
    """The products ``buyer`` holds at ``at``, by code: each with its plan and the
    subscription that holds it (in an open unit of work)."""
    held: dict[str, tuple[Plan, str]] = {}
    for subscription in uow.subscriptions.list(buyer):
        if subscription.start > at or (subscription.end is not None and subscription.end <= at):
            continue
        phase = subscription.phase_at(at)
        if phase is None:
            continue
        plan = uow.plans.get(phase.plan_code, phase.plan_version).plan
        for product in plan.data_products:
            held.setdefault(product.code, (plan, subscription.id))
    return held


def export_data(
    uow: UnitOfWork,
    *,
    product: str,
    buyer: str,
    start: datetime,
    end: datetime,
    format: str,
    at: datetime,
    deliver: Deliver,
    export_id: str | None = None,
) -> ExportResult:
    """Deliver ``product``'s cells over ``[start, end)`` to ``buyer`` at ``at``; meter,
    bill and share them (see the module). Every problem with the input is reported at
    once, each at its field (``product``, ``format``, ``start``, ``end``, ``id``);
    :class:`~iotbill.domain.errors.NotFound` for an unknown buyer."""
    problems = ProblemCollector()
    if format not in EXPORT_FORMATS:
        problems.add("format", f"must be one of {', '.join(EXPORT_FORMATS)}, not {format!r}")
    if export_id is not None and not export_id.strip():
        problems.add("id", "must be a non-empty string")
    window: Period | None = None
    try:
        start, end = require_aware(start, "start"), require_aware(end, "end")
        if end <= start:
            problems.add("end", f"must be after start ({start.isoformat()}), not {end.isoformat()}")
        else:
            window = Period(start, end)
    except InvalidInput as error:
        problems.extend(error.problems)
    at = require_aware(at, "at")
    with uow:
        customer = uow.customers.get(buyer)
        held = held_products(uow, buyer, at)
        if product not in held:
            names = ", ".join(sorted(held)) or "none"
            problems.add(
                "product", f"buyer {buyer!r} does not hold product {product!r} (it holds: {names})"
            )
        problems.raise_if_any()
        assert window is not None
        plan, _ = held[product]
        found = plan.data_product(product)
        assert found is not None
        if customer.currency != plan.currency:
            raise Conflict(
                f"buyer {buyer!r} is billed in {customer.currency}, product {product!r} is sold "
                f"in {plan.currency}"
            )
        exports = uow.data_products.exports(buyer)
        chosen = export_id or f"{buyer}/export/{len(exports) + 1}"
        earlier = _earlier(uow, chosen)
        if earlier is not None:
            if (earlier.buyer_id, earlier.product, earlier.start, earlier.end) != (
                buyer,
                product,
                window.start,
                window.end,
            ):
                raise Conflict(f"data export {chosen!r} already exists, of another request")
            tabulation = uow.data_products.tabulate(found, window)
            deliver(found, tabulation.cells)
            return ExportResult(earlier, found, tabulation, None, repeated=True)
        tabulation = uow.data_products.tabulate(found, window)
        records = len(tabulation.cells)
        revenue = round_money(found.price * records, plan.currency)
        charge = None
        if records:
            charge = OneOffCharge.create(
                id=f"{chosen}/records",
                customer_id=buyer,
                description=f"Data export {chosen}: {found.name or found.code}",
                unit_price=found.price,
                quantity=records,
                currency=plan.currency,
                recorded_at=at,
            )
        export = DataExport(
            id=chosen,
            buyer_id=buyer,
            product=product,
            start=window.start,
            end=window.end,
            format=format,
            records=records,
            suppressed=tabulation.suppressed,
            exported_at=at,
            revenue=revenue,
            currency=plan.currency,
            charge_id=None if charge is None else charge.id,
        )
        owners = uow.customers.find([owner for owner, _ in tabulation.contributions])
        sharing = {
            owner: events
            for owner, events in tabulation.contributions
            if owners[owner].currency == plan.currency
        }
        split = allocate(revenue, found.owner_share, sharing, plan.currency)
        uow.data_products.add_export(export)
        if charge is not None:
            uow.one_off_charges.add(charge)
        _post(uow, export, split)
        deliver(found, tabulation.cells)
        uow.commit()
    return ExportResult(export, found, tabulation, split)


def list_exports(uow: UnitOfWork, buyer: str | None = None) -> list[DataExport]:
    with uow:
        if buyer is not None:
            uow.customers.get(buyer)
        return uow.data_products.exports(buyer)


def _earlier(uow: UnitOfWork, id: str) -> DataExport | None:
    try:
        return uow.data_products.get_export(id)
    except NotFound:
        return None


def _post(uow: UnitOfWork, export: DataExport, split: Allocation) -> None:
    """The grants and ledger entries of ``export``'s revenue ``split`` (see the module)."""
    if split.revenue <= 0:
        return
    at, memo = export.exported_at, f"data export {export.id}"
    entries = [
        LedgerEntry(
            id=f"{export.id}/billed",
            customer_id=export.buyer_id,
            at=at,
            debit=receivable_account(export.buyer_id),
            credit=DATA_SALES,
            amount=split.revenue,
            document=export.id,
            memo=memo,
        )
    ]
    for owner, amount in split.owners:
        grant = CreditGrant.create(
            id=f"{export.id}/share/{owner}",
            customer_id=owner,
            kind="granted",
            amount=amount,
            currency=export.currency,
            granted_at=at,
            description=f"Share of {memo}",
        )
        uow.credits.add_grant(grant)
        entries.append(
            LedgerEntry(
                id=f"{grant.id}/granted",
                customer_id=owner,
                at=at,
                debit=DATA_SALES,
                credit=credits_account(owner),
                amount=amount,
                grant_id=grant.id,
                document=export.id,
                memo=f"share of {memo}",
            )
        )
    if split.operator > 0:
        entries.append(
            LedgerEntry(
                id=f"{export.id}/operator",
                customer_id=export.buyer_id,
                at=at,
                debit=DATA_SALES,
                credit=OPERATOR_REVENUE,
                amount=split.operator,
                document=export.id,
                memo=f"operator's part of {memo}",
            )
        )
    uow.credits.add_entries(entries)
