"""Device credentials: the MQTT username and secret a device connects with, and its topics.

A device publishes its usage events to exactly one topic,
``iotbill/{tenant}/devices/{device}/events``, and reads why one was refused on
``iotbill/{tenant}/devices/{device}/rejected``. Its username is
``{tenant}/{device}``; its secret is 256 random bits, shown once when issued
and stored only as a hash in the format Mosquitto's password file reads
(``$7$``: PBKDF2-SHA512, 101 iterations, a 12-byte salt, as
``mosquitto_passwd`` writes it), so the broker checks the secret and iotbill
never keeps it. A slow hash adds nothing to a secret of 256 random bits; the
hash is there so that a copy of the table or of the password file gives
nobody a device's secret.

Tenant codes and device ids become topic levels and ACL entries, so a
credential is issued only for names that are safe there: no ``/``, ``+``,
``#``, ``$`` at the start, whitespace, control characters or ``:``.

>>> events_topic("acme", "pump-1")
'iotbill/acme/devices/pump-1/events'
>>> parse_events_topic("iotbill/acme/devices/pump-1/events")
('acme', 'pump-1')
>>> hashed = hash_secret("s3cret", salt=bytes(12))
>>> hashed.split("$")[:4]
['', '7', '101', 'AAAAAAAAAAAAAAAA']
>>> secret_matches("s3cret", hashed), secret_matches("guess", hashed)
(True, False)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, replace
from datetime import datetime

from iotbill.domain.errors import Conflict, Problem
from iotbill.domain.periods import require_aware

TOPIC_ROOT = "iotbill"
HASH_ITERATIONS = 101
"""Mosquitto's own default for ``$7$`` hashes: enough for a secret of 256 random bits."""
SALT_BYTES = 12
_FORBIDDEN = frozenset("/+#:")


def events_topic(tenant: str, device: str) -> str:
    """Where ``device`` of ``tenant`` publishes its usage events."""
    return f"{TOPIC_ROOT}/{tenant}/devices/{device}/events"


def rejected_topic(tenant: str, device: str) -> str:
    """Where iotbill says why a message of ``device`` was not stored."""
    return f"{TOPIC_ROOT}/{tenant}/devices/{device}/rejected"


def parse_events_topic(topic: str) -> tuple[str, str] | None:
    """The tenant and device that ``topic`` names, if it is a device's events topic."""
    parts = topic.split("/")
    if len(parts) != 5 or parts[0] != TOPIC_ROOT or parts[2] != "devices":
        return None
    if parts[4] != "events" or not parts[1] or not parts[3]:
        return None
    return parts[1], parts[3]


def username_for(tenant: str, device: str) -> str:
    """The MQTT username of ``device`` of ``tenant``."""
    return f"{tenant}/{device}"


def topic_name_problem(field: str, value: str) -> Problem | None:
    """Why ``value`` cannot be a topic level, a username part or an ACL entry, if it cannot."""
    if not value:
        return Problem(field, "must not be empty")
    bad = sorted({c for c in value if c in _FORBIDDEN or c.isspace() or not c.isprintable()})
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        return Problem(
            field,
            f"{value!r} contains {shown}, which an MQTT topic level or the broker's password"
            " file cannot hold (use letters, digits, '-', '_' and '.')",
        )
    if value.startswith("$"):
        return Problem(field, f"{value!r} starts with '$', which MQTT reserves for the broker")
    return None


def hash_secret(secret: str, *, salt: bytes, iterations: int = HASH_ITERATIONS) -> str:
    """``secret`` hashed as Mosquitto's password file keeps it: ``$7$iterations$salt$hash``."""
    digest = hashlib.pbkdf2_hmac("sha512", secret.encode(), salt, iterations)
    return "$".join(
        [
            "",
            "7",
            str(iterations),
            base64.b64encode(salt).decode(),
            base64.b64encode(digest).decode(),
        ]
    )


def secret_matches(secret: str, hashed: str) -> bool:
    """Whether ``secret`` is the one ``hashed`` was made from (compared in constant time)."""
    parts = hashed.split("$")
    if len(parts) != 5 or parts[1] != "7":
        return False
    salt = base64.b64decode(parts[3])
    return hmac.compare_digest(hash_secret(secret, salt=salt, iterations=int(parts[2])), hashed)


@dataclass(frozen=True, slots=True)
class DeviceCredential:
    """One credential of one device: active until revoked. ``secret_hash`` is
    :func:`hash_secret` of the secret that was shown once."""

    device_id: str
    username: str
    secret_hash: str
    issued_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def revoke(self, at: datetime) -> DeviceCredential:
        """The credential revoked at ``at``; :class:`Conflict` if it already was."""
        at = require_aware(at, "at")
        if self.revoked_at is not None:
            raise Conflict(
                f"the credential of device {self.device_id!r} was revoked already"
                f" ({self.revoked_at.isoformat()})"
            )
        return replace(self, revoked_at=at)
