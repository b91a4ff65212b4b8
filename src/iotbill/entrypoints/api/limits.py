"""Limits at the door: the body's size and type, and each key's rate.

* A body larger than ``max_body_bytes`` is refused with 413 before it is read
  whole (by its ``Content-Length``, or as soon as the bytes streamed pass it).
* A ``POST`` with a body must be ``application/json`` (or a ``+json`` type):
  anything else is 415. The dashboard's forms under ``/app`` are the exception:
  they post ``application/x-www-form-urlencoded`` or ``multipart/form-data``.
* Each API key may make ``rate`` requests per second on average, and
  ``burst`` at once (a token bucket, refilled continuously). One request over
  is 429 with ``Retry-After``: the whole seconds until a token is back. The
  buckets live in each server process: with several workers, a key's limit is
  per worker.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from iotbill.entrypoints.api.problems import (
    ApiProblem,
    PayloadTooLarge,
    RateLimited,
    UnsupportedMediaType,
    problem_response,
)

FORM_PATHS = ("/app/",)
"""Paths whose ``POST`` may carry a form (the dashboard's)."""
FORM_MEDIA = (b"application/x-www-form-urlencoded", b"multipart/form-data")


class BodyLimits:
    """ASGI middleware refusing bodies too large (413) or not JSON (415)."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        problem = self._problem(headers, form_allowed=scope["path"].startswith(FORM_PATHS))
        if problem is not None:
            await self._refuse(problem, scope, receive, send)
            return
        seen = 0
        limit = self.max_body_bytes

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise PayloadTooLarge(f"the body is larger than {limit} bytes")
            return message

        await self.app(scope, counted, send)

    def _problem(self, headers: dict[bytes, bytes], *, form_allowed: bool) -> ApiProblem | None:
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            return PayloadTooLarge(
                f"the body has {int(length)} bytes; at most {self.max_body_bytes} are taken"
            )
        has_body = (length is not None and length != b"0") or b"transfer-encoding" in headers
        if not has_body:
            return None
        media = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if media == b"application/json" or (
            media.startswith(b"application/") and media.endswith(b"+json")
        ):
            return None
        if form_allowed and media in FORM_MEDIA:
            return None
        shown = media.decode(errors="replace") or "none"
        return UnsupportedMediaType(f"the body must be application/json, not {shown}")

    async def _refuse(
        self, problem: ApiProblem, scope: Scope, receive: Receive, send: Send
    ) -> None:
        response = problem_response(problem, Request(scope, receive))
        await response(scope, receive, send)


class RateLimiter:
    """Token buckets, one per key: ``rate`` tokens a second, at most ``burst`` held."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, when)
        self._lock = threading.Lock()

    def take(self, key: str) -> None:
        """Spend one of ``key``'s tokens; :class:`RateLimited` if it has none."""
        with self._lock:
            now = self._clock()
            tokens, when = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - when) * self.rate)
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                wait = math.ceil((1 - tokens) / self.rate)
                raise RateLimited(
                    f"key {key} made more than {self.burst} requests at once or"
                    f" {self.rate:g} a second: retry after {wait} s",
                    retry_after=max(1, wait),
                )
            self._buckets[key] = (tokens - 1, now)
