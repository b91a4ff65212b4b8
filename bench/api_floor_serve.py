"""Serves the floor app (``api_floor_app.py``) as ``iotbill serve`` serves iotbill: the same
uvicorn options, and with several workers the same supervisor, each worker on a socket of
its own (:mod:`iotbill.entrypoints.api.workers`).

Run from ``bench/``: ``python api_floor_serve.py PORT WORKERS``.
"""

from __future__ import annotations

import sys

import uvicorn

from iotbill.entrypoints.api.server import GRACEFUL_SECONDS
from iotbill.entrypoints.api.workers import balanced, serve_workers


def main() -> int:
    port, workers = int(sys.argv[1]), int(sys.argv[2])
    options = {
        "app": "api_floor_app:app",
        "log_level": "warning",
        "access_log": False,
        "log_config": None,
        "timeout_graceful_shutdown": GRACEFUL_SECONDS,
        "proxy_headers": False,
    }
    if workers > 1 and balanced():
        return serve_workers(options, "127.0.0.1", port, workers, GRACEFUL_SECONDS)
    uvicorn.run(host="127.0.0.1", port=port, workers=workers, **options)
    return 0


if __name__ == "__main__":
    sys.exit(main())
