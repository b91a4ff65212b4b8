"""The upcoming invoice: what a subscription's open period would bill if it closed now.

``upcoming_invoice(uow, "sub-1", now=...)`` prices the billing period that
contains ``now`` (the system's clock, or an instant a user names) exactly as
the bill run prices its period-close invoice, with the same functions, and
writes nothing:

* the period's arrears (arrears fees, usage of every event stored so far,
  minimums) and the next period's advance fees
  (:func:`~iotbill.domain.subscription_billing.period_close_lines`), over the
  events of the subscription's scope (its device's, or its customer's but for
  the devices billed on their own subscriptions: the bill run's
  :func:`~iotbill.services.billing.event_scopes`);
* the late-usage adjustments the bill run would add on finalizing it: for each
  earlier period finalized without events that have arrived since, the
  difference (:func:`~iotbill.domain.late_events.late_usage_adjustments`);
* the customer's tax rate now.

So when no more events arrive, the invoice the bill run issues for the period
has the same lines and total (tested). The draft returned has the id that
invoice will have, is issued at the period's end, and has no number.

A subscription with no open period (``now`` before its start, or after its
end) is a :class:`~iotbill.domain.errors.Conflict` saying when it starts or
ended.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from iotbill.domain.documents import document_id, finalized_before, usage_changed
from iotbill.domain.errors import Conflict
from iotbill.domain.invoices import DocumentKind, Invoice
from iotbill.domain.invoicing import InvoiceLine
from iotbill.domain.late_events import late_usage_adjustments
from iotbill.domain.periods import Period, require_aware
from iotbill.domain.subscription_billing import PlanVersions, period_close_lines
from iotbill.domain.subscriptions import Subscription
from iotbill.services.billing import event_scopes
from iotbill.services.ports import EventScope, EventWindow, UnitOfWork
from iotbill.services.subscription_bills import DAWN, seen_by


def upcoming_invoice(uow: UnitOfWork, subscription_id: str, *, now: datetime) -> Invoice:
    """The draft that the period containing ``now`` would close into; nothing is stored.

    :class:`~iotbill.domain.errors.NotFound` for an unknown subscription.
    """
    now = require_aware(now, "now")
    with uow:
        subscription = uow.subscriptions.get(subscription_id)
        customer = uow.customers.get(subscription.customer_id)
        plans: PlanVersions = {
            phase.plan_key: uow.plans.get(phase.plan_code, phase.plan_version).plan
            for phase in subscription.phases
        }
        if now < subscription.start:
            raise Conflict(
                f"subscription {subscription.id} starts at {subscription.start.isoformat()}:"
                " no period is open yet"
            )
        if subscription.end is not None and now >= subscription.end:
            raise Conflict(
                f"subscription {subscription.id} ended at {subscription.end.isoformat()}:"
                " no period is open"
            )
        period = subscription.cycle(customer.timezone).period_containing(now)
        siblings = uow.subscriptions.for_customers([subscription.customer_id])
        scope = event_scopes(siblings)[subscription.id]
        meters = tuple(meter for plan in plans.values() for meter in plan.meters)
        window = EventWindow(scope, meters, period)  # every event stored so far
        (table,) = uow.events.load_many([window])
        lines = period_close_lines(subscription, customer, plans, period, table)
        lines.extend(_late_adjustments(uow, subscription, plans, scope, period))
    return Invoice.draft(
        id=document_id(subscription.id, DocumentKind.CLOSE, period.start),
        kind=DocumentKind.CLOSE,
        customer=customer,
        subscription_id=subscription.id,
        period=period,
        lines=lines,
        issued_at=period.end,
    )


def _late_adjustments(
    uow: UnitOfWork,
    subscription: Subscription,
    plans: PlanVersions,
    scope: EventScope,
    period: Period,
) -> list[InvoiceLine]:
    """What finalizing the period-close invoice of ``period`` now would add for
    events received after the earlier periods were finalized (as the bill run does)."""
    earlier = finalized_before(uow.invoices.summaries([subscription.id]), period)
    if not earlier:
        return []
    customer = uow.customers.get(subscription.customer_id)
    meters = tuple(meter for plan in plans.values() for meter in plan.meters)
    billed_until = max(summary.finalized_at or DAWN for summary in earlier)
    billed = EventWindow(scope, meters, Period(DAWN, period.start), seen_by(billed_until))
    current = replace(billed, received_before=None)
    before, after = uow.events.count_many([billed, current])
    if before == after:
        return []
    windows = [
        replace(window, period=summary.period)
        for summary in earlier
        for window in (billed, current)
    ]
    tables = uow.events.load_many(windows)
    lines: list[InvoiceLine] = []
    for index, summary in enumerate(earlier):
        billed_table, current_table = tables[2 * index], tables[2 * index + 1]
        if not usage_changed(billed_table, current_table):
            continue
        assert summary.number is not None
        lines.extend(
            late_usage_adjustments(
                subscription,
                customer,
                plans,
                summary.period,
                billed=billed_table,
                current=current_table,
                original_number=summary.number,
            )
        )
    return lines
