"""``/app/sign-in`` and ``/app/sign-out``: a tenant key in, a session cookie out.

The key travels once, in the body of a ``POST`` (never in a URL, so it is in
no log, history or ``Referer``), must hold ``billing:read`` and act for the whole tenant
(not one party). A refused key
shows the form again with 401 and one reason for every refusal (unknown,
wrong, revoked and short of the scope are not told apart beyond that).
Signing out clears the cookie. :mod:`.session` says what the cookie holds.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from iotbill.entrypoints.api.auth import wiring_of
from iotbill.entrypoints.web.pages import SIGN_IN, PageRoute, page, signer_of
from iotbill.entrypoints.web.session import COOKIE, PATH
from iotbill.services import DEFAULT_TENANT
from iotbill.services.api_keys import authenticate

router = APIRouter(prefix="/app", route_class=PageRoute, include_in_schema=False)

REFUSED = (
    "This key is unknown, revoked, lacks the billing:read scope,"
    " or acts for one customer only (the dashboard shows the whole tenant)."
)


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_form() -> HTMLResponse:
    return page("sign_in.html", title="Sign in", access=None, error=None)


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(request: Request) -> Response:
    wiring = wiring_of(request)
    client = request.client.host if request.client is not None else "unknown"
    wiring.limiter.take(f"sign-in:{client}")
    async with request.form() as form:
        presented = form.get("key")
    text = presented.strip() if isinstance(presented, str) else ""
    key = None
    if text:
        key = await run_in_threadpool(authenticate, wiring.uow_factory, text, DEFAULT_TENANT)
    if key is None or not key.allows("billing:read") or key.party is not None:
        return page("sign_in.html", title="Sign in", access=None, status=401, error=REFUSED)
    signer = signer_of(request)
    answer = RedirectResponse("/app", 303)
    answer.set_cookie(
        COOKIE,
        signer.issue(key, wiring.clock.now()),
        max_age=int(signer.lifetime.total_seconds()),
        path=PATH,
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )
    return answer


@router.post("/sign-out")
def sign_out(request: Request) -> Response:
    answer = RedirectResponse(SIGN_IN, 303)
    answer.delete_cookie(
        COOKIE, path=PATH, secure=request.url.scheme == "https", httponly=True, samesite="strict"
    )
    return answer
