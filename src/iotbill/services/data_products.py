"""Data products (data-monetization model): consent, exports, metering and the owners' share.

:func:`give_consent` and :func:`withdraw_consent` keep each device's consent
history (:mod:`~iotbill.domain.models.consent`); only events from consented
intervals are ever exported.

:func:`export_data` delivers a product to a buyer. The buyer must hold it: a
subscription in force at the export's instant whose plan lists the product
(``data_products``). The window must fall on the product's bucket boundaries (UTC):
overlapping windows that split a bucket would differ by fewer than ``k`` owners' readings
and so beat k-anonymity. The store groups the product's cells
(:meth:`~iotbill.services.ports.DataRepository.tabulate`, k-anonymous), the
caller's ``deliver`` writes them, and in the same transaction:

- the export is recorded, with a one-off charge of records x the product's
  price that the next bill run puts on the buyer's invoice
  (:mod:`~iotbill.services.one_off_charges`);
- the revenue is split (:func:`~iotbill.domain.models.data_products.allocate`):
  each owner's part is a credit line (kind ``credit``, negative, so before tax,
  like a discount) on its next invoice, as asset sharing credits its owners
  (:mod:`~iotbill.domain.models.asset_sharing`), and every movement is posted to
  the double-entry ledger with the same accounts:

  ==========================  ===============================  ===============================
  movement                    debit                            credit
  ==========================  ===============================  ===============================
  the records sold to B       ``customer:B:receivable``        ``data_sales``
  owner O's share             ``data_sales``                   ``customer:O:revenue_share``
  O's share on its invoice    ``customer:O:revenue_share``     ``customer:O:receivable``
  the operator's rest         ``data_sales``                   ``operator_revenue``
  ==========================  ===============================  ===============================

  so ``data_sales`` is back at zero after each export, and buyer revenue = owner
  credits + operator revenue, to the cent. The buyer's entry is filed under the
  buyer, each owner's under the owner, and the operator's rest under no customer
  (:data:`~iotbill.domain.credits.NO_CUSTOMER`): a buyer's history shows what it
  owes, never the owners' pool. An owner billed in another currency
  than the product's gets no share: its events are left out of the allocation.

If ``deliver`` fails, nothing is stored. The window may not end after ``at``:
data not yet recorded cannot be sold. The export's id is its idempotency key:
the same id again (same buyer, product and window) delivers again exactly the
cells stored with the export, the ones billed, whatever events, consents or
plan versions came since, and bills and shares nothing more.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from iotbill.domain.catalog import Plan
from iotbill.domain.credits import NO_CUSTOMER, LedgerEntry, receivable_account
from iotbill.domain.errors import Conflict, InvalidInput, NotFound, ProblemCollector
from iotbill.domain.models import consent as consent_rules
from iotbill.domain.models.asset_sharing import OPERATOR_REVENUE, revenue_share_account
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
from iotbill.domain.quantities import decimal_text
from iotbill.services.ports import UnitOfWork

DATA_SALES = "data_sales"
"""The clearing account of data sales: credited with what buyers owe, debited by the split
(as ``asset_sales`` is for asset sharing)."""

Deliver = Callable[[DataProduct, Sequence[Cell]], None]
"""Writes the cells of a product somewhere (a file); raising stores nothing."""


def give_consent(uow: UnitOfWork, device: str, *, at: datetime) -> Consent:
    """Record that ``device``'s data may be sold from ``at``."""
    return _consent_step(uow, device, at, consent_rules.give_consent)


def withdraw_consent(uow: UnitOfWork, device: str, *, at: datetime) -> Consent:
    """Record that ``device``'s data may no longer be sold from ``at``."""
    return _consent_step(uow, device, at, consent_rules.withdraw_consent)


def _consent_step(
    uow: UnitOfWork,
    device: str,
    at: datetime,
    rule: Callable[[Sequence[Consent], str, datetime], Sequence[Consent]],
) -> Consent:
    """Apply ``rule`` (giving or withdrawing) to the device's consent history at ``at``, and
    store the interval it changed or added (the last)."""
    with uow:
        uow.devices.get(device)
        history = rule(uow.data_products.consents(device), device, at)
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
            problems.add(
                "end", f"must be after the start ({start.isoformat()}), not {end.isoformat()}"
            )
        else:
            window = Period(start, end)
    except InvalidInput as error:
        problems.extend(error.problems)
    at = require_aware(at, "at")
    if window is not None and window.end > at:
        problems.add(
            "end",
            f"must not be after the export's instant ({at.isoformat()}), not "
            f"{window.end.isoformat()}: data not yet recorded cannot be sold",
        )
    with uow:
        customer = uow.customers.get(buyer)
        held = held_products(uow, buyer, at)
        if product not in held:
            names = ", ".join(sorted(held)) or "none"
            problems.add(
                "product", f"buyer {buyer!r} does not hold product {product!r} (it holds: {names})"
            )
        found = None
        if product in held:
            found = held[product][0].data_product(product)
            assert found is not None
            if window is not None:
                for field, moment in (("start", window.start), ("end", window.end)):
                    if found.bucket_of(moment) != moment:
                        problems.add(
                            field,
                            f"must fall on a {found.bucket} boundary (UTC) of product "
                            f"{product!r}, not {moment.isoformat()}",
                        )
        problems.raise_if_any()
        assert window is not None and found is not None
        plan, _ = held[product]
        if customer.currency != plan.currency:
            raise Conflict(
                f"buyer {buyer!r} is billed in {customer.currency}, product {product!r} is sold "
                f"in {plan.currency}"
            )
        chosen = export_id or _next_id(uow, buyer)
        earlier = _earlier(uow, chosen)
        if earlier is not None:
            if (earlier.buyer_id, earlier.product, earlier.start, earlier.end) != (
                buyer,
                product,
                window.start,
                window.end,
            ):
                raise Conflict(f"data export {chosen!r} already exists, of another request")
            cells = uow.data_products.export_cells(chosen)
            if len(cells) != earlier.records:  # stored before the cells were kept
                raise Conflict(f"data export {chosen!r} did not keep its cells to deliver again")
            tabulation = Tabulation(cells, earlier.suppressed, ())
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
        uow.data_products.add_export(export, tabulation.cells)
        if charge is not None:
            uow.one_off_charges.add(charge)
        _post(uow, export, split, found.owner_share)
        deliver(found, tabulation.cells)
        uow.commit()
    return ExportResult(export, found, tabulation, split)


def list_exports(uow: UnitOfWork, buyer: str | None = None) -> list[DataExport]:
    with uow:
        if buyer is not None:
            uow.customers.get(buyer)
        return uow.data_products.exports(buyer)


def _next_id(uow: UnitOfWork, buyer: str) -> str:
    """The next free automatic id ``{buyer}/export/N``: never one a caller chose before."""
    number = len(uow.data_products.exports(buyer)) + 1
    while _earlier(uow, f"{buyer}/export/{number}") is not None:
        number += 1
    return f"{buyer}/export/{number}"


def _earlier(uow: UnitOfWork, id: str) -> DataExport | None:
    try:
        return uow.data_products.get_export(id)
    except NotFound:
        return None


def _post(uow: UnitOfWork, export: DataExport, split: Allocation, share: Decimal) -> None:
    """The owners' credit lines and the ledger entries of ``export``'s revenue ``split``
    (see the module)."""
    if split.revenue <= 0:
        return
    memo = f"data export {export.id}"

    def entry(key: str, customer: str, debit: str, credit: str, amount: Decimal) -> LedgerEntry:
        return LedgerEntry(
            id=f"{export.id}/{key}",
            customer_id=customer,
            at=export.exported_at,
            debit=debit,
            credit=credit,
            amount=amount,
            document=export.id,
            memo=memo,
        )

    buyer = export.buyer_id
    entries = [entry("billed", buyer, receivable_account(buyer), DATA_SALES, split.revenue)]
    credits: list[OneOffCharge] = []
    for owner, amount in split.owners:
        credits.append(
            OneOffCharge.credit(
                id=f"{export.id}/share/{owner}",
                customer_id=owner,
                description=f"{decimal_text(share)} % share of data export {export.id}",
                amount=amount,
                currency=export.currency,
                recorded_at=export.exported_at,
            )
        )
        entries.append(
            entry(f"share/{owner}", owner, DATA_SALES, revenue_share_account(owner), amount)
        )
        entries.append(
            entry(
                f"share/{owner}/credited",
                owner,
                revenue_share_account(owner),
                receivable_account(owner),
                amount,
            )
        )
    if split.operator > 0:
        entries.append(  # the owners' pool is none of the buyer's business
            entry("operator", NO_CUSTOMER, DATA_SALES, OPERATOR_REVENUE, split.operator)
        )
    uow.one_off_charges.add_many(credits)
    uow.credits.add_entries(entries)
