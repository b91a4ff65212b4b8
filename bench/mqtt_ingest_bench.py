"""Benchmark of MQTT ingestion: messages/s stored by one and two workers, beside a bare subscriber.

Starts a Mosquitto of its own (``iotbill mqtt broker-config``'s configuration, on
free loopback ports, persistence in a temporary directory) and a SQLite store
with ``--devices`` devices, each with its credential. For each consumer, the
broker first queues ``--messages`` usage events (QoS 1) for the consumer's
persistent session while the consumer is away; then the consumer is started
and the time it takes to drain the queue is measured, from its first message
to its last (so starting a process is not counted):

* **floor**: a bare subscriber (a paho-mqtt client in its own process) that
  only counts, QoS 1, acknowledged as each arrives;
* **one worker** and **two workers**: ``iotbill mqtt-ingest`` processes on the
  shared subscription, each storing batches through the ingest service and
  acknowledging after commit; the store is polled for its count of events.

The stored count is checked against the published count. Target: the stored
rate at least half the bare subscriber's rate.

Run: ``python bench/mqtt_ingest_bench.py [--messages N] [--devices D] [--batch-size B]``.
Bounded: every phase gives up after ``--timeout`` seconds. Asserts nothing about time.
"""

from __future__ import annotations

import argparse
import getpass
import json
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from iotbill.adapters.mqtt_broker import BrokerFiles, Listener, broker_config
from iotbill.adapters.storage.sql.engine import create_engine_for, upgrade
from iotbill.adapters.storage.sql.unit_of_work import sql_unit_of_work_factory
from iotbill.domain.customers import Customer, Device
from iotbill.services.device_credentials import broker_credentials, issue_credential
from iotbill.services.ports import Tenant

MOSQUITTO = "/usr/sbin/mosquitto"
TENANT = "bench"
START = datetime(2026, 1, 1, tzinfo=UTC)

BARE = """
import sys, time
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
port, expected = int(sys.argv[1]), int(sys.argv[2])
seen = {"count": 0, "first": None, "last": None}
def on_message(client, userdata, message):
    seen["count"] += 1
    now = time.time()
    seen["first"] = seen["first"] or now
    seen["last"] = now
    if seen["count"] >= expected:
        client.disconnect()
client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bare", protocol=mqtt.MQTTv5)
client.on_message = on_message
TOPIC = "$share/bare/iotbill/+/devices/+/events"
client.on_connect = lambda c, u, f, r, p: c.subscribe(TOPIC, qos=1)
properties = Properties(PacketTypes.CONNECT)
properties.SessionExpiryInterval = 3600
properties.ReceiveMaximum = 2000
client.connect("127.0.0.1", port, clean_start=False, properties=properties)
if sys.argv[3] == "subscribe":
    client.loop_start(); time.sleep(1); client.disconnect(); client.loop_stop()
else:
    client.loop_forever()
    print(seen["count"], seen["first"], seen["last"])
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def set_up(directory: Path, devices: int) -> tuple[str, dict[str, str]]:
    database = str(directory / "iotbill.db")
    engine = create_engine_for(database)
    upgrade(engine)
    open_uow = sql_unit_of_work_factory(engine)
    with open_uow("default") as uow:
        uow.tenants.add(Tenant(TENANT, "Bench"))
        uow.commit()
    with open_uow(TENANT) as uow:
        uow.customers.add(Customer.create(id="c1", name="c1", currency_code="EUR", timezone="UTC"))
        for n in range(devices):
            uow.devices.add(Device.create(f"meter-{n:03}", "c1", START))
        uow.commit()
    secrets = {
        f"meter-{n:03}": issue_credential(open_uow(TENANT), f"meter-{n:03}", at=START).secret
        for n in range(devices)
    }
    BrokerFiles(directory / "broker").write_credentials(broker_credentials(open_uow, "default"))
    engine.dispose()
    return database, secrets


class Broker:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.device_port, self.worker_port = free_port(), free_port()
        files = BrokerFiles(directory)
        files.write_config(
            broker_config(
                directory,
                devices=Listener(self.device_port, "127.0.0.1"),
                workers=Listener(self.worker_port, "127.0.0.1"),
                user=getpass.getuser(),
            )
        )
        files.write_credentials([])  # the devices' come once the store has them
        self.process = subprocess.Popen(
            [MOSQUITTO, "-c", str(directory / "mosquitto.conf")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for port in (self.device_port, self.worker_port):
            for _ in range(300):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.02)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(30)


def publish(broker: Broker, secrets: dict[str, str], messages: int, tag: str) -> None:
    """Publish ``messages`` events (QoS 1) spread over the devices, one thread each; return once
    the broker has acknowledged them all."""
    names = sorted(secrets)

    def run(index: int, name: str) -> None:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"pub-{name}", protocol=mqtt.MQTTv5
        )
        client.username_pw_set(f"{TENANT}/{name}", secrets[name])
        client.max_inflight_messages_set(1000)
        client.max_queued_messages_set(0)
        client.connect("127.0.0.1", broker.device_port)
        client.loop_start()
        topic = f"iotbill/{TENANT}/devices/{name}/events"
        infos = []
        for n in range(index, messages, len(names)):
            at = START + timedelta(seconds=n)
            body = {"id": f"{tag}-{n:08}", "type": "pump.flow", "device": name,
                    "timestamp": at.isoformat(), "properties": {"m3": "0.5"}}  # fmt: skip
            infos.append(client.publish(topic, json.dumps(body), qos=1))
        for info in infos:
            info.wait_for_publish(timeout=120)
        client.disconnect()
        client.loop_stop()

    threads = [threading.Thread(target=run, args=(i, name)) for i, name in enumerate(names)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def bare_rate(broker: Broker, secrets: dict[str, str], messages: int, timeout: float) -> float:
    port = str(broker.worker_port)
    subprocess.run([sys.executable, "-c", BARE, port, "0", "subscribe"], check=True, timeout=30)
    publish(broker, secrets, messages, "bare")
    found = subprocess.run(
        [sys.executable, "-c", BARE, port, str(messages), "drain"],
        capture_output=True, text=True, check=True, timeout=timeout,
    )  # fmt: skip
    count, first, last = found.stdout.split()
    assert int(count) == messages, found.stdout
    return (messages - 1) / (float(last) - float(first))


def stored(database: str) -> int:
    with sqlite3.connect(database, timeout=30) as connection:
        return int(connection.execute("SELECT COUNT(*) FROM usage_events").fetchone()[0])


def worker(
    broker: Broker, database: str, client_id: str, batch_size: int, group: str
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "iotbill.entrypoints.cli", "mqtt-ingest",
         "--broker", f"mqtt://127.0.0.1:{broker.worker_port}", "--client-id", client_id,
         "--batch-size", str(batch_size), "--group", group, "--database", database],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    return err.strip().splitlines()[-1]


def worker_rate(
    broker: Broker,
    secrets: dict[str, str],
    database: str,
    workers: int,
    messages: int,
    batch_size: int,
    timeout: float,
    tag: str,
) -> tuple[float, int]:
    """Stored messages/s for ``workers`` workers draining ``messages`` queued for them."""
    ids = [f"{tag}-{n}" for n in range(workers)]
    # A group of its own: the broker gives a share of the messages to every session of a
    # group, running or not, so the one-worker phase's session would take a third.
    started = [worker(broker, database, id, batch_size, tag) for id in ids]
    for process in started:  # each worker's session and subscription, then away
        assert process.stderr is not None
        while "subscribed to" not in process.stderr.readline():
            pass
    for process in started:
        stop(process)
    before = stored(database)
    publish(broker, secrets, messages, tag)
    running = [worker(broker, database, id, batch_size, tag) for id in ids]
    deadline = time.monotonic() + timeout
    first = None
    count = before
    while count < before + messages and time.monotonic() < deadline:
        count = stored(database)
        if first is None and count > before:
            first = (time.monotonic(), count)
        time.sleep(0.01)
    end = time.monotonic()
    for process in running:
        print(f"    {stop(process)}")
    assert first is not None
    return (count - first[1]) / (end - first[0]), count - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--devices", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    if shutil.which(MOSQUITTO) is None:
        sys.exit(f"{MOSQUITTO} is not installed (apt-get install mosquitto)")
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        broker = Broker(directory / "broker")
        database, secrets = set_up(directory, args.devices)
        broker.process.send_signal(signal.SIGHUP)  # the credentials just written
        time.sleep(0.5)
        try:
            print(f"MQTT ingest of {args.messages:,} events from {args.devices} devices, QoS 1,"
                  " SQLite store, acknowledged after commit")  # fmt: skip
            floor = bare_rate(broker, secrets, args.messages, args.timeout)
            print(f"  floor: bare counting subscriber   {floor:10,.0f} msg/s")
            for workers in (1, 2):
                rate, count = worker_rate(broker, secrets, database, workers, args.messages,
                                          args.batch_size, args.timeout, f"w{workers}")  # fmt: skip
                check = "all stored" if count == args.messages else f"ONLY {count:,} STORED"
                print(f"  {workers} worker{'s' if workers > 1 else ' '}: stored"
                      f"               {rate:10,.0f} msg/s   {rate / floor:5.2f} x floor"
                      f"   ({count:,} of {args.messages:,} published: {check})")  # fmt: skip
            print("  target: at least 0.5 x floor")
        finally:
            broker.stop()


if __name__ == "__main__":
    main()
