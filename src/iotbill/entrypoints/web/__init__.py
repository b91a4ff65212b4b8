"""The dashboard: server-rendered pages under ``/app``, served by ``iotbill serve``.

Owns the pages (overview, customers, one customer, usage, adoption), the
sign-in with a tenant key into a signed session cookie (:mod:`.session`), the
charts (:mod:`.charts`, drawn by Plotly in the browser) and the static files.
It owns no query of its own: every figure comes from the services behind the
``/v1`` routes, through units of work of the signed-in key's tenant. The
Plotly library is served from the ``plotly`` package installed beside iotbill,
so the dashboard loads nothing from any other host. docs/dashboard.md
describes the pages.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from importlib.resources import files

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.responses import FileResponse, RedirectResponse, Response

from iotbill.entrypoints.api.settings import ApiSettings
from iotbill.entrypoints.web import adoption, customers, overview, sign_in, usage
from iotbill.entrypoints.web.session import SessionSigner

ROUTERS = (sign_in.router, overview.router, customers.router, usage.router, adoption.router)
STATIC_CACHE = "public, max-age=86400"


def plotly_path() -> str:
    """The minified Plotly library inside the installed ``plotly`` package."""
    return str(files("plotly") / "package_data" / "plotly.min.js")


def install(app: FastAPI, settings: ApiSettings) -> None:
    """Serve the dashboard on ``app``; sessions signed with the settings' secret.

    Without ``IOTBILL_API_SESSION_SECRET`` each server process draws a secret of
    its own: sessions then end when the server restarts, and with several
    workers the secret must be set (each worker would refuse the others' cookies).
    """
    secret = settings.session_secret
    app.state.session_signer = SessionSigner(
        secret.get_secret_value().encode() if secret is not None else secrets.token_bytes(32),
        timedelta(hours=settings.session_hours),
    )
    for router in ROUTERS:
        app.include_router(router)

    @app.get("/app/static/plotly.min.js", include_in_schema=False)
    def plotly_library() -> Response:
        return FileResponse(
            plotly_path(), media_type="text/javascript", headers={"Cache-Control": STATIC_CACHE}
        )

    @app.get("/app/", include_in_schema=False)
    def overview_with_slash() -> Response:
        return RedirectResponse("/app", 308)

    app.mount(
        "/app/static",
        StaticFiles(packages=[("iotbill.entrypoints.web", "static")]),
        name="dashboard-static",
    )
