"""The sale events each settlement of asset sharing settled.

``sale_settlements.event_ids`` is a JSON list of the ids of the sale events a
settlement settled, so a later settlement of the period settles exactly the
others, whatever the order in which concurrent transactions stored them.

A settlement stored before is given the ids the rule before this migration
took as settled: the sale events of its subscription's scope (its device's, or
its customer's but for the devices billed on their own subscriptions) and
period, as the store gives them (corrections applied, voids dropped) when
received up to its ``settled_at``, less those an earlier settlement of the
period took. Without them, the next bill run would settle every such period
again and bill its sales twice. The events are read through the store's own
code, as the settlement job read them; a settlement whose subscription or
sharing terms cannot be found stops the upgrade, naming it, and nothing changes.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 01:10:00.000000
"""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

_JUST_AFTER = timedelta(microseconds=1)
"""A settlement at ``settled_at`` settled the sales received by then, that instant included."""


def upgrade() -> None:
    op.add_column(
        "sale_settlements",
        sa.Column("event_ids", sa.Text(), nullable=False, server_default=sa.text("'[]'")),
    )
    connection = op.get_bind()
    tenants = connection.execute(sa.text("SELECT DISTINCT tenant_id FROM sale_settlements"))
    for (tenant_id,) in tenants.all():
        _fill(connection, tenant_id)


def _fill(connection: sa.Connection, tenant_id: int) -> None:
    """Give each settlement of the tenant the ids of the sale events it settled."""
    from iotbill.adapters.storage.sql.events import SqlEventStore
    from iotbill.adapters.storage.sql.plans import SqlPlanRepository
    from iotbill.adapters.storage.sql.sharing import SqlSharingRepository
    from iotbill.adapters.storage.sql.subscriptions import SqlSubscriptionRepository
    from iotbill.domain.catalog import Meter
    from iotbill.services.billing import event_scopes
    from iotbill.services.ports import EventWindow

    def bound() -> sa.Connection:
        return connection

    def tenant() -> int:
        return tenant_id

    settlements = SqlSharingRepository(bound, tenant).settlements()
    subscriptions = {s.id: s for s in SqlSubscriptionRepository(bound, tenant).list()}
    scopes = event_scopes(list(subscriptions.values()))
    plans = SqlPlanRepository(bound, tenant)
    events = SqlEventStore(bound, tenant)
    taken: dict[tuple[str, object], set[str]] = {}
    for settlement in sorted(
        settlements, key=lambda s: (s.subscription_id, s.period.start, s.number)
    ):
        where = f"settlement {settlement.id!r} (tenant {tenant_id})"
        subscription = subscriptions.get(settlement.subscription_id)
        phase = None if subscription is None else subscription.phase_at(settlement.period.start)
        terms = None
        if phase is not None:
            terms = plans.get(phase.plan_code, phase.plan_version).plan.sharing
        if terms is None:
            raise ValueError(
                f"{where}: no subscription {settlement.subscription_id!r} on a plan with"
                " sharing terms at the start of its period, so the sale events it settled"
                " cannot be told; nothing was upgraded"
            )
        meter = Meter("sales", terms.event_type, "sum", terms.quantity)
        window = EventWindow(
            scopes[settlement.subscription_id],
            (meter,),
            settlement.period,
            settlement.settled_at + _JUST_AFTER,
        )
        (table,) = events.load_many([window])
        before = taken.setdefault((settlement.subscription_id, settlement.period.start), set())
        ids = [
            event.id
            for event in table.events
            if event.timestamp in settlement.period
            and event.type == terms.event_type
            and event.id not in before
        ]
        before.update(ids)
        connection.execute(
            sa.text(
                "UPDATE sale_settlements SET event_ids = :ids"
                " WHERE tenant_id = :tenant AND id = :id"
            ),
            {"ids": json.dumps(ids), "tenant": tenant_id, "id": settlement.id},
        )


def downgrade() -> None:
    with op.batch_alter_table("sale_settlements") as batch_op:
        batch_op.drop_column("event_ids")
