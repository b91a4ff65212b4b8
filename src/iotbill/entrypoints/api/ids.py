"""The URL-safe form of every resource id in the API.

An id made only of letters, digits, ``.``, ``_`` and ``-`` (``cust-42``,
``INV-2026-000123``) is used as it is. Any other id, e.g. a period-close
invoice ``sub-000001/close/2026-01-01T00:00:00+00:00``, which holds ``/`` and
``:``, becomes ``~`` followed by its UTF-8 bytes in base64url without padding
(RFC 4648 section 5): ``~c3ViLTAwMDAwMS9jbG9zZS8yMDI2LTAxLTAxVDAwOjAwOjAwKzAwOjAw``.
A plain id never starts with ``~``, so the two forms never collide, and every
id has exactly one URL form. Responses give ids in this form; paths take it.

>>> url_id("cust-42"), url_id("a/b")
('cust-42', '~YS9i')
>>> stored_id("~YS9i"), stored_id("cust-42")
('a/b', 'cust-42')
"""

from __future__ import annotations

import base64
import binascii
import re

_PLAIN = re.compile(r"[A-Za-z0-9._-]+")


def url_id(id: str) -> str:
    """The URL form of a stored id."""
    if _PLAIN.fullmatch(id):
        return id
    return "~" + base64.urlsafe_b64encode(id.encode()).decode().rstrip("=")


def stored_id(text: str) -> str | None:
    """The stored id of a URL form, or ``None`` if ``text`` is no id's URL form."""
    if not text.startswith("~"):
        return text if _PLAIN.fullmatch(text) else None
    encoded = text[1:]
    if not re.fullmatch(r"[A-Za-z0-9_-]+", encoded):
        return None
    try:
        decoded = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded if url_id(decoded) == text else None
