"""A Mosquitto of the test's own, configured as ``iotbill mqtt broker-config`` configures one.

Each broker runs on free loopback ports with its files in a directory of the
test; it is stopped (and its files removed with the directory) at the end.
"""

from __future__ import annotations

import getpass
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from iotbill.adapters.mqtt_broker import PID, BrokerFiles, Listener, broker_config
from tests.services import free_port, require_mosquitto


class Broker:
    """A running Mosquitto: its device and worker ports, its files; restartable."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.files = BrokerFiles(directory)
        self.device_port = free_port()
        self.worker_port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        config = broker_config(
            directory,
            devices=Listener(self.device_port, "127.0.0.1"),
            workers=Listener(self.worker_port, "127.0.0.1"),
            user=getpass.getuser(),
        )
        self.files.write_config(config)
        if not (directory / "devices.passwd").exists():
            self.files.write_credentials([])

    @property
    def worker_url(self) -> str:
        return f"mqtt://127.0.0.1:{self.worker_port}"

    def start(self) -> None:
        log = open(self.directory / "mosquitto.log", "ab")  # noqa: SIM115 (the broker keeps it)
        self.process = subprocess.Popen(
            [require_mosquitto(), "-c", str(self.directory / "mosquitto.conf")],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        (self.directory / PID).write_text(str(self.process.pid))
        for port in (self.device_port, self.worker_port):
            _wait_for_port(port, self.process)

    def stop(self) -> None:
        """Stop gracefully (the broker saves its sessions and queues)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=20)
        self.process = None
        (self.directory / PID).unlink(missing_ok=True)

    def log(self) -> str:
        return (self.directory / "mosquitto.log").read_text(errors="replace")


@contextmanager
def running_broker(directory: Path) -> Iterator[Broker]:
    broker = Broker(directory)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mosquitto exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"mosquitto did not listen on port {port}")


def signal_reload(directory: Path) -> None:
    pid = int((directory / PID).read_text())
    os.kill(pid, signal.SIGHUP)
