"""``iotbill serve --workers N``: each worker on a socket of its own, under a supervisor.

The connections of clients that connect together are spread over the workers; a worker
that dies is replaced; SIGTERM stops every worker gracefully; a supervisor killed outright
leaves no worker serving; a port in use and workers that cannot start are refused with
an exit code and a reason.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from iotbill.entrypoints.api.workers import balanced, serve_workers
from tests.api.conftest import Store
from tests.api.server import Server, free_port

pytestmark = pytest.mark.skipif(not balanced(), reason="workers on sockets of their own: Linux")

CONNECTIONS = 16
"""Connections opened together: all on one of two workers by chance is 1 in 32,768."""


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def workers_of(supervisor: int) -> list[int]:
    """The worker processes of ``supervisor`` (not the helper that tracks their resources)."""
    found = []
    for pid in children(supervisor):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in command:
            found.append(pid)
    return sorted(found)


def established_on(port: int) -> dict[str, int]:
    """The socket inodes of the connections established to local ``port``."""
    inodes: dict[str, int] = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state, inode = fields[1], fields[3], fields[9]
        if state == "01" and int(local.split(":")[1], 16) == port:
            inodes[inode] = 0
    return inodes


def connections_by_process(pids: list[int], port: int) -> dict[int, int]:
    """How many of the connections established to ``port`` each of ``pids`` holds."""
    inodes = established_on(port)
    held: dict[int, int] = {}
    for pid in pids:
        count = 0
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                count += 1
        held[pid] = count
    return held


def wait_until(condition: object, seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def test_connections_opened_together_reach_every_worker(
    sqlite_store: Store, tmp_path: Path
) -> None:
    """Connections that wait together to be accepted (clients starting at once) are not
    all taken by the worker that wakes first."""
    server = Server(sqlite_store.url, tmp_path / "spread.log", IOTBILL_API_WORKERS="2").start()
    assert server.process is not None
    supervisor = server.process.pid
    assert wait_until(lambda: len(workers_of(supervisor)) == 2)
    connections = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(CONNECTIONS)]
    try:
        for connection in connections:  # each is answered, and stays open
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        for connection in connections:
            assert connection.recv(4096).startswith(b"HTTP/1.1 200 ")
        held = connections_by_process(workers_of(supervisor), server.port)
        assert sum(held.values()) == CONNECTIONS
        assert all(held.values()), held
    finally:
        for connection in connections:
            connection.close()
        server.stop()


def test_a_worker_that_dies_is_replaced(sqlite_store: Store, tmp_path: Path) -> None:
    log = tmp_path / "replaced.log"
    server = Server(sqlite_store.url, log, IOTBILL_API_WORKERS="2").start()
    assert server.process is not None
    supervisor = server.process.pid
    try:
        assert wait_until(lambda: len(workers_of(supervisor)) == 2)
        first, second = workers_of(supervisor)
        os.kill(first, signal.SIGKILL)
        assert wait_until(
            lambda: len(workers_of(supervisor)) == 2 and first not in workers_of(supervisor)
        )
        assert second in workers_of(supervisor)
        for _ in range(10):  # new connections, each to either worker: all answered
            assert httpx.get(f"{server.url}/healthz", timeout=30).status_code == 200
        logged = log.read_text()
        assert '"a worker ended; starting another"' in logged
        assert f'"pid":{first},"exit_code":-{int(signal.SIGKILL)}' in logged
    finally:
        assert server.stop() == 0


def test_a_killed_supervisor_leaves_no_worker_serving(sqlite_store: Store, tmp_path: Path) -> None:
    server = Server(sqlite_store.url, tmp_path / "orphans.log", IOTBILL_API_WORKERS="2").start()
    assert server.process is not None
    supervisor = server.process.pid
    assert wait_until(lambda: len(workers_of(supervisor)) == 2)
    workers = workers_of(supervisor)
    server.kill()  # SIGKILL: the supervisor cannot pass anything on

    def gone() -> bool:
        return not any(Path(f"/proc/{pid}").exists() for pid in workers)

    assert wait_until(gone), "workers outlived their supervisor"
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{server.url}/healthz", timeout=2)
    server.start()  # the port is free again
    assert server.stop() == 0


def serve_on(port: int, database: str) -> subprocess.CompletedProcess[str]:
    """``iotbill serve --workers 2`` on ``port``, to its end (which should come soon)."""
    return subprocess.run(
        [sys.executable, "-m", "iotbill.entrypoints.cli", "serve", "--workers", "2",
         "--port", str(port)],
        env={**os.environ, "IOTBILL_DATABASE_URL": database},
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip


def test_a_port_in_use_is_refused(sqlite_store: Store) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = serve_on(port, sqlite_store.url)
    assert done.returncode == 1
    assert '"message":"cannot listen"' in done.stderr
    assert f'"address":"127.0.0.1:{port}"' in done.stderr
    assert "Address already in use" in done.stderr


def test_another_iotbill_on_the_same_port_is_refused(sqlite_store: Store, tmp_path: Path) -> None:
    """Two servers with workers of their own on one port would share its connections; the
    second is refused instead."""
    first = Server(sqlite_store.url, tmp_path / "first.log", IOTBILL_API_WORKERS="2").start()
    try:
        done = serve_on(first.port, sqlite_store.url)
        assert done.returncode == 1
        assert "Address already in use" in done.stderr
    finally:
        first.stop()


def test_workers_that_cannot_start_stop_the_supervisor() -> None:
    options = {"app": "iotbill.no_such_module:app", "log_level": "warning", "log_config": None}
    code = serve_workers(options, "127.0.0.1", free_port(), workers=2, graceful=5)
    assert code == 1
