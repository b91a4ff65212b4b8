"""SLA credits in a bill run: late visits credited on the period-close invoice, once.

The rules are the domain's (:mod:`iotbill.domain.models.sla`); this module finds
what they apply to. A bill run reads, once per batch and only when a plan of the
batch promises a response time, the work orders of the batch's customers
(:class:`SlaCredits`). Each period-close invoice it finalizes at ``now`` takes
the breaches of its subscription that are settled by ``now``, not credited yet,
and opened in its own period or an earlier one (a work order of the open period
waits for that period's close): one credit line per breach period, before tax.
The work orders are marked with the invoice and their percent in the batch's
transaction (the mark alone: a step recorded since they were read stands), so
a run killed half-way and run again credits each breach exactly once, and a
breach settled after its period was invoiced is credited on the next
period-close invoice, within what its period has left of 100 %.

A breach settled after the subscription's last period-close invoice is not
credited by a bill run (there is no later invoice to carry it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from iotbill.domain.customers import Customer
from iotbill.domain.errors import Conflict
from iotbill.domain.event_table import EventTable
from iotbill.domain.invoicing import InvoiceLine
from iotbill.domain.models.sla import Breach, SlaTerms, credit_line, settled
from iotbill.domain.models.work_orders import WorkOrder
from iotbill.domain.periods import Period
from iotbill.domain.subscription_billing import PlanVersions, lines_covering, span_text
from iotbill.domain.subscriptions import Subscription
from iotbill.services.ports import EventScope, UnitOfWork

FEE_KINDS = frozenset({"fixed_fee", "credit"})
"""The lines of a period that are its service fees: its fixed fees, less their credits."""


def promises_response(plans: PlanVersions) -> bool:
    """Whether any of ``plans`` has an SLA."""
    return any(plan.service is not None and plan.service.sla is not None for plan in plans.values())


def service_fees(
    subscription: Subscription, customer: Customer, plans: PlanVersions, period: Period
) -> Decimal:
    """The period's service fees: the fixed fees the subscription bills for it (advance or
    arrears, prorated), less the credits of a change, pause or cancellation inside it."""
    covering = lines_covering(subscription, customer, plans, period, EventTable.build([]))
    return sum((line.amount for line in covering if line.kind in FEE_KINDS), Decimal(0))


class SlaCredits:
    """The work orders of some customers, read once in a bill run's unit of work; each
    period-close invoice takes its subscription's settled breaches in turn."""

    def __init__(self, uow: UnitOfWork, customers: Sequence[str]) -> None:
        self._uow = uow
        self._orders = {o.id: o for o in uow.work_orders.for_customers(customers)}
        self.credited: list[tuple[WorkOrder, str, Decimal]] = []
        """The work orders taken, each with the invoice that credits it and its percent."""

    def take(
        self,
        subscription: Subscription,
        customer: Customer,
        plans: PlanVersions,
        scope: EventScope,
        invoice_id: str,
        period: Period,
        now: datetime,
    ) -> list[InvoiceLine]:
        """The SLA credit lines of the period-close invoice ``invoice_id`` of
        ``subscription``, closing ``period``, finalized at ``now``; its breaches are
        marked as credited on it."""
        cycle = subscription.cycle(customer.timezone)
        new: defaultdict[Period, list[tuple[WorkOrder, Breach]]] = defaultdict(list)
        before: defaultdict[Period, list[Decimal]] = defaultdict(list)
        for order in self._orders.values():
            terms = _terms(subscription, plans, scope, order)
            if terms is None:
                continue
            breach_period = cycle.period_containing(order.opened_at)
            if order.sla_invoice_id is not None:
                before[breach_period].append(order.sla_percent or Decimal(0))
                continue
            if breach_period.start >= period.end:
                continue
            breach = settled(order, terms, now)
            if breach is not None and breach.percent > 0:
                new[breach_period].append((order, breach))
        lines = []
        for breach_period in sorted(new, key=lambda found: found.start):
            found = new[breach_period]
            line = credit_line(
                breach_period,
                span_text(breach_period, customer.zone),
                service_fees(subscription, customer, plans, breach_period),
                before[breach_period],
                [breach for _, breach in found],
                customer.currency,
            )
            if line is not None:
                lines.append(line)
            for order, breach in found:
                marked = order.credited(invoice_id, breach.percent)
                self._orders[order.id] = marked
                self.credited.append((order, invoice_id, breach.percent))
        return lines

    def write(self) -> None:
        """Mark the breaches taken with their invoices (in the caller's transaction), and
        nothing else of their work orders: a step recorded since they were read stands.

        A breach marked since it was read (by a run that did not wait for this one) is
        :class:`Conflict`: the invoices crediting it roll back with the batch's
        transaction, and the run, run again, credits it once."""
        for order, invoice_id, percent in self.credited:
            if not self._uow.work_orders.mark_credited(
                order.id, invoice=invoice_id, percent=percent
            ):
                raise Conflict(
                    f"work order {order.id} was credited by another bill run meanwhile:"
                    " run the bill run again"
                )
        self.credited = []


def _terms(
    subscription: Subscription, plans: PlanVersions, scope: EventScope, order: WorkOrder
) -> SlaTerms | None:
    """The SLA of ``subscription`` that covers ``order``: its device in the subscription's
    scope, opened while it was in force on a plan with one."""
    if order.customer_id != subscription.customer_id:
        return None
    if scope.devices is not None and order.device_id not in scope.devices:
        return None
    if order.device_id in scope.excluded_devices:
        return None
    end = subscription.end
    if order.opened_at < subscription.start or (end is not None and order.opened_at >= end):
        return None
    phase = subscription.phase_at(order.opened_at)
    if phase is None:
        return None
    service = plans[phase.plan_key].service
    return None if service is None else service.sla
