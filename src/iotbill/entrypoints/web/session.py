"""Sign-in to the dashboard: a tenant's API key, exchanged once for a signed session cookie.

The key is posted in a form body, checked like a bearer key (unknown, wrong
or revoked: refused; it must hold ``billing:read``) and never stored or put in
a URL. The browser keeps the cookie ``iotbill_session`` instead, holding::

    <key id>.<expiry in Unix seconds>.<HMAC-SHA256, hex>

The HMAC is taken with the server's session secret over the key id, the expiry
and the key's stored digest, so a cookie cannot be forged or stretched without
the secret, and a key that is revoked or replaced ends its sessions at once
(every request looks the key up again). The cookie is ``HttpOnly`` (no script
reads it), ``SameSite=Strict`` (no other site's page sends it, which is also
the dashboard's defence against cross-site form posts) and ``Secure`` when the
request came over HTTPS; ``Path=/app``.

Every signed-in request spends a token of the key's rate limit, as the same
key's API requests do; sign-in attempts spend tokens of the caller's address.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from iotbill.domain.api_keys import ApiKey

COOKIE = "iotbill_session"
PATH = "/app"


@dataclass(frozen=True, slots=True)
class Claim:
    """A cookie's parts, well formed and not expired; not yet checked against its key."""

    key_id: str
    expires: int
    signature: str


@dataclass(frozen=True, slots=True)
class SessionSigner:
    """Issues and checks session cookies with ``secret``; a session lasts ``lifetime``."""

    secret: bytes
    lifetime: timedelta

    def issue(self, key: ApiKey, now: datetime) -> str:
        """The cookie value of a new session of ``key``, from ``now``."""
        expires = int((now + self.lifetime).timestamp())
        return f"{key.id}.{expires}.{self._signature(key, expires)}"

    def read(self, value: str, now: datetime) -> Claim | None:
        """The claim of a cookie value, or ``None`` when it is malformed or expired."""
        parts = value.split(".")
        if len(parts) != 3 or not parts[0].isalnum() or not parts[1].isdigit():
            return None
        expires = int(parts[1])
        if datetime.fromtimestamp(expires, UTC) <= now:
            return None
        return Claim(parts[0], expires, parts[2])

    def valid(self, claim: Claim, key: ApiKey) -> bool:
        """Whether ``claim`` was issued by this server for ``key`` as it is now."""
        expected = self._signature(key, claim.expires)
        return key.id == claim.key_id and hmac.compare_digest(expected, claim.signature)

    def _signature(self, key: ApiKey, expires: int) -> str:
        message = f"{key.id}.{expires}.{key.secret_digest}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()
