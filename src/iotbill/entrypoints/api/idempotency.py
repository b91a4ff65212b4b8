"""``Idempotency-Key`` on every ``POST``: a retry gets the first answer, never a second effect.

Routes registered on a router with ``route_class=IdempotentRoute`` honour the
header (:mod:`iotbill.services.idempotency` holds the rules). The request's
fingerprint is the SHA-256 of the API key's id and the request's method, path, query
and body bytes: an answer is replayed only to the key that got it first (whose rights
were checked then), and another key sending the same ``Idempotency-Key`` gets 409. An
answer is recorded when the request ran to an answer below 500, except the
refusals at the door (401, 403, 429), which did nothing and are not replayed.
A replayed answer carries ``Idempotent-Replayed: true``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from iotbill.domain.api_keys import ApiKey
from iotbill.domain.errors import InvalidInput
from iotbill.entrypoints.api.auth import caller, wiring_of
from iotbill.entrypoints.api.problems import problem_response
from iotbill.services import idempotency
from iotbill.services.idempotency import MAX_KEY_LENGTH, Answer, Claim

HEADER = "idempotency-key"
_NOT_RECORDED = {401, 403, 429}


class IdempotentRoute(APIRoute):
    """A route whose ``POST`` honours ``Idempotency-Key``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def idempotent_handler(request: Request) -> Response:
            key = request.headers.get(HEADER)
            if request.method != "POST" or key is None:
                return await handler(request)
            return await _run_once(request, key, handler)

        return idempotent_handler


async def _run_once(
    request: Request, key: str, handler: Callable[[Request], Awaitable[Response]]
) -> Response:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput.at(
            "header.Idempotency-Key", f"must be 1 to {MAX_KEY_LENGTH} printable characters"
        )
    body = await request.body()
    # One trip to a worker thread for the key and the hold: each trip waits its turn.
    api_key, held = await run_in_threadpool(_hold, request, key, body)
    if isinstance(held, Answer):
        return Response(
            held.body.encode(),
            held.status,
            media_type=held.content_type,
            headers={"Idempotent-Replayed": "true"},
        )
    return await _answer(request, handler, held, api_key.tenant)


def _hold(request: Request, key: str, body: bytes) -> tuple[ApiKey, Claim | Answer]:
    """The request's key (authenticated), and its hold on ``key`` or the first answer."""
    wiring = wiring_of(request)
    api_key = caller(request)
    digest = hashlib.sha256()
    for part in (
        api_key.id.encode(),
        request.method.encode(),
        request.url.path.encode(),
        request.url.query.encode(),
    ):
        digest.update(part + b"\n")
    digest.update(body)
    held = idempotency.claim(
        wiring.uow_factory,
        api_key.tenant,
        key,
        digest.hexdigest(),
        clock=wiring.clock,
        lease=timedelta(seconds=wiring.settings.idempotency_lease),
    )
    return api_key, held


async def _answer(
    request: Request,
    handler: Callable[[Request], Awaitable[Response]],
    held: Claim,
    tenant: str,
) -> Response:
    wiring = wiring_of(request)
    try:
        response = await handler(request)
    except Exception as error:
        response = problem_response(error, request)
    if response.status_code >= 500 or response.status_code in _NOT_RECORDED:
        await run_in_threadpool(idempotency.release, wiring.uow_factory, tenant, held)
        return response
    answer = Answer(
        response.status_code,
        response.headers.get("content-type", "application/json"),
        bytes(response.body).decode(),
    )
    await run_in_threadpool(idempotency.complete, wiring.uow_factory, tenant, held, answer)
    return response
