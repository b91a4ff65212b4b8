"""API keys: create (the secret shown once), list, revoke, and authenticate.

The secret is made here from the operating system's randomness (:mod:`secrets`,
256 bits) and only its digest is stored; the key id, also random, is public.
Authenticating reads the key by its id across tenants, compares the digest in
constant time, and gives the key (its tenant and scopes) or ``None``: an
unknown id, a wrong secret and a revoked key look the same to the caller.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterable
from dataclasses import dataclass

from iotbill.domain.api_keys import KEY_ID_LENGTH, ApiKey, digest, key_text, parse_scopes, split_key
from iotbill.services.ports import Clock, UnitOfWork, UnitOfWorkFactory

_ID_ALPHABET = string.ascii_lowercase + string.digits


@dataclass(frozen=True, slots=True)
class CreatedKey:
    """A new key and its full text, which is shown this once and never stored."""

    key: ApiKey
    text: str


def create_key(
    uow: UnitOfWork,
    *,
    name: str,
    scopes: Iterable[str],
    clock: Clock,
    party: str | None = None,
) -> CreatedKey:
    """A new key of the unit of work's tenant with ``scopes``; every problem reported at once.
    With ``party`` (a customer of the tenant, else :class:`NotFound`) the key acts for that
    customer only: it sees its objects and nothing else (``docs/api.md``)."""
    parsed = parse_scopes(list(scopes))
    key_id = "".join(secrets.choice(_ID_ALPHABET) for _ in range(KEY_ID_LENGTH))
    secret = secrets.token_urlsafe(32)
    with uow:
        uow.tenants.get(uow.tenant)  # an unknown tenant is NotFound, before anything is made
        if party is not None:
            uow.customers.get(party)
        key = ApiKey.create(
            id=key_id,
            tenant=uow.tenant,
            name=name,
            scopes=parsed,
            secret_digest=digest(secret),
            created_at=clock.now(),
            party=party,
        )
        uow.api_keys.add(key)
        uow.commit()
    return CreatedKey(key, key_text(key_id, secret))


def list_keys(uow: UnitOfWork) -> list[ApiKey]:
    """The tenant's keys, revoked ones included, oldest first."""
    with uow:
        uow.tenants.get(uow.tenant)
        return uow.api_keys.list()


def revoke_key(uow: UnitOfWork, id: str, *, clock: Clock) -> ApiKey:
    """Revoke the tenant's key ``id`` from now on; :class:`NotFound` if it has none such."""
    with uow:
        revoked = uow.api_keys.get(id).revoke(clock.now())
        uow.api_keys.save(revoked)
        uow.commit()
    return revoked


def authenticate(uow_factory: UnitOfWorkFactory, presented: str, directory: str) -> ApiKey | None:
    """The active key whose text is ``presented``, or ``None``.

    ``directory`` is any tenant code that exists (the lookup crosses tenants).
    """
    parts = split_key(presented)
    if parts is None:
        return None
    key_id, secret = parts
    with uow_factory(directory, read_only=True) as uow:
        key = uow.api_keys.find(key_id)
    if key is None or not key.active or not key.matches(secret):
        return None
    return key


def active_key(uow_factory: UnitOfWorkFactory, key_id: str, directory: str) -> ApiKey | None:
    """The unrevoked key ``key_id`` of any tenant, or ``None`` (a dashboard session's key).

    ``directory`` is any tenant code that exists (the lookup crosses tenants).
    """
    with uow_factory(directory, read_only=True) as uow:
        key = uow.api_keys.find(key_id)
    return key if key is not None and key.active else None
