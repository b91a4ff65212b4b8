"""Serves the floor app (``api_floor_app.py``) as ``iotbill serve`` serves iotbill: by the
same function (:func:`iotbill.entrypoints.api.server.run`), so with the same uvicorn options
and, with several workers, the same supervisor, each worker on a socket of its own.

Run from ``bench/``: ``python api_floor_serve.py PORT WORKERS``.
"""

from __future__ import annotations

import sys

from iotbill.entrypoints.api.server import run


def main() -> int:
    port, workers = int(sys.argv[1]), int(sys.argv[2])
    return run(
        "api_floor_app:app", host="127.0.0.1", port=port, workers=workers, log_level="warning"
    )


if __name__ == "__main__":
    sys.exit(main())
