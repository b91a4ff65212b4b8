"""Running the API: the app from the environment's settings, under uvicorn.

``iotbill serve`` calls :func:`serve`; each worker process builds its app with
:func:`app_from_environment` (uvicorn's factory), so every worker reads the same
settings from the environment. Several workers run under the supervisor of
:mod:`iotbill.entrypoints.api.workers`, which passes SIGTERM and SIGINT on.

Graceful shutdown: on SIGTERM or SIGINT uvicorn stops accepting connections,
lets the requests in flight finish (up to ``GRACEFUL_SECONDS``), then the app
closes its database connections. A request that was answered was committed
first; one cut short by a kill committed nothing it did not answer for, and
its client retries with the same idempotency key.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from iotbill.entrypoints.api.app import create_app
from iotbill.entrypoints.api.settings import ApiSettings

GRACEFUL_SECONDS = 30


def app_from_environment() -> FastAPI:
    """The app on the store that the environment names (``IOTBILL_DATABASE_URL``), wired by
    :func:`iotbill.bootstrap.bootstrap` as every entrypoint is."""
    from iotbill.adapters.storage.sql.engine import schema_is_current
    from iotbill.bootstrap import bootstrap
    from iotbill.entrypoints.api.logs import configure

    settings = ApiSettings()
    configure(settings.log_level)
    wired = bootstrap()
    engine = wired.engine
    assert engine is not None, "the service runs on a SQL store"

    def ready() -> str | None:
        try:
            if schema_is_current(engine):
                return None
            return "the store's schema is missing or old: run `iotbill db upgrade`"
        except Exception as error:  # the store does not answer: say why, stay up
            return f"the store does not answer: {type(error).__name__}"

    return create_app(
        uow_factory=wired.uow_factory,
        clock=wired.clock,
        settings=settings,
        ready=ready,
        on_shutdown=[engine.dispose],
    )


def serve(settings: ApiSettings) -> int:
    """Run the app until SIGTERM or SIGINT; the process's exit code (:func:`run`)."""
    from iotbill.entrypoints.api.logs import configure

    configure(settings.log_level)
    return run(
        "iotbill.entrypoints.api.server:app_from_environment",
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level=settings.log_level,
        factory=True,
    )


def run(
    app: str, *, host: str, port: int, workers: int, log_level: str, factory: bool = False
) -> int:
    """Serve the ASGI app named ``app`` (``module:attribute``) as ``iotbill serve`` serves
    its own, until SIGTERM or SIGINT; the process's exit code.

    One worker runs in this process. Several run as processes of their own, each
    on a socket of its own (:mod:`iotbill.entrypoints.api.workers`), so that the
    kernel spreads connections over them; where it cannot (not Linux), under
    uvicorn's workers, which share one socket.
    """
    import uvicorn

    from iotbill.entrypoints.api.workers import balanced, serve_workers

    options: dict[str, Any] = {
        "app": app,
        "factory": factory,
        "log_level": log_level,
        "access_log": False,
        "log_config": None,
        "timeout_graceful_shutdown": GRACEFUL_SECONDS,
        "proxy_headers": False,
    }
    if workers > 1 and balanced():
        return serve_workers(options, host, port, workers, GRACEFUL_SECONDS)
    uvicorn.run(host=host, port=port, workers=workers, **options)
    return 0
