"""Several uvicorn workers, each accepting on a listening socket of its own.

uvicorn's own ``--workers`` hands one listening socket to every worker; the
worker that wakes first accepts whatever connections are waiting, so a few
keep-alive clients that connect together all land on one worker and the others
sit idle. Here each worker opens its own socket on the same address with
``SO_REUSEPORT``, and the kernel spreads new connections over the workers by a
hash of each connection's addresses.

The supervisor (the process ``iotbill serve`` started):

- holds the address while it runs: it binds it first, without ``SO_REUSEPORT``,
  so that a port already served (by anything, another iotbill included) is
  refused at start instead of shared; then it keeps a bound socket that never
  listens, so the port (a free one when 0 was asked for) stays its own while
  workers come and go;
- starts ``workers`` processes, lets them listen once all have loaded the app (so
  the first clients are spread too), and starts again any that ends while it runs;
  when workers keep ending within seconds of their start (a fault of the
  settings, not of a request) it stops, and exits with an error;
- on SIGTERM or SIGINT passes SIGTERM to each worker, which stops accepting,
  lets its requests in flight finish (up to the graceful timeout) and closes
  its store, then waits for them;
- is watched by its workers: each asks the kernel for SIGTERM when the
  supervisor dies, so a supervisor killed outright (SIGKILL) leaves no worker
  serving on its own.

Linux only: elsewhere ``SO_REUSEPORT`` does not spread connections, and
:func:`serve_workers` is not called (``iotbill serve`` uses uvicorn's workers).
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

log = logging.getLogger("iotbill.api")

QUICK_END_SECONDS = 10.0
"""A worker that ends sooner than this after its start ended by a fault of its start."""
QUICK_ENDS_ALLOWED = 5
"""Quick ends in a row after which the supervisor gives up."""
_PR_SET_PDEATHSIG = 1


def balanced() -> bool:
    """Whether this system spreads connections over sockets that share a port."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def _socket_for(host: str) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    return sock


def hold_address(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` that never listens: it refuses a port already in use,
    resolves port 0 to a free port, and keeps the port while the workers run."""
    probe = _socket_for(host)
    try:
        probe.bind((host, port))  # without SO_REUSEPORT: fails if anything listens there
        port = probe.getsockname()[1]
    finally:
        probe.close()
    holder = _socket_for(host)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    holder.bind((host, port))
    return holder


def listening_socket(host: str, port: int) -> socket.socket:
    """A worker's own socket on the shared address (uvicorn's server listens on it)."""
    sock = _socket_for(host)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(False)
    return sock


def _die_with(parent: int) -> None:
    """Ask the kernel for SIGTERM when the supervisor ends; if it already has, stop now."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGTERM)


def _worker(
    options: dict[str, Any], host: str, port: int, parent: int, loaded: Any, go: Any
) -> None:
    """One worker process: uvicorn's server on a socket of its own, listening once the
    supervisor says ``go`` (after every first worker has loaded the app)."""
    import uvicorn

    from iotbill.entrypoints.api.logs import configure

    configure(options.get("log_level", "info"))
    _die_with(parent)
    config = uvicorn.Config(**options)
    config.load()
    loaded.release()
    go.wait()
    uvicorn.Server(config).run(sockets=[listening_socket(host, port)])


class Supervisor:
    """Runs ``workers`` uvicorn processes of ``options`` (keyword arguments of
    ``uvicorn.Config``) on ``host:port`` until SIGTERM or SIGINT."""

    def __init__(
        self, options: dict[str, Any], host: str, port: int, workers: int, graceful: float
    ) -> None:
        self.options = options
        self.host = host
        self.port = port
        self.workers = workers
        self.graceful = graceful
        self.stopping = False
        self.context = multiprocessing.get_context("spawn")
        self.loaded = self.context.Semaphore(0)
        self.go = self.context.Event()

    def _stop(self, number: int, frame: FrameType | None) -> None:
        self.stopping = True

    def _start(self) -> tuple[BaseProcess, float]:
        process = self.context.Process(
            target=_worker,
            args=(self.options, self.host, self.port, os.getpid(), self.loaded, self.go),
            name="iotbill-api-worker",
        )
        process.start()
        return process, time.monotonic()

    def run(self) -> int:
        """Serve until asked to stop; 0 when stopped, 1 when workers would not stay up."""
        try:
            holder = hold_address(self.host, self.port)
        except OSError as error:
            log.error(
                "cannot listen", extra={"address": f"{self.host}:{self.port}", "reason": str(error)}
            )
            return 1
        self.port = holder.getsockname()[1]
        previous = {
            number: signal.signal(number, self._stop) for number in (signal.SIGTERM, signal.SIGINT)
        }
        running: dict[int, tuple[BaseProcess, float]] = {}
        quick_ends = 0
        code = 0
        try:
            for _ in range(self.workers):
                process, started = self._start()
                running[process.sentinel] = (process, started)
            self._open_when_loaded(running)
            log.info(
                "serving",
                extra={"address": f"{self.host}:{self.port}", "workers": self.workers},
            )
            while not self.stopping:
                for sentinel in wait(list(running), timeout=0.5):
                    process, started = running.pop(sentinel)  # type: ignore[arg-type]
                    process.join()
                    if self.stopping:
                        break
                    quick = time.monotonic() - started < QUICK_END_SECONDS
                    quick_ends = quick_ends + 1 if quick else 0
                    log.warning(
                        "a worker ended; starting another",
                        extra={"pid": process.pid, "exit_code": process.exitcode},
                    )
                    if quick_ends >= QUICK_ENDS_ALLOWED:
                        log.error(
                            "workers end as they start: stopping (see the errors above)",
                            extra={"quick_ends": quick_ends},
                        )
                        self.stopping = True
                        code = 1
                        break
                    process, started = self._start()
                    running[process.sentinel] = (process, started)
        finally:
            self._stop_all([process for process, _ in running.values()])
            for number, handler in previous.items():
                signal.signal(number, handler)
            holder.close()
        return code

    def _open_when_loaded(self, running: dict[int, tuple[BaseProcess, float]]) -> None:
        """Let the workers listen once all have loaded the app, so that the first clients
        do not all connect to the one worker that loaded first; at once if one ends or
        the supervisor is asked to stop (the loop that follows deals with either)."""
        waiting = self.workers
        while waiting and not self.stopping:
            if self.loaded.acquire(timeout=0.2):
                waiting -= 1
            elif any(not process.is_alive() for process, _ in running.values()):
                break
        self.go.set()

    def _stop_all(self, processes: list[BaseProcess]) -> None:
        """SIGTERM to each worker, then wait for their graceful ends (SIGKILL past it)."""
        for process in processes:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.graceful + 5
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                log.error("a worker did not stop in time: killed", extra={"pid": process.pid})
                process.kill()
                process.join()


def serve_workers(
    options: dict[str, Any], host: str, port: int, workers: int, graceful: float
) -> int:
    """Run the workers until SIGTERM or SIGINT; the process's exit code."""
    return Supervisor(options, host, port, workers, graceful).run()
