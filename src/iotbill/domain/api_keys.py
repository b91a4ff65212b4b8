"""API keys: who may call the HTTP API, for which tenant, with which scopes.

A key is shown once, as ``iotbill_<key id>_<secret>``: the key id (twelve
lowercase letters and digits) is public and names the key in listings and logs;
the secret is never stored, only its SHA-256 digest. A secret of 256 random
bits needs no slow hash: guessing it is hopeless, so the digest only has to
keep a stolen table from being replayed.

Scopes say what a key may do::

    events:write    send usage events
    billing:read    read customers, devices, plans, subscriptions, invoices, credit notes
    billing:write   create and change them (and read them: billing:write includes billing:read)
    admin           everything, including managing the tenant's API keys

>>> from datetime import UTC
>>> key = ApiKey.create(id="k3y1d0000000", tenant="acme", name="gateway",
...     scopes=parse_scopes(["events:write"]), secret_digest=digest("correct-horse-battery"),
...     created_at=datetime(2026, 1, 1, tzinfo=UTC))
>>> key.allows("events:write"), key.allows("billing:read"), key.matches("correct-horse-battery")
(True, False, True)
>>> split_key("iotbill_k3y1d0000000_correct-horse-battery")
('k3y1d0000000', 'correct-horse-battery')
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal, get_args

from iotbill.domain.errors import Conflict, ProblemCollector

Scope = Literal["events:write", "billing:read", "billing:write", "admin"]
SCOPES: tuple[Scope, ...] = get_args(Scope)
KEY_PREFIX = "iotbill"
KEY_ID_LENGTH = 12
_KEY = re.compile(rf"^{KEY_PREFIX}_([a-z0-9]{{{KEY_ID_LENGTH}}})_([A-Za-z0-9_-]{{16,128}})$")
_IMPLIED: dict[Scope, frozenset[Scope]] = {
    "admin": frozenset(SCOPES),
    "billing:write": frozenset({"billing:write", "billing:read"}),
    "billing:read": frozenset({"billing:read"}),
    "events:write": frozenset({"events:write"}),
}
MAX_NAME_LENGTH = 200


def digest(secret: str) -> str:
    """The SHA-256 digest of a key's secret, as stored (hex)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def split_key(text: str) -> tuple[str, str] | None:
    """The key id and secret of a presented key, or ``None`` if it is not a key's form."""
    match = _KEY.match(text)
    return None if match is None else (match.group(1), match.group(2))


def key_text(key_id: str, secret: str) -> str:
    """The key as shown once to its owner."""
    return f"{KEY_PREFIX}_{key_id}_{secret}"


def parse_scopes(values: Iterable[str], location: str = "scopes") -> frozenset[Scope]:
    """Scopes from their names; :class:`InvalidInput` naming each unknown one."""
    problems = ProblemCollector()
    found: set[Scope] = set()
    for index, value in enumerate(values):
        if value in SCOPES:
            found.add(value)
        else:
            problems.add(
                f"{location}[{index}]", f"unknown scope {value!r} (one of {', '.join(SCOPES)})"
            )
    if not found and not problems:
        problems.add(location, f"give at least one scope ({', '.join(SCOPES)})")
    problems.raise_if_any()
    return frozenset(found)


PARTY_SCOPES: frozenset[Scope] = frozenset({"billing:read", "billing:write"})
"""The scopes a key restricted to one party may hold: it reads and acts on that party's
billing only, never sends events for devices or manages the tenant."""


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A tenant's API key as stored: never its secret, only the secret's digest."""

    id: str
    tenant: str
    name: str
    scopes: frozenset[Scope]
    secret_digest: str
    created_at: datetime
    revoked_at: datetime | None = None
    party: str | None = None
    """The one customer of the tenant this key acts for (a data buyer, a grid operator),
    or ``None`` for a key of the tenant itself."""

    @classmethod
    def create(
        cls,
        *,
        id: str,
        tenant: str,
        name: str,
        scopes: frozenset[Scope],
        secret_digest: str,
        created_at: datetime,
        party: str | None = None,
    ) -> ApiKey:
        problems = ProblemCollector()
        if not re.fullmatch(rf"[a-z0-9]{{{KEY_ID_LENGTH}}}", id):
            problems.add("id", f"must be {KEY_ID_LENGTH} lowercase letters and digits")
        if not name.strip() or len(name) > MAX_NAME_LENGTH:
            problems.add("name", f"must be 1 to {MAX_NAME_LENGTH} characters")
        if not scopes:
            problems.add("scopes", "give at least one scope")
        if party is not None and scopes - PARTY_SCOPES:
            problems.add(
                "scopes",
                f"a key restricted to a party may only hold {' and '.join(sorted(PARTY_SCOPES))},"
                f" not {', '.join(sorted(scopes - PARTY_SCOPES))}",
            )
        problems.raise_if_any()
        return cls(id, tenant, name, scopes, secret_digest, created_at, party=party)

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def allows(self, scope: Scope) -> bool:
        """Whether this key, unrevoked, grants ``scope`` (``admin`` grants every scope)."""
        return self.active and any(scope in _IMPLIED[held] for held in self.scopes)

    def matches(self, secret: str) -> bool:
        """Whether ``secret`` is this key's secret (compared in constant time)."""
        return hmac.compare_digest(digest(secret), self.secret_digest)

    def revoke(self, at: datetime) -> ApiKey:
        """This key revoked from ``at``; :class:`Conflict` if it already is."""
        if self.revoked_at is not None:
            raise Conflict(f"key {self.id} was revoked already, at {self.revoked_at.isoformat()}")
        return replace(self, revoked_at=at)
