"""The SQL repository of subscriptions, with their phases.

Each repository reads and writes only its unit of work's tenant. Adding an id
that exists is a :class:`Conflict`; naming a customer, device, plan version or
invoice that does not exist is :class:`NotFound` (checked before writing, so
the message names what is missing; the foreign keys stay as the last guard).
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import and_, delete, insert, select, update

from iotbill.adapters.storage.sql import tables as t
from iotbill.adapters.storage.sql.analytics import plans_in_service_statement
from iotbill.adapters.storage.sql.repository import (
    Repository,
    chunks,
    instant,
    micros,
)
from iotbill.adapters.storage.sql.statistics import refresh_outgrown
from iotbill.domain.billing_cycles import BillingMode
from iotbill.domain.catalog import ContractTerms, Interval
from iotbill.domain.errors import NotFound
from iotbill.domain.periods import from_micros, require_aware, to_micros
from iotbill.domain.subscriptions import (
    Cancellation,
    CancelReason,
    CancelTiming,
    Pause,
    Phase,
    PlanKey,
    Subscription,
)
from iotbill.services.ports import Paging


class SqlSubscriptionRepository(Repository):
    def add(self, subscription: Subscription) -> None:
        self._refuse_taken(t.subscriptions, "subscription", subscription.id)
        self._require(t.customers, "customer", id=subscription.customer_id)
        self._execute(
            insert(t.subscriptions).values(tenant_id=self._tenant_id(), **_columns(subscription))
        )
        self._insert_phases(subscription)

    def save(self, subscription: Subscription) -> None:
        self._require(t.subscriptions, "subscription", id=subscription.id)
        subs, phases = t.subscriptions, t.subscription_phases
        self._execute(
            update(subs)
            .where(self._mine(subs), subs.c.id == subscription.id)
            .values(**_columns(subscription))
        )
        self._execute(
            delete(phases).where(self._mine(phases), phases.c.subscription_id == subscription.id)
        )
        self._insert_phases(subscription)

    def _insert_phases(self, subscription: Subscription) -> None:
        for phase in subscription.phases:
            self._require(t.plans, "plan version", code=phase.plan_code, version=phase.plan_version)
        self._execute(
            insert(t.subscription_phases),
            [
                {
                    "tenant_id": self._tenant_id(),
                    "subscription_id": subscription.id,
                    "start": to_micros(phase.start),
                    "plan_code": phase.plan_code,
                    "plan_version": phase.plan_version,
                }
                for phase in subscription.phases
            ],
        )

    def get(self, id: str) -> Subscription:
        found = self._load_joined(t.subscriptions.c.id == id)
        if not found:
            raise NotFound(f"unknown subscription {id!r}")
        return found[0]

    def list(
        self,
        customer: str | None = None,
        paging: Paging[str] | None = None,
        *,
        plan: str | None = None,
    ) -> list[Subscription]:
        subs, phases = t.subscriptions, t.subscription_phases
        conditions = [] if customer is None else [subs.c.customer_id == customer]
        if plan is not None:
            on_plan = select(phases.c.subscription_id).where(
                self._mine(phases), phases.c.plan_code == plan
            )
            conditions.append(subs.c.id.in_(on_plan))
        mine = and_(*conditions) if conditions else None
        if paging is not None or plan is not None:
            return self._load(mine, paging)
        if mine is None:
            return self._load(None)
        return self._load_joined(mine)

    def owners(self) -> builtins.list[tuple[str, str]]:
        subs = t.subscriptions
        statement = (
            select(subs.c.id, subs.c.customer_id).where(self._mine(subs)).order_by(subs.c.id)
        )
        return [(row.id, row.customer_id) for row in self._execute(statement)]

    def for_customers(self, customers: Sequence[str]) -> builtins.list[Subscription]:
        # A bill run's batches: planned on tables never analyzed, each array of ids was
        # checked against every row (2 s of a PostgreSQL bill run of 10,000).
        tables = [t.subscriptions, t.subscription_phases]
        refresh_outgrown(self._connection(), tables, len(customers))
        # On the driver's cursor: every ingest (each request of POST /v1/events) reads
        # its customers' subscriptions, and building the statements through SQLAlchemy
        # cost more than running them.
        rows = list(map(_SubscriptionRow._make, self._rows_in(_SUBSCRIPTIONS, customers)))
        phases: dict[str, list[tuple[int, Phase]]] = {}
        if rows:
            for subscription_id, start, code, version in self._rows_in(
                _PHASES, [row.id for row in rows]
            ):
                phase = Phase(code, version, from_micros(start))
                phases.setdefault(subscription_id, []).append((start, phase))
        found = [
            _subscription(row, tuple(phase for _, phase in sorted(phases.get(row.id, ()))))
            for row in rows
        ]
        return sorted(found, key=lambda subscription: subscription.id)

    def plans_in_service(self, at: datetime) -> builtins.list[PlanKey]:
        statement = plans_in_service_statement(self._tenant_id(), require_aware(at, "at"))
        return [(row.plan_code, int(row.plan_version)) for row in self._execute(statement)]

    def _load(
        self, condition: Any, paging: Paging[str] | None = None
    ) -> builtins.list[Subscription]:
        subs, phases = t.subscriptions, t.subscription_phases
        statement = select(subs).where(self._mine(subs))
        if condition is not None:
            statement = statement.where(condition)
        rows = self._execute(self._page(statement, [subs.c.id], paging)).all()
        # The phases of the rows found, by their ids: a join to the condition's
        # subquery is planned as a nested loop on a table not yet analyzed.
        by_subscription: dict[str, list[Phase]] = {}
        every = condition is None and paging is None
        chosen = [None] if every else chunks(row.id for row in rows)
        for chunk in chosen:
            phase_statement = select(phases).where(self._mine(phases)).order_by(phases.c.start)
            if chunk is not None:
                phase_statement = phase_statement.where(
                    self._among(phases.c.subscription_id, chunk)
                )
            for row in self._execute(phase_statement):
                phase = Phase(row.plan_code, row.plan_version, from_micros(row.start))
                by_subscription.setdefault(row.subscription_id, []).append(phase)
        return [_subscription(row, tuple(by_subscription.get(row.id, ()))) for row in rows]

    def _load_joined(self, condition: Any) -> builtins.list[Subscription]:
        """The few subscriptions of ``condition`` (one id, one customer's) with their phases,
        in one query: a row per phase. (For many, :meth:`_load` reads the phases apart.)"""
        subs, phases = t.subscriptions, t.subscription_phases
        statement = (
            select(
                subs,
                phases.c.start.label("phase_start"),
                phases.c.plan_code,
                phases.c.plan_version,
            )
            .outerjoin(
                phases,
                and_(phases.c.tenant_id == subs.c.tenant_id, phases.c.subscription_id == subs.c.id),
            )
            .where(self._mine(subs), condition)
            .order_by(subs.c.id, phases.c.start)
        )
        rows: dict[str, tuple[Any, builtins.list[Phase]]] = {}
        for row in self._execute(statement):
            _, found = rows.setdefault(row.id, (row, []))
            if row.phase_start is not None:
                found.append(Phase(row.plan_code, row.plan_version, from_micros(row.phase_start)))
        return [_subscription(row, tuple(found)) for row, found in rows.values()]


def _columns(subscription: Subscription) -> dict[str, Any]:
    cancellation = subscription.cancellation
    return {
        "id": subscription.id,
        "customer_id": subscription.customer_id,
        "device_id": subscription.device_id,
        "interval": subscription.interval,
        "billing_mode": subscription.billing_mode,
        "start": to_micros(subscription.start),
        "trial_end": micros(subscription.trial_end),
        "cancel_timing": None if cancellation is None else cancellation.timing,
        "cancel_requested_at": None
        if cancellation is None
        else to_micros(cancellation.requested_at),
        "cancel_effective_at": None
        if cancellation is None
        else to_micros(cancellation.effective_at),
        "cancel_reason": None if cancellation is None else cancellation.reason,
        "contract": None
        if subscription.contract is None
        else json.dumps(subscription.contract.as_json()),
        "pauses": json.dumps(
            [[to_micros(pause.start), micros(pause.end)] for pause in subscription.pauses]
        ),
    }


class _SubscriptionRow(NamedTuple):
    """A row of ``subscriptions`` read on the driver's cursor, its columns by name."""

    tenant_id: int
    id: str
    customer_id: str
    device_id: str | None
    interval: str
    billing_mode: str
    start: int
    trial_end: int | None
    cancel_timing: str | None
    cancel_requested_at: int | None
    cancel_effective_at: int | None
    pauses: str
    cancel_reason: str | None
    contract: str | None


_SUBSCRIPTIONS = (
    f"SELECT {', '.join(_SubscriptionRow._fields)}"
    " FROM subscriptions WHERE tenant_id = ? AND customer_id IN ({})"
)
"""The subscriptions of some customers (for ``_rows_in``)."""
_PHASES = (
    "SELECT subscription_id, start, plan_code, plan_version FROM subscription_phases"
    " WHERE tenant_id = ? AND subscription_id IN ({})"
)
"""The phases of some subscriptions (for ``_rows_in``)."""


def _subscription(row: Any, phases: tuple[Phase, ...]) -> Subscription:
    cancellation = None
    if row.cancel_timing is not None:
        cancellation = Cancellation(
            cast(CancelTiming, row.cancel_timing),
            from_micros(row.cancel_requested_at),
            from_micros(row.cancel_effective_at),
            cast(CancelReason, row.cancel_reason or "requested"),
        )
    return Subscription(
        id=row.id,
        customer_id=row.customer_id,
        interval=cast(Interval, row.interval),
        start=from_micros(row.start),
        phases=phases,
        billing_mode=cast(BillingMode, row.billing_mode),
        device_id=row.device_id,
        trial_end=instant(row.trial_end),
        cancellation=cancellation,
        contract=None
        if row.contract is None
        else ContractTerms.from_json(json.loads(row.contract)),
        pauses=tuple(
            Pause(from_micros(start), instant(end)) for start, end in json.loads(row.pauses)
        ),
    )
