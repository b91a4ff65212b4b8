"""What every dashboard page shares: the signed-in caller, templates, and errors as pages.

:func:`signed_in` is the dependency of every page but the sign-in form: it
turns the session cookie into the same :class:`~iotbill.entrypoints.api.auth.Access`
an API route gets, so a page reads through units of work of the key's tenant
only, and another tenant's customer or invoice is simply not there.

:class:`PageRoute` answers a page's errors as pages, in one place: no
session, an expired one or one whose key was revoked goes to the sign-in form
(303); ``NotFound`` is a 404 page, ``InvalidInput`` a 422 page listing every
problem with its field (so is a parameter FastAPI refuses), a conflict 409, a
rate limit 429; anything else is
left to the API's handler (a 500 logged with its request id).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from functools import cache
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from iotbill.domain.errors import Conflict, InvalidInput, NotFound
from iotbill.entrypoints.api.auth import Access, wiring_of
from iotbill.entrypoints.api.problems import ApiProblem
from iotbill.entrypoints.web.session import COOKIE, SessionSigner
from iotbill.services import DEFAULT_TENANT
from iotbill.services.api_keys import active_key

SIGN_IN = "/app/sign-in"


class SignInRequired(Exception):
    """The request has no valid session: the page sends the browser to the sign-in form."""


def signer_of(request: Request) -> SessionSigner:
    signer: SessionSigner = request.app.state.session_signer
    return signer


def _session_access(request: Request) -> Access:
    wiring = wiring_of(request)
    signer = signer_of(request)
    value = request.cookies.get(COOKIE)
    claim = None if value is None else signer.read(value, wiring.clock.now())
    if claim is None:
        raise SignInRequired
    key = active_key(wiring.uow_factory, claim.key_id, DEFAULT_TENANT)
    if key is None or not signer.valid(claim, key) or not key.allows("billing:read"):
        raise SignInRequired
    request.scope["state"]["key_id"] = key.id
    request.scope["state"]["tenant"] = key.tenant
    wiring.limiter.take(key.id)
    return Access(key, wiring)


async def signed_in(request: Request) -> Access:
    """The page's :class:`Access`, from its session cookie; :class:`SignInRequired` if none."""
    return await run_in_threadpool(_session_access, request)


SignedIn = Annotated[Access, Depends(signed_in)]


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("iotbill.entrypoints.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def page(
    template: str, *, title: str, access: Access | None, status: int = 200, **values: Any
) -> HTMLResponse:
    """The page ``template`` rendered with ``values``, in the dashboard's frame."""
    html = (
        _environment()
        .get_template(template)
        .render(title=title, tenant=None if access is None else access.tenant, **values)
    )
    return HTMLResponse(
        html,
        status,
        headers={
            "Cache-Control": "no-store",
            "Content-Security-Policy": (
                "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                "img-src 'self' data:; frame-ancestors 'none'"
            ),
            "X-Content-Type-Options": "nosniff",
        },
    )


_ERRORS: list[tuple[type[Exception], int, str]] = [
    (NotFound, 404, "Not found"),
    (InvalidInput, 422, "Invalid input"),
    (Conflict, 409, "Conflict"),
]


def error_page(error: Exception) -> Response | None:
    """The page answering ``error``, or ``None`` for an error no page explains."""
    if isinstance(error, SignInRequired):
        return RedirectResponse(SIGN_IN, 303)
    if isinstance(error, RequestValidationError):
        return page(
            "error.html",
            title="Invalid input",
            access=None,
            status=422,
            detail="the request's parameters are not valid",
            problems=[
                (".".join(str(part) for part in item.get("loc", ())), str(item.get("msg")))
                for item in error.errors()
            ],
        )
    if isinstance(error, ApiProblem):
        return page(
            "error.html",
            title=error.title,
            access=None,
            status=error.status,
            detail=error.detail,
            problems=[],
        )
    for kind, status, title in _ERRORS:
        if isinstance(error, kind):
            problems = error.problems if isinstance(error, InvalidInput) else []
            return page(
                "error.html",
                title=title,
                access=None,
                status=status,
                detail=str(error),
                problems=[(p.location, p.message) for p in problems],
            )
    return None


class PageRoute(APIRoute):
    """A dashboard route: its errors become pages (:func:`error_page`)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as error:
                answer = error_page(error)
                if answer is None:
                    raise
                return answer

        return page_handler
