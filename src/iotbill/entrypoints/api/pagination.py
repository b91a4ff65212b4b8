"""Cursor pagination, the same on every list.

A list answers ``{"data": [...], "next_cursor": "..." | null}``, at most
``limit`` items (1 to 500, default 100) in the list's own order. To read on,
send ``cursor=<next_cursor>``; ``null`` means there is no more. A cursor is the
sort key of the last item given, encoded (base64url of JSON): it stays right
while items are added, unlike an offset, and a bad one is 422 at ``cursor``.

The lists that grow with the business (customers, devices, subscriptions and
invoices) are paged by the store (:func:`store_page`): it reads the page's rows
only, so a page costs the same at the first item as at the millionth. The
others, a tenant's few keys, coupons or webhooks, are paged here (:func:`paginate`).

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
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

import msgspec
from fastapi import Query

from iotbill.domain.errors import InvalidInput
from iotbill.services.ports import Paging

T = TypeVar("T")
K = TypeVar("K")
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


def store_page(
    fetch: Callable[[Paging[K]], Sequence[T]],
    *,
    key: Callable[[T], list[str]],
    after: Callable[[list[str]], K],
    view: Callable[[T], Any],
    cursor: str | None,
    limit: int,
) -> dict[str, Any]:
    """A list route's answer, as :func:`page_view`'s, from a store that pages: ``fetch``
    gives the items after a store's key, at most the paging's limit, in order. ``after``
    turns a cursor's sort key (``key``'s, of the last item of the page before) into the
    store's (:class:`ValueError` if it cannot). One more item than the page is asked for:
    whether it comes tells whether to read on."""
    try:
        start = None if cursor is None else after(_decode(cursor))
    except ValueError:
        raise InvalidInput.at(
            "cursor", "is not a cursor this API gave (start again without one)"
        ) from None
    items = fetch(Paging(start, limit + 1))
    data = list(items[:limit])
    following = _encode(key(data[-1])) if len(items) > limit else None
    return {"data": [view(item) for item in data], "next_cursor": following}


def by_id(sort_key: list[str]) -> str:
    """The store's key of a list by id, from a cursor's."""
    if len(sort_key) != 1:
        raise ValueError("a cursor of a list by id holds one id")
    return sort_key[0]


def by_instant_then_id(sort_key: list[str]) -> tuple[datetime, str]:
    """The store's key of a list by an instant, then id, from a cursor's."""
    if len(sort_key) != 2:
        raise ValueError("a cursor of this list holds an instant and an id")
    moment = datetime.fromisoformat(sort_key[0])
    if moment.tzinfo is None:
        raise ValueError("the instant of a cursor must have an offset")
    return moment, sort_key[1]


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
