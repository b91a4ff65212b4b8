"""The HTTP API (``iotbill serve``): FastAPI under uvicorn.

Owns the HTTP surface only: routes (:mod:`.routes`), keys and scopes
(:mod:`.auth`), problem answers (:mod:`.problems`), idempotency
(:mod:`.idempotency`), limits (:mod:`.limits`), logs (:mod:`.logs`). The use
cases are the services'; the wiring comes from :mod:`.server`.
"""

from __future__ import annotations

from iotbill.entrypoints.api.app import create_app

__all__ = ["create_app"]
