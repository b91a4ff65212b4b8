"""``/healthz`` (the process answers) and ``/readyz`` (the store answers, schema at head).

Neither needs a key: load balancers and orchestrators call them.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from iotbill.entrypoints.api.auth import wiring_of
from iotbill.entrypoints.api.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="Alive: the process answers")
def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Health,
    summary="Ready: the store answers and its schema is at the latest migration",
    responses={503: {"model": Health, "description": "Not ready, and why"}},
)
async def readyz(request: Request) -> JSONResponse:
    problem = await run_in_threadpool(wiring_of(request).ready)
    if problem is None:
        return JSONResponse({"status": "ready", "detail": None})
    return JSONResponse({"status": "not ready", "detail": problem}, status_code=503)
