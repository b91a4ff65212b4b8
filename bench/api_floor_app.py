"""The floor of the HTTP ingest benchmark: a FastAPI endpoint that takes the same bodies
and does nothing with them (it reads the body and answers a small JSON object).

Served as ``iotbill serve`` is (``api_floor_serve.py``: same workers, same loop), so the
ratio of the two rates is what iotbill's own work costs.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.responses import Response

app = FastAPI()


@app.post("/v1/events")
async def take(request: Request) -> Response:
    body = await request.body()
    return Response(b'{"received": %d}' % len(body), media_type="application/json")
