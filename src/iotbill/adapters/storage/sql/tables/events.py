"""The tables of usage: the events, their roll-ups, and the entitlement alerts."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

from iotbill.adapters.storage.sql.tables.schema import (
    ExactDecimal,
    Measures,
    Micros,
    _tenant_key,
    metadata,
)

usage_events = Table(
    "usage_events",
    metadata,
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    # No foreign key to tenants: PostgreSQL would check it row by row on every
    # bulk insert, and the store only ever writes its own tenant's id here. On
    # PostgreSQL the indexed text columns have the "C" collation (migration 0002).
    Column("tenant_id", Integer, nullable=False),
    Column("event_id", String(256), nullable=False),
    Column("event_type", String(256), nullable=False),
    Column("device_id", String(256), nullable=False),
    Column("customer_id", String(128), nullable=False),
    Column("occurred_at", Micros, nullable=False),
    Column("received_at", Micros, nullable=False),
    Column("properties", Text, nullable=False),
    Column("measures", Measures, nullable=False),
    # An event that corrects or voids an earlier one names it (migration 0003); the
    # unique index holds only such events, and an event is named once.
    Column("replaces", String(256), nullable=True),
    Column("is_void", Boolean, nullable=False, server_default=false()),
    UniqueConstraint("tenant_id", "event_id"),
    Index(None, "tenant_id", "customer_id", "event_type", "occurred_at"),
    Index(
        None,
        "tenant_id",
        "replaces",
        unique=True,
        sqlite_where=text("replaces IS NOT NULL"),
        postgresql_where=text("replaces IS NOT NULL"),
    ),
)


def _usage_rollup(name: str, bucket: str) -> Table:
    """A roll-up of usage by ``bucket`` (a day or an hour since 1970, UTC): derived from
    usage_events by the event store, in the same transaction as every change to them (see
    ``rollups``); no foreign key, as usage_events has none."""
    return Table(
        name,
        metadata,
        Column("tenant_id", Integer, nullable=False),
        Column("customer_id", String(128), nullable=False),
        Column("event_type", String(256), nullable=False),
        Column(bucket, BigInteger, nullable=False),
        Column("property", String(256), nullable=False),
        Column("events", BigInteger, nullable=False),
        Column("high", BigInteger, nullable=False),
        Column("low", BigInteger, nullable=False),
        Column("slot", Integer, nullable=False, server_default=text("0")),
        PrimaryKeyConstraint("tenant_id", "customer_id", "event_type", "property", bucket, "slot"),
    )


usage_rollups = _usage_rollup("usage_rollups", "day")
usage_rollup_hours = _usage_rollup("usage_rollup_hours", "hour")  # of the recent events only

entitlement_alerts = Table(
    "entitlement_alerts",
    metadata,
    *_tenant_key("entitlement_alerts"),
    Column("subscription_id", String(128), nullable=False),
    Column("feature", String(128), nullable=False),
    Column("counted_from", Micros, nullable=False),
    Column("percent", ExactDecimal, nullable=False),
    Column("customer_id", String(128), nullable=False),
    Column("used", ExactDecimal, nullable=False),
    Column("allowance", ExactDecimal, nullable=False),
    Column("reached_at", Micros, nullable=False),
    PrimaryKeyConstraint("tenant_id", "subscription_id", "feature", "counted_from", "percent"),
    Index(None, "tenant_id", "customer_id"),
)
