"""The MQTT ingest worker: device messages from the broker into the ingest service.

The worker subscribes, with QoS 1, to every tenant's device events through a
shared subscription (``$share/{group}/iotbill/+/devices/+/events``, MQTT 5):
the broker hands each message to one worker of the group, so several workers
split the load. Messages are stored in batches (up to ``batch_size``, or what
arrived within ``linger`` seconds of the first) by
:func:`~iotbill.services.device_messages.store_messages`, and each message is
acknowledged only after its batch is committed. So:

* a worker killed at any moment loses nothing: its session is persistent
  (``clean_start`` off, a session expiry), and the broker delivers every
  message it has not acknowledged again when the worker reconnects with the
  same client id; an event stored before is then a duplicate, not a second unit;
* a broker restarted (with persistence) keeps the sessions and their queues;
  the worker reconnects by itself;
* a message acknowledged is committed. A batch read on an earlier connection
  is stored but not acknowledged (its packet ids belong to that connection);
  the broker sends it again and it is acknowledged then, as a duplicate.

A message that is refused (not JSON, not a usage event, too large, naming
another device than its topic, an unknown device) is acknowledged too, after
its reason is published to ``iotbill/{tenant}/devices/{device}/rejected``
as ``{"id": ..., "reason": ..., "topic": ...}``; it never stops the worker.
When the store itself fails (the database is down), nothing is acknowledged:
the batch is tried again, waiting longer each time, up to ``max_retry_wait``.

:class:`IngestMetrics` counts what happened, in Prometheus text format
(:meth:`IngestMetrics.render`), served by :func:`serve_metrics`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from iotbill.domain.device_credentials import TOPIC_ROOT, rejected_topic
from iotbill.domain.errors import InvalidInput
from iotbill.services.ports import BatchReport, DeviceMessage, MessageRejection

SUBSCRIPTION = f"{TOPIC_ROOT}/+/devices/+/events"
DEFAULT_GROUP = "iotbill-ingest"
DEFAULT_BATCH_SIZE = 1000
DEFAULT_LINGER = 0.05
DEFAULT_SESSION_EXPIRY = 7 * 24 * 3600
"""Seconds the broker keeps a stopped worker's session and messages: a week to restart it."""

log = logging.getLogger(__name__)
StoreBatch = Callable[[list[DeviceMessage]], BatchReport]


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    """Where the broker is, and who the worker is on it."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(
        cls, url: str, *, username: str | None = None, password: str | None = None
    ) -> BrokerAddress:
        """``mqtt://host:port`` (port 1883 by default); :class:`InvalidInput` otherwise."""
        parts = urlsplit(url)
        if parts.scheme != "mqtt" or not parts.hostname:
            raise InvalidInput.at("broker", f"{url!r} is not an mqtt://host:port address")
        try:
            port = parts.port or 1883
        except ValueError:
            raise InvalidInput.at("broker", f"{url!r} has an invalid port") from None
        return cls(
            parts.hostname,
            port,
            username if username is not None else parts.username,
            password if password is not None else parts.password,
        )


class IngestMetrics:
    """Counters of one worker, safe to update from several threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.received = self.stored = self.duplicates = self.rejected = 0
        self.batches = self.failures = self.connections = 0
        self.pending = 0
        self.oldest_pending: float | None = None  # monotonic time the oldest pending arrived
        self.connected = False

    def arrived(self, at: float) -> None:
        with self._lock:
            self.received += 1
            self.pending += 1
            if self.oldest_pending is None:
                self.oldest_pending = at

    def committed(self, report: BatchReport, count: int, oldest_left: float | None) -> None:
        with self._lock:
            self.batches += 1
            self.stored += report.stored
            self.duplicates += report.duplicates
            self.rejected += len(report.rejected)
            self.pending -= count
            self.oldest_pending = oldest_left

    def failed(self) -> None:
        with self._lock:
            self.failures += 1

    def connection(self, up: bool) -> None:
        with self._lock:
            self.connected = up
            self.connections += up

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {
                "received": self.received,
                "stored": self.stored,
                "duplicates": self.duplicates,
                "rejected": self.rejected,
            }

    def render(self, now: float | None = None) -> str:
        """The counters in Prometheus text format. ``lag`` is how long the oldest message
        received but not yet committed has waited (0 when none waits)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            lag = 0.0 if self.oldest_pending is None else max(0.0, now - self.oldest_pending)
            rows = [
                ("received", "counter", "Messages received from the broker.", self.received),
                ("stored", "counter", "Events newly stored.", self.stored),
                ("duplicates", "counter", "Events whose id was stored before.", self.duplicates),
                ("rejected", "counter", "Messages refused, with a reason.", self.rejected),
                ("batches", "counter", "Batches committed.", self.batches),
                ("store_failures", "counter", "Batches the store failed to take.", self.failures),
                ("connections", "counter", "Connections made to the broker.", self.connections),
                ("pending", "gauge", "Messages received, not yet committed.", self.pending),
                ("lag_seconds", "gauge", "Age of the oldest message not yet committed.", lag),
                ("connected", "gauge", "1 while connected to the broker.", int(self.connected)),
            ]
        lines = []
        for name, kind, text, value in rows:
            metric = f"iotbill_mqtt_ingest_{name}" + ("_total" if kind == "counter" else "")
            shown = f"{value:.3f}" if isinstance(value, float) else str(value)
            lines += [f"# HELP {metric} {text}", f"# TYPE {metric} {kind}", f"{metric} {shown}"]
        return "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class _Received:
    message: DeviceMessage
    mid: int
    qos: int
    connection: int
    at: float


class MqttIngestWorker:
    """One worker of the shared subscription ``group``; :meth:`run` until :meth:`stop`."""

    def __init__(
        self,
        store: StoreBatch,
        broker: BrokerAddress,
        *,
        client_id: str,
        group: str = DEFAULT_GROUP,
        batch_size: int = DEFAULT_BATCH_SIZE,
        linger: float = DEFAULT_LINGER,
        session_expiry: int = DEFAULT_SESSION_EXPIRY,
        max_retry_wait: float = 5.0,
        metrics: IngestMetrics | None = None,
    ) -> None:
        if batch_size < 1:
            raise InvalidInput.at("batch_size", f"must be at least 1, not {batch_size}")
        if linger < 0:
            raise InvalidInput.at("linger", "must not be negative")
        self._store = store
        self._broker = broker
        self._client_id = client_id
        self._group = group
        self._batch_size = batch_size
        self._linger = linger
        self._session_expiry = session_expiry
        self._max_retry_wait = max_retry_wait
        self.metrics = metrics or IngestMetrics()
        self._buffer: deque[_Received] = deque()
        self._ready = threading.Condition()
        self._connection = 0
        self._stopping = threading.Event()
        self._client = self._make_client()

    def _make_client(self) -> Any:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self._client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        if self._broker.username is not None:
            client.username_pw_set(self._broker.username, self._broker.password)
        client.reconnect_delay_set(min_delay=1, max_delay=5)
        client.max_queued_messages_set(0)
        client.max_inflight_messages_set(100)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        self._connect_properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        self._connect_properties.SessionExpiryInterval = self._session_expiry
        self._connect_properties.ReceiveMaximum = min(65535, max(100, 2 * self._batch_size))
        return client

    @property
    def client_id(self) -> str:
        return self._client_id

    def run(self) -> None:
        """Connect (retrying while the broker is away) and store batches until :meth:`stop`;
        then store what was received, acknowledge it and disconnect."""
        self._client.connect_async(
            self._broker.host,
            self._broker.port,
            keepalive=30,
            clean_start=False,
            properties=self._connect_properties,
        )
        self._client.loop_start()
        try:
            while not self._stopping.is_set() or self._buffer:
                batch = self._next_batch()
                if batch:
                    self._store_until_done(batch)
        finally:
            self._client.disconnect()
            self._client.loop_stop()

    def stop(self) -> None:
        """Stop after storing what has been received (safe from a signal handler)."""
        self._stopping.set()
        with self._ready:
            self._ready.notify_all()

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            log.warning("broker refused the connection: %s", reason)
            return
        with self._ready:
            self._connection += 1
        self.metrics.connection(True)
        client.subscribe(f"$share/{self._group}/{SUBSCRIPTION}", qos=1)

    def _on_subscribe(self, client: Any, userdata: Any, mid: int, reasons: Any, props: Any) -> None:
        if any(reason.is_failure for reason in reasons):
            log.error("the broker refused the subscription: %s", ", ".join(map(str, reasons)))
        else:
            log.info("subscribed to $share/%s/%s", self._group, SUBSCRIPTION)

    def _on_disconnect(
        self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        self.metrics.connection(False)
        if not self._stopping.is_set():
            log.warning("disconnected from the broker (%s): reconnecting", reason)

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        now = time.monotonic()
        received = DeviceMessage(message.topic, bytes(message.payload))
        with self._ready:
            self._buffer.append(
                _Received(received, message.mid, message.qos, self._connection, now)
            )
            self.metrics.arrived(now)
            if len(self._buffer) >= self._batch_size or len(self._buffer) == 1:
                self._ready.notify_all()

    def _next_batch(self) -> list[_Received]:
        """Up to ``batch_size`` messages: as soon as there are that many, or ``linger``
        seconds after the first arrived, or at once when stopping."""
        with self._ready:
            while not self._buffer and not self._stopping.is_set():
                self._ready.wait(0.5)
            if not self._buffer:
                return []
            deadline = self._buffer[0].at + self._linger
            while len(self._buffer) < self._batch_size and not self._stopping.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._ready.wait(left)
            count = min(self._batch_size, len(self._buffer))
            return [self._buffer.popleft() for _ in range(count)]

    def _store_until_done(self, batch: list[_Received]) -> None:
        wait = 0.1
        while True:
            try:
                report = self._store([received.message for received in batch])
            except Exception:
                self.metrics.failed()
                log.exception("storing a batch of %d messages failed: trying again", len(batch))
                time.sleep(wait)
                wait = min(2 * wait, self._max_retry_wait)
                continue
            break
        self._publish_rejections(batch, report.rejected)
        with self._ready:
            current = self._connection
            oldest = self._buffer[0].at if self._buffer else None
        for received in batch:
            if received.connection == current and received.qos > 0:
                self._client.ack(received.mid, received.qos)
        self.metrics.committed(report, len(batch), oldest)

    def _publish_rejections(
        self, batch: Sequence[_Received], rejections: Sequence[MessageRejection]
    ) -> None:
        for rejection in rejections:
            if rejection.tenant is None or rejection.device is None:
                log.warning(
                    "refused a message on %s: %s",
                    batch[rejection.index].message.topic,
                    rejection.reason,
                )
                continue
            body = {
                "id": rejection.event_id,
                "reason": rejection.reason,
                "topic": batch[rejection.index].message.topic,
            }
            self._client.publish(
                rejected_topic(rejection.tenant, rejection.device), json.dumps(body), qos=1
            )


def serve_metrics(metrics: IngestMetrics, host: str, port: int) -> ThreadingHTTPServer:
    """Serve ``GET /metrics`` (Prometheus text format) on a daemon thread; ``port`` 0 picks
    a free one (``server.server_address`` tells which). Stop with ``server.shutdown()``."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] != "/metrics":
                self.send_error(404, "only /metrics is here")
                return
            body = metrics.render().encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: a scrape every few seconds is not news."""

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server
