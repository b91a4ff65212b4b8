"""A store with one tenant, customer and devices, and a Mosquitto of the test's own."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_iotbill
from tests.mqtt_world import Broker, running_broker

TENANT = "acme"


@dataclass
class World:
    """A migrated SQLite store with tenant ``acme``, customer ``c1`` and its devices."""

    database: str
    broker: Broker
    directory: Path
    workers: list[subprocess.Popen[str]] = field(default_factory=list)
    devices: list[Device] = field(default_factory=list)

    def iotbill(self, *args: str) -> Any:
        result = run_iotbill(*args, "--database", self.database)
        assert result.exit_code == 0, result.stdout + result.stderr
        return result

    def add_device(self, device: str) -> None:
        self.iotbill("devices", "add", device, "--customer", "c1", "--from", "2026-01-01",
                     "--tenant", TENANT)  # fmt: skip

    def issue(self, device: str) -> str:
        """The secret of a new credential of ``device``; the broker reloaded."""
        result = self.iotbill("devices", "credentials", "issue", device, "--tenant", TENANT,
                              "--broker-dir", str(self.directory), "--json")  # fmt: skip
        return str(json.loads(result.stdout)["secret"])

    def connect(self, device: str) -> Device:
        """``device`` added, given a credential and connected with it."""
        self.add_device(device)
        connected = Device(self.broker.device_port, f"{TENANT}/{device}", self.issue(device))
        self.devices.append(connected)
        return connected

    def start_worker(self, client_id: str = "w1", *extra: str) -> subprocess.Popen[str]:
        worker = subprocess.Popen(
            [sys.executable, "-m", "iotbill.entrypoints.cli", "mqtt-ingest",
             "--broker", self.broker.worker_url, "--client-id", client_id,
             "--database", self.database, *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.workers.append(worker)
        return worker

    def start_subscribed_worker(
        self, client_id: str = "w1", *extra: str
    ) -> tuple[subprocess.Popen[str], list[str]]:
        """A worker once its subscription is in place, and the lines it wrote so far."""
        worker = self.start_worker(client_id, *extra)
        assert worker.stderr is not None
        lines: list[str] = []
        while not lines or "subscribed to" not in lines[-1]:
            line = worker.stderr.readline()
            assert line, "".join(lines)
            lines.append(line)
        return worker, lines

    def stop_worker(self, worker: subprocess.Popen[str]) -> str:
        """Stop ``worker`` gracefully; its standard error (its closing counts)."""
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        return err

    def stored_ids(self) -> list[str]:
        import sqlite3

        with sqlite3.connect(self.database) as connection:
            rows = connection.execute("SELECT event_id FROM usage_events ORDER BY event_id")
            return [row[0] for row in rows]

    def wait_for_stored(self, count: int, timeout: float = 60) -> list[str]:
        deadline = time.monotonic() + timeout
        while True:
            ids = self.stored_ids()
            if len(set(ids)) >= count or time.monotonic() > deadline:
                return ids
            time.sleep(0.2)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    database = str(tmp_path / "iotbill.db")
    for args in (
        ("db", "upgrade"),
        ("tenants", "add", TENANT),
        ("customers", "add", "c1", "--currency", "EUR", "--timezone", "UTC", "--tenant", TENANT),
    ):
        result = run_iotbill(*args, "--database", database)
        assert result.exit_code == 0, result.stderr
    directory = tmp_path / "broker"
    with running_broker(directory) as broker:
        found = World(database, broker, directory)
        try:
            yield found
        finally:
            for device in found.devices:
                device.close()
            for worker in found.workers:
                if worker.poll() is None:
                    worker.kill()
                    worker.communicate()


def event(id: str, device: str, m3: str = "1.5", at: str = "2026-01-09T12:00:00Z") -> bytes:
    return json.dumps(
        {
            "id": id,
            "type": "pump.flow",
            "device": device,
            "timestamp": at,
            "properties": {"m3": m3},
        }
    ).encode()


class Device:
    """A paho client connected as a device (MQTT 5), recording PUBACK reason codes."""

    def __init__(self, port: int, username: str, password: str) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.acks: dict[int, Any] = {}
        self.received: list[tuple[str, bytes]] = []
        self.connected = threading.Event()
        self.refused: Any = None
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"dev-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5,
        )  # fmt: skip
        self.client.username_pw_set(username, password)
        self.client.on_connect = self._on_connect
        self.client.on_publish = lambda c, u, mid, reason, props: self.acks.__setitem__(mid, reason)
        self.client.on_message = lambda c, u, m: self.received.append((m.topic, m.payload))
        self.client.max_inflight_messages_set(1000)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        deadline = time.monotonic() + 10
        while not self.connected.is_set() and self.refused is None:
            assert time.monotonic() < deadline, "no CONNACK"
            time.sleep(0.02)

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            self.refused = reason
        else:
            self.connected.set()

    def publish(self, topic: str, payload: bytes) -> Any:
        """Publish with QoS 1 and wait for the broker's PUBACK; its reason code."""
        info = self.client.publish(topic, payload, qos=1)
        info.wait_for_publish(timeout=10)
        deadline = time.monotonic() + 10
        while info.mid not in self.acks:
            assert time.monotonic() < deadline, "no PUBACK"
            time.sleep(0.01)
        return self.acks[info.mid]

    def publish_many(self, messages: list[tuple[str, bytes]]) -> None:
        """Publish each with QoS 1; return once the broker has acknowledged them all."""
        infos = [self.client.publish(topic, payload, qos=1) for topic, payload in messages]
        for info in infos:
            info.wait_for_publish(timeout=60)

    def subscribe(self, topic: str) -> None:
        self.client.subscribe(topic, qos=1)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def wait_until(condition: Callable[[], bool], timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
