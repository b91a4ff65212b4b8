"""The one place where errors become RFC 7807 ``application/problem+json`` answers.

Every error answer has the same shape::

    {"type": "urn:iotbill:problem:invalid_input", "title": "Invalid input",
     "status": 422, "detail": "customer: unknown customer 'c-9'",
     "code": "invalid_input", "errors": [{"field": "customer", "message": "..."}],
     "instance": "/v1/devices", "request_id": "3f2a..."}

``code`` is stable (programs branch on it); ``errors`` lists every problem with
its field path (``events[3].timestamp``, ``body.name``) when the input was at
fault. The domain's hierarchy maps to statuses here and nowhere else:

=============================  ======  ===============================
error                          status  code
=============================  ======  ===============================
InvalidInput                   422     invalid_input
NotFound                       404     not_found
Conflict (and its kinds)       409     conflict, idempotency_key_...
StoreUnavailable               503     store_unavailable
request body not JSON          400     malformed_json
no or unknown API key          401     unauthenticated
key lacks the scope            403     forbidden
body too large                 413     payload_too_large
not ``application/json``       415     unsupported_media_type
too many requests for the key  429     rate_limited (with Retry-After)
anything unexpected            500     internal_error (details only in the log)
=============================  ======  ===============================
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from iotbill.domain.errors import (
    Conflict,
    InvalidInput,
    IotbillError,
    NotFound,
    StoreUnavailable,
)
from iotbill.entrypoints.api.logs import current_request_id
from iotbill.services.idempotency import KeyInUse

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("iotbill.api")


class ApiProblem(Exception):
    """An error of the HTTP layer itself (authentication, limits, the body's form)."""

    status = 400
    code = "bad_request"
    title = "Bad request"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}


class MalformedJson(ApiProblem):
    status, code, title = 400, "malformed_json", "Malformed JSON"


class Unauthenticated(ApiProblem):
    status, code, title = 401, "unauthenticated", "Unauthenticated"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="iotbill"'})


class Forbidden(ApiProblem):
    status, code, title = 403, "forbidden", "Forbidden"


class PayloadTooLarge(ApiProblem):
    status, code, title = 413, "payload_too_large", "Payload too large"


class UnsupportedMediaType(ApiProblem):
    status, code, title = 415, "unsupported_media_type", "Unsupported media type"


class RateLimited(ApiProblem):
    status, code, title = 429, "rate_limited", "Too many requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """An RFC 7807 problem, as every error answer of the API gives it."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldError] = []
    instance: str | None = None
    request_id: str | None = None


_DOMAIN: list[tuple[type[IotbillError], int, str]] = [
    (InvalidInput, 422, "Invalid input"),
    (NotFound, 404, "Not found"),
    (Conflict, 409, "Conflict"),
    (StoreUnavailable, 503, "Store unavailable"),
]
_HTTP_TITLES = {404: "Not found", 405: "Method not allowed"}


def problem_response(error: Exception, request: Request) -> Response:
    """The problem+json answer to ``error`` (any exception)."""
    status, code, title, detail = 500, "internal_error", "Internal error", "unexpected error"
    errors: list[dict[str, str]] = []
    headers: dict[str, str] = {}
    if isinstance(error, ApiProblem):
        status, code, title, detail, headers = (
            error.status,
            error.code,
            error.title,
            error.detail,
            error.headers,
        )
    elif isinstance(error, IotbillError):
        for kind, kind_status, kind_title in _DOMAIN:
            if isinstance(error, kind):
                status, title = kind_status, kind_title
                break
        code, detail = error.code, str(error)
        if isinstance(error, InvalidInput):
            errors = [{"field": p.location, "message": p.message} for p in error.problems]
        if isinstance(error, KeyInUse):
            headers = {"Retry-After": str(error.retry_after)}
    elif isinstance(error, RequestValidationError):
        status, code, title = 422, "invalid_input", "Invalid input"
        if any(item.get("type") == "json_invalid" for item in error.errors()):
            status, code, title = 400, "malformed_json", "Malformed JSON"
        errors = [_validation_error(item) for item in error.errors()]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "invalid request"
    elif isinstance(error, StarletteHTTPException):
        status = error.status_code
        title = _HTTP_TITLES.get(status, "Error")
        code = title.lower().replace(" ", "_")
        if status == 400:  # the only 400 FastAPI raises: a body it cannot parse
            code, title = "malformed_json", "Malformed JSON"
        detail = str(error.detail)
        headers = dict(error.headers or {})
    else:
        log.exception("unexpected error", exc_info=error)
    body: dict[str, Any] = {
        "type": f"urn:iotbill:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "errors": errors,
        "instance": request.url.path,
        "request_id": current_request_id(),
    }
    return Response(msgspec.json.encode(body), status, headers=headers, media_type=PROBLEM_JSON)


def _validation_error(item: Any) -> dict[str, str]:
    location = [str(part) for part in item.get("loc", ())]
    if location and location[0] in ("body", "query", "path", "header"):
        where, rest = location[0], location[1:]
        field = ".".join(rest) if where == "body" else f"{where}.{'.'.join(rest)}"
    else:
        field = ".".join(location)
    return {"field": field, "message": str(item.get("msg", "invalid"))}


def install(app: FastAPI) -> None:
    """Answer every error of ``app`` with a problem (the one mapping above)."""

    async def handle(request: Request, error: Exception) -> Response:
        return problem_response(error, request)

    for kind in (
        ApiProblem,
        IotbillError,
        RequestValidationError,
        StarletteHTTPException,
        Exception,
    ):
        app.add_exception_handler(kind, handle)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI description of the problems a route may answer."""
    return {
        status: {
            "description": _DESCRIPTIONS[status],
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


_DESCRIPTIONS = {
    400: "Malformed JSON",
    401: "No valid API key",
    403: "The key lacks the scope",
    404: "Not found (or another tenant's)",
    409: "Conflict with the current state, or an idempotency key reused",
    413: "Body too large",
    415: "Body not application/json",
    422: "Invalid input: every problem with its field",
    429: "Rate limit: retry after Retry-After seconds",
}
