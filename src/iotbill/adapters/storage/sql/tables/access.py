"""The tables of access and delivery: API keys, idempotency records, device credentials,
webhooks."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from iotbill.adapters.storage.sql.tables.schema import (
    Micros,
    _tenant_key,
    metadata,
)

api_keys = Table(
    # A tenant's keys for the HTTP API (migration 0008): the id is public, the
    # secret only kept as its SHA-256 digest; scopes are space-separated names.
    "api_keys",
    metadata,
    *_tenant_key("api_keys"),
    Column("id", String(32), nullable=False),
    Column("name", Text, nullable=False),
    Column("scopes", Text, nullable=False),
    Column("secret_digest", String(64), nullable=False),
    Column("created_at", Micros, nullable=False),
    Column("revoked_at", Micros),
    # The one customer the key acts for (migration 0031), or null: the tenant's own key.
    Column("party", String(256)),
    PrimaryKeyConstraint("id"),
    Index(None, "tenant_id", "id"),
)

idempotency_records = Table(
    # The first answer to each Idempotency-Key of a tenant (migration 0008). While the
    # first request runs, ``status`` is null and ``token`` names the request holding
    # the key until ``locked_until``; afterwards the answer is replayed as stored (on
    # PostgreSQL compressed with LZ4, migration 0036).
    "idempotency_records",
    metadata,
    *_tenant_key("idempotency_records"),
    Column("key", String(256), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("token", String(64), nullable=False),
    Column("locked_until", Micros, nullable=False),
    Column("status", Integer),
    Column("content_type", String(128)),
    Column("body", Text),
    Column("created_at", Micros, nullable=False),
    PrimaryKeyConstraint("tenant_id", "key"),
)

device_credentials = Table(
    "device_credentials",
    metadata,
    *_tenant_key("device_credentials"),
    Column("device_id", String(256), nullable=False),
    Column("issued_at", Micros, nullable=False),
    Column("username", String(400), nullable=False),
    # Mosquitto's "$7$" PBKDF2-SHA512 hash of the secret, never the secret itself.
    Column("secret_hash", String(200), nullable=False),
    Column("revoked_at", Micros),
    PrimaryKeyConstraint("tenant_id", "device_id", "issued_at"),
    ForeignKeyConstraint(["tenant_id", "device_id"], ["devices.tenant_id", "devices.id"]),
)

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    *_tenant_key("webhook_endpoints"),
    Column("id", String(64), nullable=False),
    Column("url", Text, nullable=False),
    Column("events", Text, nullable=False),  # event types, sorted, comma-separated
    # The signing secret itself: iotbill must have it to sign every message.
    Column("secret", String(128), nullable=False),
    Column("created_at", Micros, nullable=False),
    Column("disabled_at", Micros),
    PrimaryKeyConstraint("tenant_id", "id"),
)

webhook_messages = Table(
    "webhook_messages",
    metadata,
    *_tenant_key("webhook_messages"),
    Column("id", String(64), nullable=False),
    Column("type", String(64), nullable=False),
    Column("occurred_at", Micros, nullable=False),
    Column("body", Text, nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    *_tenant_key("webhook_deliveries"),
    Column("id", String(64), nullable=False),
    Column("message_id", String(64), nullable=False),
    Column("endpoint_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", Micros, nullable=False),
    Column("deadline", Micros, nullable=False),
    Column("delivered_at", Micros),
    Column("last_error", Text),
    PrimaryKeyConstraint("tenant_id", "id"),
    ForeignKeyConstraint(
        ["tenant_id", "message_id"], ["webhook_messages.tenant_id", "webhook_messages.id"]
    ),
    ForeignKeyConstraint(
        ["tenant_id", "endpoint_id"], ["webhook_endpoints.tenant_id", "webhook_endpoints.id"]
    ),
    Index(None, "tenant_id", "status", "next_attempt_at"),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    *_tenant_key("webhook_attempts"),
    Column("delivery_id", String(64), nullable=False),
    Column("number", Integer, nullable=False),
    Column("at", Micros, nullable=False),
    Column("status_code", Integer),
    Column("error", Text),
    Column("duration_ms", Integer, nullable=False),
    PrimaryKeyConstraint("tenant_id", "delivery_id", "number"),
    ForeignKeyConstraint(
        ["tenant_id", "delivery_id"], ["webhook_deliveries.tenant_id", "webhook_deliveries.id"]
    ),
)
