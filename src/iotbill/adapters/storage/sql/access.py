"""API keys and idempotency records in SQL (tables ``api_keys`` and ``idempotency_records``)."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, and_, bindparam, delete, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from iotbill.adapters.storage.sql import tables as t
from iotbill.adapters.storage.sql.repository import Repository, instant, micros
from iotbill.domain.api_keys import ApiKey, Scope
from iotbill.domain.errors import Conflict, NotFound
from iotbill.domain.periods import from_micros, to_micros
from iotbill.services.ports import IdempotencyRecord


class SqlApiKeyRepository(Repository):
    def add(self, key: ApiKey) -> None:
        if self.find(key.id) is not None:
            raise Conflict(f"API key {key.id!r} already exists")
        self._execute(
            insert(t.api_keys).values(
                tenant_id=self._tenant_id(),
                id=key.id,
                name=key.name,
                scopes=" ".join(sorted(key.scopes)),
                secret_digest=key.secret_digest,
                created_at=to_micros(key.created_at),
                revoked_at=micros(key.revoked_at),
                party=key.party,
            )
        )

    def save(self, key: ApiKey) -> None:
        changed = self._execute(
            update(t.api_keys)
            .where(and_(self._mine(t.api_keys), t.api_keys.c.id == key.id))
            .values(revoked_at=micros(key.revoked_at))
        )
        if changed.rowcount == 0:
            raise NotFound(f"unknown API key {key.id!r}")

    def get(self, id: str) -> ApiKey:
        row = self._execute(
            select(t.api_keys, t.tenants.c.code)
            .join(t.tenants, t.tenants.c.id == t.api_keys.c.tenant_id)
            .where(and_(self._mine(t.api_keys), t.api_keys.c.id == id))
        ).first()
        if row is None:
            raise NotFound(f"unknown API key {id!r}")
        return _key(row)

    def list(self) -> builtins.list[ApiKey]:
        rows = self._execute(
            select(t.api_keys, t.tenants.c.code)
            .join(t.tenants, t.tenants.c.id == t.api_keys.c.tenant_id)
            .where(self._mine(t.api_keys))
            .order_by(t.api_keys.c.created_at, t.api_keys.c.id)
        )
        return [_key(row) for row in rows]

    def find(self, id: str) -> ApiKey | None:
        row = self._execute(_FIND_KEY, {"id": id}).first()
        return None if row is None else _key(row)


_FIND_KEY = (
    select(t.api_keys, t.tenants.c.code)
    .join(t.tenants, t.tenants.c.id == t.api_keys.c.tenant_id)
    .where(t.api_keys.c.id == bindparam("id"))
)
"""The key of an id, of any tenant: made once, as every request looks its key up."""


def _key(row: Any) -> ApiKey:
    return ApiKey(
        id=row.id,
        tenant=row.code,
        name=row.name,
        scopes=frozenset(cast(Scope, scope) for scope in row.scopes.split()),
        secret_digest=row.secret_digest,
        created_at=from_micros(row.created_at),
        revoked_at=instant(row.revoked_at),
        party=row.party,
    )


_UNFLUSHED = "(SELECT set_config('synchronous_commit', 'off', true)) AS unflushed"
"""PostgreSQL: a relation whose reading turns ``synchronous_commit`` off for the rest of
the transaction, so that a statement that names it commits without waiting for its flush
to disk. Two statements of a request with an ``Idempotency-Key`` do, each in a
transaction of its own: the hold on a new key, and the answer.

Neither can lose anything that counts. What the request did commits in
transactions of its own, which wait for the flush of the write-ahead log up
to their commit, and so flush the hold's commit, written earlier, too. Lost
in a crash of the database server before that, a hold leaves the key free,
and the retry runs as the first attempt would have. An answer lost so leaves
the key held by an attempt that never answered, exactly as when the service
is killed between the work and its answer: once the lease lapses, a retry
runs the request again, and finds what the first stored (events come back
``duplicate``). It saves two waits for the disk per request, a few
milliseconds each on most disks."""

_HOLD_NEW = text(
    "INSERT INTO idempotency_records"
    " (tenant_id, key, fingerprint, token, locked_until, created_at)"
    " SELECT :tenant_id, :key, :fingerprint, :token, :locked_until, :created_at"
    f" FROM {_UNFLUSHED} ON CONFLICT DO NOTHING RETURNING token"
)
"""PostgreSQL: a new key held in one statement, committed unflushed (:data:`_UNFLUSHED`)."""

_ANSWER = text(
    "UPDATE idempotency_records SET status = :status, content_type = :content_type,"
    f" body = :body FROM {_UNFLUSHED}"
    " WHERE tenant_id = :tenant_id AND key = :key AND token = :token"
)
"""PostgreSQL: the answer recorded, committed unflushed (:data:`_UNFLUSHED`)."""


def _alone(connection: Connection, statement: Any, parameters: dict[str, Any]) -> list[Any]:
    """The rows of ``statement`` (none if it returns none), run in a transaction of its
    own (autocommit) if the unit of work has begun none, else in the one begun.

    One statement of its own needs no ``BEGIN`` nor ``COMMIT``: two round trips
    fewer, the commit being the same. The unit of work's commit then has nothing
    to do, and a statement after this one begins a transaction as usual.
    """
    begun = connection.in_transaction()
    if not begun:
        connection.execution_options(isolation_level="AUTOCOMMIT")
    try:
        result = connection.execute(statement, parameters)
        return list(result) if result.returns_rows else []
    finally:
        if not begun:
            connection.commit()  # ends SQLAlchemy's account of it: the server has committed
            connection.execution_options(isolation_level=connection.default_isolation_level)


class SqlIdempotencyRepository(Repository):
    def __init__(self, connection: Callable[[], Connection], tenant_id: Callable[[], int]):
        super().__init__(connection, tenant_id)

    def claim(
        self, record: IdempotencyRecord, *, expired_before: datetime
    ) -> IdempotencyRecord | None:
        table = t.idempotency_records
        now = to_micros(record.created_at)
        values = {
            "tenant_id": self._tenant_id(),
            "key": record.key,
            "fingerprint": record.fingerprint,
            "token": record.token,
            "locked_until": to_micros(record.locked_until),
            "created_at": now,
        }
        dialect = self._connection().dialect.name
        # A new key, as nearly every one is: held at once, in one statement (on PostgreSQL
        # a statement made once: building one costs about what running it does).
        if dialect == "postgresql":
            held = next(iter(_alone(self._connection(), _HOLD_NEW, values)), None)
            if held is not None:
                return None
        new = (
            (postgresql_insert if dialect == "postgresql" else sqlite_insert)(table)
            .values(**values)
            .on_conflict_do_nothing()
        )
        if dialect != "postgresql" and self._execute(new.returning(table.c.token)).first():
            return None
        this = and_(self._mine(table), table.c.key == record.key)
        # Forget an answer kept longer than the retention, and take over an
        # attempt that stopped (its process died) once its hold has lapsed.
        self._execute(delete(table).where(and_(this, table.c.created_at < micros(expired_before))))
        self._execute(
            update(table)
            .where(and_(this, table.c.status.is_(None), table.c.locked_until < now))
            .values(
                token=record.token,
                fingerprint=record.fingerprint,
                locked_until=to_micros(record.locked_until),
                created_at=now,
            )
        )
        self._execute(new)  # held anew where an answer was forgotten above
        row = self._execute(select(table).where(this)).first()
        assert row is not None
        if row.token == record.token:
            return None
        return IdempotencyRecord(
            key=row.key,
            fingerprint=row.fingerprint,
            token=row.token,
            locked_until=from_micros(row.locked_until),
            created_at=from_micros(row.created_at),
            status=row.status,
            content_type=row.content_type,
            body=row.body,
        )

    def complete(self, key: str, token: str, *, status: int, content_type: str, body: str) -> None:
        table = t.idempotency_records
        if self._connection().dialect.name == "postgresql":
            answer = {"status": status, "content_type": content_type, "body": body}
            tenant_id = self._tenant_id()
            _alone(
                self._connection(),
                _ANSWER,
                {**answer, "tenant_id": tenant_id, "key": key, "token": token},
            )
            return
        self._execute(
            update(table)
            .where(and_(self._mine(table), table.c.key == key, table.c.token == token))
            .values(status=status, content_type=content_type, body=body)
        )

    def release(self, key: str, token: str) -> None:
        table = t.idempotency_records
        self._execute(
            delete(table).where(
                and_(
                    self._mine(table),
                    table.c.key == key,
                    table.c.token == token,
                    table.c.status.is_(None),
                )
            )
        )
