"""Structured logs: one JSON object per line on standard error, each with its request id.

A request's id is the caller's ``X-Request-Id`` when it is a sane token (1 to
64 letters, digits, ``.``, ``_``, ``-``), else a new random one; the answer
carries it back in ``X-Request-Id`` and every problem names it, so a user's
report leads to the log lines of that request::

    {"time": "2026-12-06T19:40:00.123456+00:00", "level": "info",
     "logger": "iotbill.api", "message": "request", "request_id": "5c1f...",
     "method": "POST", "path": "/v1/events", "status": 200,
     "duration_ms": 12.4, "key": "k3y1d0000000", "tenant": "acme"}
"""

from __future__ import annotations

import contextvars
import logging
import re
import secrets
import sys
import time
from datetime import UTC, datetime
from typing import Any

import msgspec
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "iotbill_request_id", default=None
)
_SANE = re.compile(rb"[A-Za-z0-9._-]{1,64}")
log = logging.getLogger("iotbill.api")
_STANDARD = set(vars(logging.makeLogRecord({})))


def current_request_id() -> str | None:
    """The id of the request being answered, if any."""
    return _REQUEST_ID.get()


class JsonFormatter(logging.Formatter):
    """A log record as one line of JSON, with its extra fields and the request id."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = current_request_id()
        if request_id is not None:
            entry["request_id"] = request_id
        for name, value in vars(record).items():
            if name not in _STANDARD and not name.startswith("_"):
                entry[name] = value
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return msgspec.json.encode(entry, enc_hook=str).decode()


def configure(level: str = "info") -> None:
    """Send iotbill's and uvicorn's logs to standard error as JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    for name in ("iotbill", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.propagate = False
        logger.setLevel(level.upper())
    logging.getLogger("uvicorn.access").disabled = True  # the request lines below replace it


class RequestLog:
    """ASGI middleware: gives each request its id and logs one line when it is answered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"")
        request_id = given.decode() if _SANE.fullmatch(given) else secrets.token_hex(16)
        token = _REQUEST_ID.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            state = scope.get("state", {})
            log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "key": state.get("key_id"),
                    "tenant": state.get("tenant"),
                },
            )
            _REQUEST_ID.reset(token)
