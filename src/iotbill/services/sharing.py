"""Asset sharing: buyers registered per device, the settlement job, and payout statements.

:func:`register_buyer` records who buys a device's spare capacity under the
name its sale events give: a customer of iotbill (a grid operator, an
aggregator), invoiced for what it buys, in the owner's plan currency; or a
market that pays the operator directly. The device must be under a
subscription whose plan has ``sharing`` terms.

:func:`settle_sales` is the job; the bill run calls it first, so that each
period-close invoice bills what its period sold. For every subscription on a
plan with sharing terms, and each of its billing periods ended by ``as_of``,
it settles the sale events stored by then that no earlier settlement of the
period settled (a period is settled once when it has ended; sales reported
later are settled again, late, by a later run). Each settlement is stored with
the ids of the events it settled, its one-off charges (the buyers' lines, the
owner's credit lines) and its ledger entries, in one transaction, so running
the job again, or after events were replayed, or while others are still being
stored, settles each sale exactly once. A period whose
sales cannot be settled (a sale without its price, a buyer not registered) is
reported and left for a later run, once the events are corrected or the buyer
registered. A period a sale of which was corrected or voided after it was
settled is reported and held, since a settled sale is not reversed (the
difference is billed by hand; see docs/models.md).

:func:`payout_statement` shows, per asset, what a customer's assets sold in a
period, at which prices, the share and the credit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from iotbill.domain.catalog import Meter, Plan
from iotbill.domain.credits import LedgerEntry
from iotbill.domain.customers import Customer
from iotbill.domain.errors import Conflict, InvalidInput
from iotbill.domain.event_table import EventTable
from iotbill.domain.models.asset_sharing import (
    AssetBuyer,
    AssetStatement,
    Settlement,
    SharingTerms,
    asset_statements,
    buyer_problem,
    new_sales,
    read_sales,
    settlement_charges,
    settlement_entries,
    settlement_id,
    sold_lines,
)
from iotbill.domain.money import format_money
from iotbill.domain.one_off_charges import OneOffCharge
from iotbill.domain.periods import Period, require_aware
from iotbill.domain.subscriptions import Subscription
from iotbill.services.moments import Moment, instant_for
from iotbill.services.ports import EventScope, EventWindow, UnitOfWork


def register_buyer(
    uow: UnitOfWork, *, device: str, buyer: str, customer: str | None, at: datetime
) -> AssetBuyer:
    """Register ``buyer`` (the name sale events give) for ``device`` from ``at``: the
    customer ``customer``, invoiced for what it buys, or (``None``) a market that pays the
    operator directly.

    :class:`~iotbill.domain.errors.NotFound` for an unknown device or customer;
    :class:`InvalidInput` for a device without owner at ``at``, a buyer that is the
    owner or billed in another currency than the owner's plan;
    :class:`Conflict` when no subscription then shares the device, or the name is
    taken. Nothing is stored then.
    """
    registered = AssetBuyer.create(device_id=device, code=buyer, customer_id=customer, added_at=at)
    with uow:
        owner = uow.devices.get(device).owner_at(registered.added_at)
        if owner is None:
            raise InvalidInput.at(
                "at", f"device {device!r} has no owner at {registered.added_at.isoformat()}"
            )
        plan = sharing_plan(uow, owner, device, registered.added_at)
        if customer is not None:
            found = uow.customers.get(customer)
            wrong = buyer_problem(owner, customer, found.currency, plan.currency)
            if wrong is not None:
                raise InvalidInput.at("customer", wrong)
        uow.sharing.add_buyer(registered)
        uow.commit()
    return registered


def list_buyers(uow: UnitOfWork, device: str | None = None) -> list[AssetBuyer]:
    """The buyers (of ``device``), by device, then name."""
    with uow:
        if device is not None:
            uow.devices.get(device)
        return uow.sharing.buyers(device)


def sharing_plan(uow: UnitOfWork, customer: str, device: str, at: datetime) -> Plan:
    """The plan with sharing terms of a subscription of ``customer`` covering ``device``
    at ``at``; :class:`Conflict` when there is none."""
    for subscription in uow.subscriptions.list(customer):
        if subscription.device_id not in (None, device) or subscription.start > at:
            continue
        if subscription.end is not None and subscription.end <= at:
            continue
        phase = subscription.phase_at(at)
        if phase is None:
            continue
        plan = uow.plans.get(phase.plan_code, phase.plan_version).plan
        if plan.sharing is not None:
            return plan
    raise Conflict(
        f"no subscription of {customer!r} in force at {at.isoformat()} shares {device!r}"
        " (its plan needs a sharing section)"
    )


@dataclass(frozen=True, slots=True)
class Unsettled:
    """A period of a subscription whose sales could not be settled, and why."""

    subscription: str
    period: Period
    reason: str


@dataclass
class SettlementReport:
    """What the settlement job did: the settlements stored, the periods left unsettled."""

    settled: list[Settlement] = field(default_factory=list)
    unsettled: list[Unsettled] = field(default_factory=list)


def settle_sales(uow: UnitOfWork, *, as_of: datetime, now: datetime) -> SettlementReport:
    """Settle, in one transaction, the sales of every period ended by ``as_of`` stored and
    not settled yet; ``now`` is when (see the module's docstring).

    A handful of statements, whatever the number of periods: the buyers, the
    settlements, the subscriptions, customers and plan versions (each once); the
    count of the sale events of every period settled before, in one query, beside
    the number its settlements settled; the events of the periods to settle, in one
    more; the events that correct or void sales settled before, when some are gone,
    in one more.
    """
    from iotbill.services.billing import event_scopes  # the bill run calls this module

    as_of, now = require_aware(as_of, "as_of"), require_aware(now, "now")
    report = SettlementReport()
    with uow:
        uow.invoices.hold()  # a bill run at once waits, then sees these settlements
        registered = uow.sharing.buyers()
        if not registered:
            return report  # no buyer, so nothing can be sold
        buyers = {(buyer.device_id, buyer.code): buyer for buyer in registered}
        customers = {customer.id: customer for customer in uow.customers.list()}
        due = _due(uow, as_of, now, event_scopes)
        checks = [index for index, period in enumerate(due) if period.before]
        counts = uow.events.count_many([due[index].current for index in checks])
        unchanged = {
            index
            for index, count in zip(checks, counts, strict=True)
            if count == len(due[index].settled_ids)
        }
        due = [period for index, period in enumerate(due) if index not in unchanged]
        tables = uow.events.load_many([period.current for period in due])
        gone = [period.gone(current) for period, current in zip(due, tables, strict=True)]
        missing = sorted({id for ids in gone for id in ids})
        replaced = uow.events.replaced(missing) if missing else {}
        charges: list[OneOffCharge] = []
        entries: list[LedgerEntry] = []
        for period, current, ids in zip(due, tables, gone, strict=True):
            if ids:
                reason = period.held(ids, replaced)
                report.unsettled.append(Unsettled(period.subscription.id, period.span, reason))
                continue
            try:
                settlement = period.settle(current, buyers, customers, now)
            except InvalidInput as error:
                report.unsettled.append(Unsettled(period.subscription.id, period.span, str(error)))
                continue
            if settlement is None:
                continue
            report.settled.append(settlement)
            charges.extend(settlement_charges(settlement, customers[settlement.customer_id].zone))
            entries.extend(settlement_entries(settlement))
        uow.sharing.add_settlements(report.settled)
        for charge in charges:
            uow.one_off_charges.add(charge)
        uow.credits.add_entries(entries)
        uow.commit()
    return report


@dataclass(frozen=True, slots=True)
class _Period:
    """A period of a subscription on a plan with sharing terms, ended, to settle (again)."""

    subscription: Subscription
    span: Period
    plan: Plan
    terms: SharingTerms
    scope: EventScope
    before: tuple[Settlement, ...]
    billed_at: datetime

    @property
    def meter(self) -> Meter:
        return Meter("sales", self.terms.event_type, "sum", self.terms.quantity)

    @property
    def current(self) -> EventWindow:
        """Its sales known now."""
        return EventWindow(self.scope, (self.meter,), self.span)

    @property
    def settled_ids(self) -> set[str]:
        """The sales its earlier settlements settled."""
        return {id for settlement in self.before for id in settlement.event_ids}

    def gone(self, current: EventTable) -> list[str]:
        """The sales its earlier settlements settled that are no longer among its sales in
        ``current``: corrected or voided since (or moved out of the period or scope)."""
        known = {event.id for event in current.events if event.timestamp in self.span}
        return sorted(self.settled_ids - known)

    def held(self, gone: Sequence[str], replaced: dict[str, str]) -> str:
        """Why the period is held: the settled sales in ``gone`` (each with the event that
        corrects or voids it, from ``replaced``) would need reversing, which is not done."""
        settled_by = {id: s.id for s in self.before for id in s.event_ids}
        named = ", ".join(
            f"event {id!r} (settled by {settled_by[id]!r})"
            + (
                f" was corrected or voided by {replaced[id]!r} since"
                if id in replaced
                else " is no longer among its sales"
            )
            for id in gone
        )
        return (
            f"{named}: a settled sale is not reversed, so the period is held (its later"
            " sales too); bill the difference by hand, with one-off charges"
        )

    def last(self) -> Settlement:
        return max(self.before, key=lambda settlement: settlement.number)

    def settle(
        self,
        current: EventTable,
        buyers: dict[tuple[str, str], AssetBuyer],
        customers: dict[str, Customer],
        now: datetime,
    ) -> Settlement | None:
        """The next settlement: every sale in ``current`` that the earlier settlements did
        not settle; ``None`` when there is nothing new. :class:`InvalidInput` naming a
        sale that cannot be settled, or a buyer in another currency."""
        span, plan = self.span, self.plan
        known = [event for event in current.events if event.timestamp in span]  # it may hold more
        sales = new_sales(read_sales(known, self.terms), self.settled_ids)
        lines = sold_lines(sales, buyers, plan.currency)
        owner = self.subscription.customer_id
        for line in lines:
            if line.customer_id is None:
                continue
            buyer = customers[line.customer_id]
            wrong = buyer_problem(owner, buyer.id, buyer.currency, plan.currency)
            if wrong is not None:
                raise InvalidInput.at(f"buyer {line.buyer!r} of {line.device_id!r}", wrong)
        if self.before and not lines:
            return None
        number = self.last().number + 1 if self.before else 1
        return Settlement(
            id=settlement_id(self.subscription.id, span, number),
            subscription_id=self.subscription.id,
            customer_id=owner,
            period=span,
            number=number,
            settled_at=now,
            billed_at=self.billed_at,
            currency=plan.currency,
            share=self.terms.share,
            unit=self.terms.unit,
            lines=lines,
            event_ids=tuple(sale.event_id for sale in sales),
        )


def _due(
    uow: UnitOfWork,
    as_of: datetime,
    now: datetime,
    scopes_of: Callable[[Sequence[Subscription]], dict[str, EventScope]],
) -> list[_Period]:
    """Every ended period of a subscription on a plan with sharing terms then, with its
    settlements so far; a late one is billed at the end of the last period ended."""
    earlier: defaultdict[tuple[str, datetime], list[Settlement]] = defaultdict(list)
    for stored in uow.sharing.settlements():
        earlier[(stored.subscription_id, stored.period.start)].append(stored)
    subscriptions = uow.subscriptions.list()
    scopes = scopes_of(subscriptions)
    customers = {customer.id: customer for customer in uow.customers.list()}
    plans: dict[tuple[str, int], Plan] = {}
    found: list[_Period] = []
    for subscription in subscriptions:
        spans = list(closed_spans(subscription, customers[subscription.customer_id], as_of))
        for span in spans:
            phase = subscription.phase_at(span.start)
            if phase is None:
                continue
            if phase.plan_key not in plans:
                plans[phase.plan_key] = uow.plans.get(phase.plan_code, phase.plan_version).plan
            plan = plans[phase.plan_key]
            if plan.sharing is None:
                continue
            before = tuple(earlier[(subscription.id, span.start)])
            found.append(
                _Period(
                    subscription,
                    span,
                    plan,
                    plan.sharing,
                    scopes[subscription.id],
                    before,
                    spans[-1].end if before else span.end,
                )
            )
    return found


def closed_spans(
    subscription: Subscription, customer: Customer, as_of: datetime
) -> Iterator[Period]:
    """The billing periods of ``subscription`` ended by ``as_of``, each cut to when it
    ran (its start, its end)."""
    cycle = subscription.cycle(customer.timezone)
    period = cycle.period_containing(subscription.start)
    end = subscription.end
    while True:
        span = Period(
            max(period.start, subscription.start),
            period.end if end is None else min(period.end, end),
        )
        if span.end > as_of or span.start >= span.end:
            return
        yield span
        if end is not None and span.end >= end:
            return
        period = cycle.next_period(period)


@dataclass(frozen=True, slots=True)
class PayoutStatement:
    """What ``customer``'s assets sold in the period holding ``on``, per asset."""

    customer: Customer
    on: datetime
    settlements: tuple[Settlement, ...]
    assets: tuple[AssetStatement, ...]

    def as_json(self) -> dict[str, Any]:
        money = self.customer.currency
        periods = sorted({settlement.period for settlement in self.settlements}, key=str)
        return {
            "customer": self.customer.id,
            "currency": money.code,
            "on": self.on.isoformat(),
            "periods": [
                {"start": period.start.isoformat(), "end": period.end.isoformat()}
                for period in periods
            ],
            "share": sorted({str(settlement.share) for settlement in self.settlements}),
            "settlements": [
                {
                    "id": settlement.id,
                    "number": settlement.number,
                    "late": settlement.late,
                    "settled_at": settlement.settled_at.isoformat(),
                    "billed_at": settlement.billed_at.isoformat(),
                }
                for settlement in self.settlements
            ],
            "assets": [asset.as_json(money) for asset in self.assets],
            "totals": {
                "revenue": _money_sum(self, "revenue"),
                "credit": _money_sum(self, "credit"),
                "operator": _money_sum(self, "operator"),
            },
        }


def _money_sum(statement: PayoutStatement, name: str) -> str:
    total = sum((getattr(asset, name) for asset in statement.assets), Decimal(0))
    return format_money(total, statement.customer.currency)


def payout_statement(
    uow: UnitOfWork, *, customer: str, period: Moment, device: str | None = None
) -> PayoutStatement:
    """What ``customer``'s assets (or only ``device``) sold in the billing period holding
    ``period`` (a date: the customer's local midnight), over every settlement of it.

    :class:`~iotbill.domain.errors.NotFound` for an unknown customer or device;
    :class:`InvalidInput` at ``asset`` for a device the customer never owned.
    """
    with uow:
        owner = uow.customers.get(customer)
        on = instant_for(period, owner, "period")
        if device is not None and customer not in {
            entry.customer_id for entry in uow.devices.get(device).ownership
        }:
            raise InvalidInput.at("asset", f"device {device!r} never belonged to {customer!r}")
        chosen = tuple(
            settlement
            for settlement in uow.sharing.settlements(customer)
            if on in settlement.period
        )
    assets = asset_statements(chosen)
    if device is not None:
        assets = [asset for asset in assets if asset.device_id == device]
    return PayoutStatement(owner, on, chosen, tuple(assets))
