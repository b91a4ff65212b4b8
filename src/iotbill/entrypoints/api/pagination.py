"""Cursor pagination, the same on every list.

A list answers ``{"data": [...], "next_cursor": "..." | null}``, at most
``limit`` items (1 to 500, default 100) in the list's own order. To read on,
send ``cursor=<next_cursor>``; ``null`` means there is no more. A cursor is the
sort key of the last item given, encoded (base64url of JSON): it stays right
while items are added, unlike an offset, and a bad one is 422 at ``cursor``.

>>> page = paginate(["a", "b", "c"], key=lambda item: [item], cursor=None, limit=2)
>>> page.data, page.next_cursor is not None
(['a', 'b'], True)
>>> paginate(["a", "b", "c"], key=lambda item: [item], cursor=page.next_cursor, limit=2).data
['c']
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

import msgspec
from fastapi import Query

from iotbill.domain.errors import InvalidInput

T = TypeVar("T")
DEFAULT_LIMIT = 100
MAX_LIMIT = 500

Limit = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description=f"Most items to give (default {DEFAULT_LIMIT}).")
]
Cursor = Annotated[
    str | None,
    Query(max_length=2048, description="The next_cursor of the page before; none: the start."),
]


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    data: list[T]
    next_cursor: str | None


def paginate(
    items: Sequence[T], *, key: Callable[[T], list[str]], cursor: str | None, limit: int
) -> Page[T]:
    """The page of ``items`` (sorted by ``key``) after ``cursor``."""
    after = None if cursor is None else _decode(cursor)
    chosen = [item for item in items if after is None or key(item) > after]
    chosen.sort(key=key)
    data = chosen[:limit]
    following = _encode(key(data[-1])) if len(chosen) > limit else None
    return Page(data, following)


def page_view(
    items: Sequence[T],
    *,
    key: Callable[[T], list[str]],
    view: Callable[[T], Any],
    cursor: str | None,
    limit: int,
) -> dict[str, Any]:
    """A list route's answer: the page of ``items`` after ``cursor``, each as ``view`` shows
    it, and the cursor that reads on (``None`` at the end)."""
    page = paginate(items, key=key, cursor=cursor, limit=limit)
    return {"data": [view(item) for item in page.data], "next_cursor": page.next_cursor}


def _encode(sort_key: list[Any]) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(sort_key)).decode().rstrip("=")


def _decode(cursor: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = msgspec.json.decode(raw)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        value = None
    if not isinstance(value, list) or not all(isinstance(part, str) for part in value):
        raise InvalidInput.at("cursor", "is not a cursor this API gave (start again without one)")
    return value
