"""The FastAPI application: :func:`create_app` builds it from a :class:`Wiring`.

The order of the layers, outermost first: request log (request id, one JSON
line per request), body limits (413, 415), then FastAPI: authentication,
scopes, rate limit and tenant in :mod:`.auth`, idempotency in
:mod:`.idempotency`, every error answered by :mod:`.problems`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI

from iotbill.entrypoints import web
from iotbill.entrypoints.api import problems
from iotbill.entrypoints.api.auth import Wiring
from iotbill.entrypoints.api.limits import BodyLimits, RateLimiter
from iotbill.entrypoints.api.logs import RequestLog
from iotbill.entrypoints.api.routes import ROUTERS
from iotbill.entrypoints.api.settings import ApiSettings
from iotbill.services.ports import Clock, UnitOfWorkFactory

DESCRIPTION = """\
Usage events in; customers, devices, plans, subscriptions, invoices and credit notes as JSON.

Every `/v1` route needs an API key (`Authorization: Bearer iotbill_<id>_<secret>`) with
the scope it names. Errors are RFC 7807 `application/problem+json` with a stable `code`.
Lists are paginated by cursor. A `POST` with an `Idempotency-Key` header runs once.
"""


def create_app(
    *,
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    settings: ApiSettings | None = None,
    ready: Callable[[], str | None] | None = None,
    on_shutdown: Sequence[Callable[[], None]] = (),
) -> FastAPI:
    """The app on the store of ``uow_factory``, reading the time from ``clock``."""
    settings = settings or ApiSettings()
    wiring = Wiring(
        uow_factory=uow_factory,
        clock=clock,
        settings=settings,
        limiter=RateLimiter(settings.rate_per_second, settings.rate_burst),
        ready=ready or (lambda: None),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        for close in on_shutdown:
            close()

    app = FastAPI(
        title="iotbill",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.wiring = wiring
    problems.install(app)
    for router in ROUTERS:
        app.include_router(router)
    web.install(app, settings)
    _add_problem_schema(app)
    app.add_middleware(BodyLimits, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(RequestLog)
    return app


def _add_problem_schema(app: FastAPI) -> None:
    """Put the Problem schema in the OpenAPI document's components, for the routes' $refs."""
    build = app.openapi

    def openapi() -> dict[str, object]:
        if app.openapi_schema is None:
            document = build()
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            schemas.update(
                problems.Problem.model_json_schema(ref_template="#/components/schemas/{model}")[
                    "$defs"
                ]
            )
            problem = problems.Problem.model_json_schema(
                ref_template="#/components/schemas/{model}"
            )
            problem.pop("$defs", None)
            schemas["Problem"] = problem
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
