"""Reorders (razor-blade model): the job that places them, and their steps.

:func:`run_reorders` is the job. At ``as_of`` it visits every subscription in
force whose plan lists consumables and, for each device it covers (its own
device, or every device its customer owns then) and each consumable, reads
the device's level readings and applies the pure rule
(:func:`~iotbill.domain.models.reorder.decide_reorder`). An order it places is
recorded with a one-off charge of the consumable's price, in the same
transaction, so the customer's next invoice bills it
(:mod:`~iotbill.services.one_off_charges`). The rule reads event timestamps
and the orders already stored, so running the job again, at any frequency, or
after events were replayed, places nothing twice.

:func:`ship_order`, :func:`deliver_order` and :func:`cancel_order` move an
order on. Cancelling withdraws its charge when no invoice billed it yet; when
one did, the price and the tax that invoice charged on it (at its rate, rounded once)
are granted back to the customer's balance as a credit (:mod:`~iotbill.domain.credits`),
which the next invoices use: the customer gets back what it paid for the order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from iotbill.domain.catalog import Consumable, Meter
from iotbill.domain.credits import CreditGrant, grant_entry
from iotbill.domain.customers import Customer
from iotbill.domain.models.depletion import Reading
from iotbill.domain.models.orders import Order
from iotbill.domain.models.reorder import ReorderDecision, decide_reorder
from iotbill.domain.money import format_money, round_money
from iotbill.domain.one_off_charges import OneOffCharge
from iotbill.domain.periods import require_aware
from iotbill.domain.quantities import decimal_text
from iotbill.services.coverage import covered_devices
from iotbill.services.ports import UnitOfWork
from iotbill.services.readings import device_readings


@dataclass(frozen=True, slots=True)
class ReorderCheck:
    """What the job decided for one device's consumable, and the order it placed, if any."""

    customer: str
    device: str
    consumable: str
    decision: ReorderDecision
    order: Order | None = None


def run_reorders(uow: UnitOfWork, *, as_of: datetime) -> list[ReorderCheck]:
    """Decide, for every device's consumable under a subscription in force at ``as_of``,
    whether to order; place and charge the orders due, in one transaction."""
    as_of = require_aware(as_of, "as_of")
    checks: list[ReorderCheck] = []
    with uow:
        earlier: dict[tuple[str, str], list[Order]] = {}
        counts: dict[str, int] = {}
        covered: set[tuple[str, str]] = set()
        for stored in uow.orders.list():
            earlier.setdefault((stored.device_id, stored.consumable), []).append(stored)
            counts[stored.customer_id] = counts.get(stored.customer_id, 0) + 1
        for covered_device in covered_devices(uow, as_of):
            customer, device = covered_device.customer, covered_device.device
            for consumable in covered_device.plan.consumables:
                if (device, consumable.code) in covered:
                    continue  # by another of the customer's subscriptions
                covered.add((device, consumable.code))
                before = earlier.get((device, consumable.code), [])
                readings = _readings(uow, customer.id, device, consumable, before, as_of)
                decision = decide_reorder(readings, before, consumable, as_of)
                placed = None
                if decision.place:
                    counts[customer.id] = counts.get(customer.id, 0) + 1
                    number = counts[customer.id]
                    placed = _place(uow, customer, device, consumable, decision, number)
                checks.append(ReorderCheck(customer.id, device, consumable.code, decision, placed))
        uow.commit()
    return checks


def list_orders(uow: UnitOfWork, customer: str | None = None) -> list[Order]:
    """The orders (of ``customer``), by placing time, then id."""
    with uow:
        if customer is not None:
            uow.customers.get(customer)
        return uow.orders.list(customer)


def get_order(uow: UnitOfWork, id: str) -> Order:
    with uow:
        return uow.orders.get(id)


def ship_order(uow: UnitOfWork, id: str, *, at: datetime) -> Order:
    """Record that order ``id`` was shipped at ``at``."""
    with uow:
        shipped = uow.orders.get(id).ship(at)
        uow.orders.save(shipped)
        uow.commit()
    return shipped


def deliver_order(uow: UnitOfWork, id: str, *, at: datetime) -> Order:
    """Record that order ``id`` was delivered at ``at``."""
    with uow:
        delivered = uow.orders.get(id).deliver(at)
        uow.orders.save(delivered)
        uow.commit()
    return delivered


def cancel_order(uow: UnitOfWork, id: str, *, at: datetime) -> Order:
    """Cancel order ``id`` at ``at``: its charge is withdrawn if no invoice billed it yet,
    else its price and the tax billed on it are credited to the customer's balance."""
    with uow:
        order = uow.orders.get(id)
        cancelled = order.cancel(at)
        charges = uow.one_off_charges.list(order.customer_id)
        charge = next(found for found in charges if found.id == order.charge_id)
        if charge.invoice_id is None:
            uow.one_off_charges.withdraw(charge.id)
        else:
            billed = uow.invoices.get(charge.invoice_id)
            price = charge.line().amount
            tax = round_money(price * billed.tax_rate / 100, order.currency)
            grant = CreditGrant.create(
                id=f"{order.id}/credit",
                customer_id=order.customer_id,
                kind="granted",
                amount=price + tax,
                currency=order.currency,
                granted_at=cancelled.changed_at,
                description=f"Cancelled order {order.id}: {order.description}"
                f" ({format_money(price, order.currency)} and its tax"
                f" {format_money(tax, order.currency)} at {decimal_text(billed.tax_rate)} %"
                f" on invoice {billed.number})",
            )
            uow.credits.add_grant(grant)
            uow.credits.add_entries([grant_entry(grant)])
            cancelled = order.cancel(at, credit_id=grant.id)
        uow.orders.save(cancelled)
        uow.commit()
    return cancelled


def _readings(
    uow: UnitOfWork,
    customer: str,
    device: str,
    consumable: Consumable,
    orders: list[Order],
    as_of: datetime,
) -> list[Reading]:
    """The device's level readings up to ``as_of``: of the fitting window, and back to the
    last order's placing (to see a refill since), with the reading just before."""
    since = as_of - consumable.window
    if orders:
        since = min(since, max(order.placed_at for order in orders))
    meter = Meter(consumable.meter, consumable.event_type, "latest", consumable.property)
    return device_readings(
        uow, customer=customer, device=device, meter=meter, since=since, as_of=as_of
    )


def _place(
    uow: UnitOfWork,
    customer: Customer,
    device: str,
    consumable: Consumable,
    decision: ReorderDecision,
    number: int,
) -> Order:
    forecast = decision.forecast
    assert forecast is not None and forecast.run_out is not None
    order_id = f"{customer.id}/order/{number}"
    description = f"{consumable.name or consumable.code} for {device}"
    charge = OneOffCharge.create(
        id=f"{order_id}/charge",
        customer_id=customer.id,
        description=f"Order {order_id}: {description}",
        unit_price=consumable.price,
        quantity=Decimal(1),
        currency=customer.currency,
        recorded_at=forecast.as_of,
    )
    order = Order(
        id=order_id,
        customer_id=customer.id,
        device_id=device,
        consumable=consumable.code,
        description=description,
        price=consumable.price,
        currency=customer.currency,
        placed_at=forecast.as_of,
        run_out=forecast.run_out,
        cycle_start=forecast.cycle_start,
        charge_id=charge.id,
    )
    uow.one_off_charges.add(charge)
    uow.orders.add(order)
    return order
