"""Bill runs: closing billing periods into invoices, each exactly once.

``bill_run(open_uow, tenant, as_of=..., now=...)`` does, for every subscription:

1. issues the documents whose moment has come by ``as_of`` and that do not
   exist yet: the *opening* invoice (the first period's advance fees), one
   invoice per immediate plan change or migration inside a period, one for an
   immediate cancellation, and one *period-close* invoice per billing period
   that ended at or before ``as_of`` (that period's arrears: usage and arrears
   fees; the next period's advance fees);
2. revises the period-close drafts still in their grace period, so late
   events count while an invoice is a draft;
3. finalizes the drafts whose grace period has ended: their lines are priced
   one last time, late-usage adjustments for earlier, already finalized
   periods are added, and the next gap-free numbers of the tenant's series are
   assigned in the same transaction. A document already due when it is issued
   (no grace left by ``as_of``) is stored finalized at once.

Every document has a kind and a deterministic id
(``sub-1/close/2026-02-01T00:00:00+00:00``); which are owed and when each is
due is decided in the domain (:mod:`iotbill.domain.documents`).
The run takes the subscriptions in id order, ``batch_size`` at a time, and
does each batch in one transaction: its reads, its invoices and the numbers
they take. A batch is stored whole or not at all, so a run that is repeated,
or killed half-way and run again, leaves every invoice exactly once and no
number unused.

A batch costs a handful of statements, whatever its size: the batch's
subscriptions, customers, invoice summaries and coupon redemptions; the usage of every period
it prices (:meth:`~iotbill.services.ports.EventStore.load_for_pricing`): a statement per meter
measuring it for every period priced from quantities alone (``EventWindow.measured``), and one
query for the events of the others;
two counts per period-close invoice that follows finalized periods, in one
more, and the late events re-read only where the counts differ; the numbers
of each series taken at once; the invoices written in bulk. Plan versions never
change, so each is read once per run. The steps of one subscription are in
:mod:`iotbill.services.subscription_bills`.

Before the batches, the sales of shared assets whose periods ended are settled
(:func:`~iotbill.services.sharing.settle_sales`): their buyers' lines and the
owners' credit lines are one-off charges that this run's invoices then bill.

Time: ``as_of`` decides which periods have closed and which drafts are due;
``now`` is when the run happens: invoices are finalized ``at=now`` and see the
events received up to ``now``. Late events are those received after the
invoice of their period was finalized; the next period-close invoice of the
subscription carries the difference as adjustment lines, so what a period
costs over all its invoices always equals its price with every event.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from iotbill.domain.catalog import Plan
from iotbill.domain.coupons import Coupon
from iotbill.domain.discounts import discounts_of
from iotbill.domain.documents import drafts_to_read
from iotbill.domain.errors import Conflict, InvalidInput, NotFound
from iotbill.domain.event_table import EventTable
from iotbill.domain.invoices import Invoice, InvoiceSummary
from iotbill.domain.numbering import NumberSeries
from iotbill.domain.periods import require_aware
from iotbill.domain.subscription_billing import PlanVersions
from iotbill.domain.subscriptions import PlanKey, Subscription
from iotbill.services.balance import Balances, expire_credits
from iotbill.services.cycles import no_collection
from iotbill.services.numbering import take_numbers
from iotbill.services.one_off_charges import PendingCharges
from iotbill.services.ports import (
    EventScope,
    EventWindow,
    UnitOfWork,
    UnitOfWorkFactory,
)
from iotbill.services.sharing import settle_sales
from iotbill.services.sla_credits import SlaCredits, promises_response
from iotbill.services.subscription_bills import RunTimes, SubscriptionBill
from iotbill.services.webhooks import Described, Happened, emit_many, invoice_data

BATCH_SIZE = 500
Progress = Callable[[int, int], None]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Held:
    """A subscription this run could not bill, and why: it is billed by a later run once
    the cause is mended (e.g. the event named voided or corrected)."""

    subscription: str
    reason: str


@dataclass
class BillRunReport:
    """What a bill run did: invoice ids issued and revised, numbers finalized, and the
    subscriptions held back."""

    issued: list[str] = field(default_factory=list)
    revised: list[str] = field(default_factory=list)
    finalized: list[str] = field(default_factory=list)
    held: list[Held] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "issued": self.issued,
            "revised": self.revised,
            "finalized": self.finalized,
            "held": [{"subscription": h.subscription, "reason": h.reason} for h in self.held],
        }


def bill_run(
    open_uow: UnitOfWorkFactory,
    tenant: str,
    *,
    as_of: datetime,
    now: datetime,
    grace: timedelta = timedelta(0),
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
) -> BillRunReport:
    """Close every period that ended by ``as_of``; finalize drafts whose grace has ended.

    ``progress`` is called after each batch with the subscriptions done and their total.
    """
    as_of = require_aware(as_of, "as_of")
    now = require_aware(now, "now")
    if as_of > now:
        raise InvalidInput.at("as_of", f"{as_of} is in the future (now is {now})")
    if grace < timedelta(0):
        raise InvalidInput.at("grace", "must not be negative")
    if batch_size < 1:
        raise InvalidInput.at("batch_size", f"must be at least 1, not {batch_size}")
    times = RunTimes(as_of, now, grace)
    expire_credits(open_uow(tenant), at=now)  # before any invoice of this run uses them
    settled = settle_sales(open_uow(tenant), as_of=as_of, now=now)  # lines for this run
    with open_uow(tenant) as uow:
        listed = uow.subscriptions.owners()
    plans: dict[PlanKey, Plan] = {}
    report = BillRunReport()
    report.held.extend(
        Held(unsettled.subscription, f"sales of {unsettled.period} not settled: {unsettled.reason}")
        for unsettled in settled.unsettled
    )
    for start in range(0, len(listed), batch_size):
        batch = listed[start : start + batch_size]
        with open_uow(tenant) as uow, no_collection():
            uow.devices.hold()  # a device move waits for the batch's invoices, or they see it
            uow.invoices.hold()  # another bill run waits for this batch, then sees it
            done = _bill_batch(uow, batch, times, plans)
            uow.commit()
        report.issued.extend(done.issued)
        report.revised.extend(done.revised)
        report.finalized.extend(done.finalized)
        report.held.extend(done.held)
        if progress:
            progress(start + len(batch), len(listed))
    return report


def _bill_batch(
    uow: UnitOfWork, batch: Sequence[tuple[str, str]], times: RunTimes, plans: dict[PlanKey, Plan]
) -> BillRunReport:
    """Bill the subscriptions ``batch`` (id, customer) in ``uow``; what was done.

    A subscription that cannot be billed is held: nothing of it is written, and
    the others are billed. Whatever the cause: events its meters cannot take (a
    stored event that no meter checked when it came in, e.g. before the
    subscription existed), a plan version that no longer reads, an amount
    beyond what a line may carry, any error in pricing it (:func:`_why`).
    Numbers are taken last, so a held subscription takes none.
    """
    held: list[Held] = []
    bills = _read_bills(uow, batch, times, plans, held)
    asks = []
    for bill in bills:
        try:
            asks.append((bill, bill.pricing_windows()))
        except Exception as error:  # one subscription never stops the others
            held.append(Held(bill.subscription.id, _why(error)))
    priced = []
    for bill, tables in _with_tables(uow, asks):
        try:
            bill.price(tables)
        except Exception as error:  # one subscription never stops the others
            held.append(Held(bill.subscription.id, _why(error)))
        else:
            priced.append(bill)
    adjusted = _adjust_for_late_events(uow, priced, held)
    _number(uow, adjusted)
    report = _write(uow, adjusted)
    report.held.extend(held)
    return report


def _why(error: Exception) -> str:
    """Why a subscription is held: the message of an error iotbill raises on purpose, the
    kind and message of any other (an arithmetic or overflow error in pricing)."""
    if isinstance(error, InvalidInput | NotFound | Conflict):
        return str(error)
    return f"could not be priced ({type(error).__name__}: {error})"


def _read_bills(
    uow: UnitOfWork,
    batch: Sequence[tuple[str, str]],
    times: RunTimes,
    plans: dict[PlanKey, Plan],
    held: list[Held],
) -> list[SubscriptionBill]:
    """The batch's subscriptions, by id, with what billing them needs, read in ``uow``;
    those that cannot be read (a stored plan version that no longer reads) are ``held``."""
    chosen = {subscription_id for subscription_id, _ in batch}
    customer_ids = sorted({customer_id for _, customer_id in batch})
    subscriptions = uow.subscriptions.for_customers(customer_ids)
    customers = uow.customers.find(customer_ids)
    invoices = uow.invoices.summaries(sorted(chosen))
    drafts = uow.invoices.find(drafts_to_read(invoices, times.as_of))
    redeemed = _redeemed(uow, sorted(chosen))
    by_subscription: defaultdict[str | None, list[InvoiceSummary]] = defaultdict(list)
    for summary in invoices:
        by_subscription[summary.subscription_id].append(summary)
    scopes = event_scopes(subscriptions)
    bills = []
    for subscription in subscriptions:
        if subscription.id not in chosen:
            continue
        try:
            bills.append(
                SubscriptionBill(
                    subscription,
                    customers[subscription.customer_id],
                    _plans(uow, subscription, plans),
                    scopes[subscription.id],
                    by_subscription[subscription.id],
                    drafts,
                    times,
                    discounts_of(
                        subscription,
                        customers[subscription.customer_id],
                        redeemed[subscription.id],
                    ),
                )
            )
        except Exception as error:  # one subscription never stops the others
            held.append(Held(subscription.id, _why(error)))
    return bills


def _redeemed(
    uow: UnitOfWork, subscriptions: Sequence[str]
) -> defaultdict[str, list[tuple[Coupon, datetime]]]:
    """The coupons redeemed on each of ``subscriptions``, with when (coupons read only when
    some were redeemed)."""
    found: defaultdict[str, list[tuple[Coupon, datetime]]] = defaultdict(list)
    redemptions = uow.coupons.redemptions(subscriptions=subscriptions)
    if redemptions:
        coupons = {coupon.code: coupon for coupon in uow.coupons.list()}
        for redemption in redemptions:
            found[redemption.subscription_id].append(
                (coupons[redemption.coupon], redemption.redeemed_at)
            )
    return found


def event_scopes(subscriptions: Sequence[Subscription]) -> dict[str, EventScope]:
    """Each subscription's events: its device's, or its customer's but for the devices that
    have subscriptions of their own (all of the customer's are in ``subscriptions``)."""
    billed_alone: defaultdict[str, set[str]] = defaultdict(set)
    for subscription in subscriptions:
        if subscription.device_id is not None:
            billed_alone[subscription.customer_id].add(subscription.device_id)
    return {
        subscription.id: EventScope(
            subscription.customer_id, devices=frozenset({subscription.device_id})
        )
        if subscription.device_id is not None
        else EventScope(
            subscription.customer_id,
            excluded_devices=frozenset(billed_alone[subscription.customer_id]),
        )
        for subscription in subscriptions
    }


def _plans(uow: UnitOfWork, subscription: Subscription, cache: dict[PlanKey, Plan]) -> PlanVersions:
    """The plan versions of the subscription's phases, each read once per run."""
    for phase in subscription.phases:
        if phase.plan_key not in cache:
            cache[phase.plan_key] = uow.plans.get(phase.plan_code, phase.plan_version).plan
    return {phase.plan_key: cache[phase.plan_key] for phase in subscription.phases}


def _with_tables(
    uow: UnitOfWork, asks: Sequence[tuple[T, list[EventWindow]]]
) -> Iterator[tuple[T, list[EventTable]]]:
    """Each asker with the tables of the windows it asked for, all read at once (for use
    in the batch's unit of work only)."""
    tables = iter(
        uow.events.load_for_pricing([window for _, windows in asks for window in windows])
    )
    for asker, windows in asks:
        yield asker, [next(tables) for _ in windows]


def _number(uow: UnitOfWork, bills: Sequence[SubscriptionBill]) -> None:
    """Give the invoices due their numbers: each series' taken at once, then handed out in
    the order of the bills (and of each bill's invoices), as one by one."""
    wanted = Counter[NumberSeries]()
    for bill in bills:
        wanted[bill.series()] += bill.due
    numbers = {
        series: iter(take_numbers(uow, series, count))
        for series, count in sorted(wanted.items())
        if count
    }
    for bill in bills:
        if bill.due:
            bill.number(numbers[bill.series()])


def _adjust_for_late_events(
    uow: UnitOfWork, bills: Sequence[SubscriptionBill], held: list[Held]
) -> list[SubscriptionBill]:
    """Count the events before each check's period as billed and as known now (one query);
    re-read the periods only where the counts differ (another). The bills not held."""
    checks = [(bill, check) for bill in bills for check in bill.late_checks()]
    counts = uow.events.count_many(
        [window for _, check in checks for window in (check.billed, check.current)]
    )
    late = [
        ((bill, check), check.windows())
        for (bill, check), billed, current in zip(checks, counts[::2], counts[1::2], strict=True)
        if billed != current
    ]
    failed: set[str] = set()
    for (bill, check), tables in _with_tables(uow, late):
        if bill.subscription.id in failed:
            continue
        try:
            bill.adjust(check, tables)
            bill.late_invoice(check)
        except Exception as error:  # one subscription never stops the others
            held.append(Held(bill.subscription.id, _why(error)))
            failed.add(bill.subscription.id)
    return [bill for bill in bills if bill.subscription.id not in failed]


def _write(uow: UnitOfWork, bills: Sequence[SubscriptionBill]) -> BillRunReport:
    """Store what the bills issued, revised and finalized, in bulk; report it.

    Each invoice finalized bills its customer's one-off charges not billed yet
    (:class:`PendingCharges`: on the first invoice issued since each was recorded),
    credits the late visits settled (:class:`SlaCredits`, period-close invoices only)
    and uses the customer's credits (:class:`Balances`), in the order finalized;
    the last invoice of a subscription whose service has ended puts its credit,
    if negative, on the customer's balance. The ledger entries and the charges'
    marks are written in the same transaction as the invoices.
    """
    report = BillRunReport()
    added: list[Invoice] = []
    replaced: list[Invoice] = []
    customers = sorted({bill.customer.id for bill in bills})
    balances = Balances(uow, customers)
    charges = PendingCharges(uow, customers)
    sla = SlaCredits(uow, sorted({b.customer.id for b in bills if promises_response(b.plans)}))
    for bill in bills:
        new, stored = bill.writes(charges, sla)
        new = [balances.apply(invoice) for invoice in new]
        stored = [balances.apply(invoice) for invoice in stored]
        added.extend(new)
        replaced.extend(stored)
        finalized = {invoice.id: invoice for invoice in [*new, *stored]}
        for left in bill.credits_left([*new, *stored]):
            if not balances.carried(left.id):
                invoice = finalized.get(left.id) or uow.invoices.get(left.id)
                balances.carry(left, invoice, bill.times.now)
        report.issued.extend(bill.issued)
        report.revised.extend(invoice.id for invoice in bill.revised)
        report.finalized.extend(bill.numbers)
    uow.invoices.add_many(added)
    uow.invoices.replace_drafts(replaced)
    charges.write()
    sla.write()
    balances.write()
    announced = [
        invoice
        for invoice in [*added, *replaced]
        if invoice.status in ("finalized", "paid")  # paid: by the customer's credits
        and invoice.finalized_at is not None
    ]
    emit_many(
        uow, "invoice.finalized", Described(announced, _finalized_message)
    )  # in the batch's transaction: its invoices and their messages commit together
    return report


def _finalized_message(invoice: Invoice) -> Happened:
    assert invoice.finalized_at is not None
    return (invoice.id, invoice_data(invoice), invoice.finalized_at)
