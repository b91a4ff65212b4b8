"""Idempotency keys: the same key and request give the first answer again.

A client that creates something sends an ``Idempotency-Key``; if the
connection breaks, it sends the same request with the same key again. The
first attempt holds the key (:func:`claim`) in a transaction of its own, runs,
and records its answer (:func:`complete`); a retry then gets that answer, and
nothing is created twice. The rules:

* the same key with another request (method, path or body): :class:`KeyReused`;
* the same key while the first attempt still runs: :class:`KeyInUse` (retry later);
* an attempt that died (its process was killed) holds the key until its
  lease ends; then the next retry runs the request again;
* an attempt that failed with an unexpected error lets the key go
  (:func:`release`), so a retry runs again;
* answers are kept for ``retention`` (24 hours by default), then forgotten.

Running a request again after a lapsed lease is safe for iotbill's creating
requests: each creates by an id that a repeat finds taken (customers,
devices, plans, events) or checks the state it changes (invoices).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from iotbill.domain.errors import Conflict
from iotbill.services.ports import Clock, IdempotencyRecord, UnitOfWorkFactory

DEFAULT_LEASE = timedelta(seconds=60)
DEFAULT_RETENTION = timedelta(hours=24)
MAX_KEY_LENGTH = 255


class KeyReused(Conflict):
    """The key was first sent with another request."""

    code = "idempotency_key_reused"


class KeyInUse(Conflict):
    """The first request with this key is still running."""

    code = "idempotency_key_in_use"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Answer:
    """A recorded answer: status, content type and body text."""

    status: int
    content_type: str
    body: str


@dataclass(frozen=True, slots=True)
class Claim:
    """The hold of one attempt on a key."""

    key: str
    token: str


def claim(
    uow_factory: UnitOfWorkFactory,
    tenant: str,
    key: str,
    fingerprint: str,
    *,
    clock: Clock,
    lease: timedelta = DEFAULT_LEASE,
    retention: timedelta = DEFAULT_RETENTION,
) -> Claim | Answer:
    """Hold ``key`` for this attempt (a :class:`Claim`), or the first attempt's :class:`Answer`.

    :class:`KeyReused` or :class:`KeyInUse` as the module says.
    """
    now = clock.now()
    token = secrets.token_hex(16)
    record = IdempotencyRecord(
        key=key, fingerprint=fingerprint, token=token, locked_until=now + lease, created_at=now
    )
    with uow_factory(tenant) as uow:
        held = uow.idempotency.claim(record, expired_before=now - retention)
        uow.commit()
    if held is None:
        return Claim(key, token)
    if held.fingerprint != fingerprint:
        raise KeyReused(
            f"Idempotency-Key {key!r} was first used with another request"
            " (another method, path or body): use a new key for a new request"
        )
    if held.status is None or held.body is None or held.content_type is None:
        wait = max(1, int((held.locked_until - now).total_seconds()) + 1)
        raise KeyInUse(
            f"the first request with Idempotency-Key {key!r} is still running: retry later",
            retry_after=wait,
        )
    return Answer(held.status, held.content_type, held.body)


def complete(uow_factory: UnitOfWorkFactory, tenant: str, held: Claim, answer: Answer) -> None:
    """Record the answer of the attempt holding ``held``."""
    with uow_factory(tenant) as uow:
        uow.idempotency.complete(
            held.key,
            held.token,
            status=answer.status,
            content_type=answer.content_type,
            body=answer.body,
        )
        uow.commit()


def release(uow_factory: UnitOfWorkFactory, tenant: str, held: Claim) -> None:
    """Let ``held``'s key go without an answer (the attempt failed unexpectedly)."""
    with uow_factory(tenant) as uow:
        uow.idempotency.release(held.key, held.token)
        uow.commit()
